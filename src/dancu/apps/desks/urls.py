"""URLs of the desks (namespace ``desks``)."""

from django.urls import path

from dancu.apps.desks import views

app_name = "desks"
urlpatterns = [
    path("clinic/", views.clinic, name="clinic"),
    path("clinic/encounters/", views.encounters, name="encounters"),
    path("clinic/encounters/<int:encounter_id>/status/", views.encounter_status, name="encounter-status"),
    path("kiosk/", views.kiosk, name="kiosk"),
    path("kiosk/enrol/", views.kiosk_enrol, name="kiosk-enrol"),
    # Links of before 2026-12 carried the device key in the path: refused (410), key ignored.
    path("kiosk/enrol/<str:key>/", views.kiosk_enrol_link_retired, name="kiosk-enrol-retired"),
    path("notary/", views.notary, name="notary"),
    path("notary/acts/<int:act_id>/", views.act, name="act"),
    path("receipt-check/", views.receipt_check, name="receipt-check"),
    path("receipts/<str:receipt_id>/", views.receipt, name="receipt"),
    path("receipts/<str:receipt_id>/verify/", views.receipt_verify, name="receipt-verify"),
    path("business/", views.business, name="business"),
]
