"""URLs of residence notification (namespace ``residence``)."""

from django.urls import path

from dancu.apps.residence import views, views_more

app_name = "residence"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("stays/<int:stay_id>/<str:action>/", views.stay_action, name="stay-action"),
    path("police/", views.police, name="police"),
    path("police/trips/", views_more.police_trips, name="police-trips"),
    path("coach/", views_more.coach, name="coach"),
    path("coach/trips/<int:trip_id>/", views_more.trip, name="trip"),
    path("hospital/", views_more.hospital, name="hospital"),
    path("hospital/<int:stay_id>/<str:action>/", views_more.hospital_action, name="hospital-action"),
    path("statistics/", views_more.statistics, name="statistics"),
    path("webhooks/", views_more.webhooks_page, name="webhooks"),
]
