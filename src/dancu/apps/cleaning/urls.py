"""URLs of the data-cleaning jobs (namespace ``cleaning``, mounted at ``/cleaning/``)."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.cleaning import views

app_name = "cleaning"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("jobs/<int:job_id>/progress/", views.progress, name="progress"),
    path("jobs/<int:job_id>/review/", views.review, name="review"),
    path("jobs/<int:job_id>/review/<int:record_id>/", views.decide, name="decide"),
    path("jobs/<int:job_id>/export.<str:fmt>", views.export, name="export"),
]
