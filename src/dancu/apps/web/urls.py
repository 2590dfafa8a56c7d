"""URLs of the platform's public pages and the staff log-in (namespace ``web``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from dancu.apps.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
