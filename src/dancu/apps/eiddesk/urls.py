"""URLs of the commune police's eID desk (namespace ``eiddesk``, mounted at ``/eid-desk/``)."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.eiddesk import views

app_name = "eiddesk"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.pending, name="pending"),
    path("registrations/<int:registration_id>/decide/", views.decide, name="decide"),
    path("activate/", views.activate, name="activate"),
    path("activate/foreigner/", views.activate_foreigner, name="activate_foreigner"),
    path("present/", views.present, name="present"),
]
