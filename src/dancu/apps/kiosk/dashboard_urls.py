from django.urls import path

from dancu.apps.kiosk import dashboard_views

app_name = "evaluation"

urlpatterns = [path("", dashboard_views.dashboard_page, name="dashboard")]
