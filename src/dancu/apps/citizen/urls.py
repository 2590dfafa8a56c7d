"""URLs (namespace ``citizen``)."""

from django.urls import URLPattern, URLResolver

app_name = "citizen"
urlpatterns: list[URLPattern | URLResolver] = []
