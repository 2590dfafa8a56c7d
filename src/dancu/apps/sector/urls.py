"""URLs of sector digitisation pages (namespace ``sector``, mounted at ``/so-hoa/``); the data API
is ``/api/v1/sector/data/…`` (``api.py``)."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.sector import views

app_name = "sector"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("<str:code>/<str:version>/", views.registry, name="registry"),
]
