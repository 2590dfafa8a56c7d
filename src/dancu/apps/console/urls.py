"""URLs of the staff console (namespace ``console``)."""

from django.urls import path

from dancu.apps.console import views

app_name = "console"
urlpatterns = [
    path("", views.search, name="search"),
    path("organisation/", views.organisation, name="organisation"),
    path("citizens/<str:id_number>/", views.citizen, name="citizen"),
    path("alerts/", views.alert_hits, name="alert-hits"),
]
