"""URLs (namespace ``sso``)."""

from django.urls import URLPattern, URLResolver

app_name = "sso"
urlpatterns: list[URLPattern | URLResolver] = []
