"""URLs of the platform's public pages and the staff log-in (namespace ``web``)."""

from django.urls import path

from dancu.apps.web import sso, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Staff sign in to the platform's applications through its own OpenID Connect provider
    # (ADR 0011): /login/ starts the flow, the provider's log-in page is /eid/login/.
    path("login/", sso.login, name="login"),
    path("login/callback", sso.callback, name="login_callback"),
    path("logout/", sso.logout, name="logout"),
]
