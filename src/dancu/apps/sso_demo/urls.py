"""URLs (namespace ``sso_demo``)."""

from django.urls import URLPattern, URLResolver

app_name = "sso_demo"
urlpatterns: list[URLPattern | URLResolver] = []
