"""URLs of the citizen's eID pages (namespace ``citizen``, mounted at ``/eid/``)."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.citizen import views

app_name = "citizen"
urlpatterns: list[URLPattern | URLResolver] = [
    path("register/", views.register, name="register"),
    path("register/phone/", views.register_phone, name="register_phone"),
    path("register/foreigner/", views.register_foreigner, name="register_foreigner"),
    path("register/at-14/", views.claim, name="claim"),
    path("login/", views.login_page, name="login"),
    path("login/second/", views.login_second, name="login_second"),
    path("login/qr/<str:token>/", views.qr_status, name="qr_status"),
    path("device/approve/<str:token>", views.device_approve, name="device_approve"),
    path("logout/", views.logout_view, name="logout"),
    path("step-up/", views.step_up, name="step_up"),
    path("recover/", views.recover, name="recover"),
    path("recover/finish/", views.recover_finish, name="recover_finish"),
    path("me/", views.me, name="me"),
    path("me/sessions/<int:session_id>/revoke/", views.revoke_session, name="revoke_session"),
    path("me/consents/<int:consent_id>/revoke/", views.revoke_consent, name="revoke_consent"),
    path("me/exchanges/<int:message_id>/flag/", views.flag_exchange, name="flag_exchange"),
    path("me/totp/", views.totp_enrol, name="totp"),
    path("me/children/register/", views.child_register, name="child_register"),
    path("me/children/<int:account_id>/", views.child_present, name="child_present"),
    path("me/children/<int:account_id>/history/", views.child_history, name="child_history"),
    path("me/enterprise/", views.enterprise, name="enterprise"),
    path("me/enterprise/links/", views.enterprise_links, name="enterprise_links"),
]
