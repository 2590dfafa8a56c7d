from django.urls import path

from dancu.apps.public_services import views

app_name = "public_services"

urlpatterns = [
    path("", views.catalogue_page, name="catalogue"),
    path("nop/<slug:code>/", views.submit, name="submit"),
    path("ho-so/", views.my_dossiers, name="mine"),
    path("ho-so/<str:tracking_code>/", views.my_dossier, name="dossier"),
    path("ho-so/<str:tracking_code>/ket-qua/", views.result, name="result"),
    path("hop-thu/", views.inbox, name="inbox"),
    path("xac-minh/<str:tracking_code>/", views.verify, name="verify"),
    path("can-bo/", views.work_queue, name="queue"),
    path("can-bo/<str:tracking_code>/", views.official_dossier, name="official_dossier"),
    path("can-bo/<str:tracking_code>/<slug:action>/", views.official_action, name="official_action"),
]
