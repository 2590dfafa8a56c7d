"""URLs (namespace ``eiddesk``)."""

from django.urls import URLPattern, URLResolver

app_name = "eiddesk"
urlpatterns: list[URLPattern | URLResolver] = []
