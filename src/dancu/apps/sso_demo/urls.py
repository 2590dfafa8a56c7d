"""URLs (namespace ``sso_demo``): /demo/portal/ and /demo/app/."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.sso_demo import views

app_name = "sso_demo"
urlpatterns: list[URLPattern | URLResolver] = [
    path("<slug:slug>/", views.home, name="home"),
    path("<slug:slug>/login", views.login, name="login"),
    path("<slug:slug>/callback", views.callback, name="callback"),
    path("<slug:slug>/logout", views.logout, name="logout"),
]
