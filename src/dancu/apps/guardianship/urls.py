"""URLs of the guardianship desk (namespace ``guardianship``, mounted at ``/giam-ho/``)."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.guardianship import views

app_name = "guardianship"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.child, name="child"),
    path("guardianships/", views.record_guardianship, name="record_guardianship"),
    path("guardianships/end/", views.end_guardianship, name="end_guardianship"),
    path("restrictions/", views.record_restriction, name="record_restriction"),
    path("restrictions/lift/", views.lift_restriction, name="lift_restriction"),
]
