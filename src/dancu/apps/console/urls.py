from django.urls import path

from dancu.apps.console import views

app_name = "console"
urlpatterns = [
    path("", views.search, name="search"),
]
