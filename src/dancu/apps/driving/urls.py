"""URLs of the driving schools and test centres (namespace ``driving``)."""

from django.urls import path

from dancu.apps.driving import views

app_name = "driving"
urlpatterns = [
    path("", views.index, name="index"),
    path("enrol/", views.enrol, name="enrol"),
    path("enrolments/<int:pk>/", views.enrolment, name="enrolment"),
    path("enrolments/<int:pk>/check/", views.check, name="check"),
    path("flagged/", views.flagged, name="flagged"),
]
