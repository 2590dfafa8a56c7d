from django.urls import path

from dancu.apps.public_services import refund_views, views

app_name = "public_services"

urlpatterns = [
    path("", views.catalogue_page, name="catalogue"),
    path("nop/<slug:code>/", views.submit, name="submit"),
    path("ho-so/", views.my_dossiers, name="mine"),
    path("ho-so/<str:tracking_code>/", views.my_dossier, name="dossier"),
    path("ho-so/<str:tracking_code>/tai-lieu/<slug:item>/", views.my_document, name="document"),
    path("ho-so/<str:tracking_code>/ket-qua/", views.result, name="result"),
    path("ho-so/<str:tracking_code>/dong-y/", views.consent, name="consent"),
    path("ho-so/<str:tracking_code>/thanh-toan/", views.pay, name="pay"),
    path("nhap/<slug:code>/xoa/", views.discard_draft, name="discard_draft"),
    path("thanh-toan-thu/<str:reference>/", views.dev_gateway, name="dev_gateway"),
    path("thanh-toan/ket-qua/", views.payment_return, name="payment_return"),
    path("thanh-toan/ipn/", views.payment_ipn, name="payment_ipn"),
    path("hop-thu/", views.inbox, name="inbox"),
    path("xac-minh/<str:tracking_code>/", views.verify, name="verify"),
    path("can-bo/", views.work_queue, name="queue"),
    # Before ``can-bo/<tracking_code>/``, which would take "hoan-tien" for a tracking code.
    path("can-bo/hoan-tien/", refund_views.refunds_page, name="refunds"),
    path("can-bo/hoan-tien/<str:reference>/", refund_views.refund_mark, name="refund_mark"),
    path("can-bo/<str:tracking_code>/", views.official_dossier, name="official_dossier"),
    path(
        "can-bo/<str:tracking_code>/tai-lieu/<slug:item>/",
        views.official_document,
        name="official_document",
    ),
    path("can-bo/<str:tracking_code>/<slug:action>/", views.official_action, name="official_action"),
]
