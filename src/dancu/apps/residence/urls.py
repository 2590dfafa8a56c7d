"""URLs of residence notification (namespace ``residence``)."""

from django.urls import path

from dancu.apps.residence import views

app_name = "residence"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("stays/<int:stay_id>/<str:action>/", views.stay_action, name="stay-action"),
    path("police/", views.police, name="police"),
]
