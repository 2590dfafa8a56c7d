"""URLs of the platform's public pages and the staff log-in (namespace ``web``)."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from dancu.apps.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # The one log-in page is /eid/login/ (citizens and staff, issue 4); the old address keeps
    # working and keeps ``next``.
    path("login/", RedirectView.as_view(pattern_name="citizen:login", query_string=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
