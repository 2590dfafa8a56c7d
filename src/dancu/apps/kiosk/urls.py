from django.urls import path

from dancu.apps.kiosk import views

app_name = "kiosk"

urlpatterns = [
    path("", views.start, name="start"),
    path("ghi-danh/", views.enrol, name="enrol"),
    # Links of before 2026-12 carried the device key in the path: refused (410), key ignored.
    path("ghi-danh/<str:key>/", views.enrol_link_retired, name="enrol-retired"),
    # After a QR: the one-time code to the eID account's verified phone (ADR 0013, decision 3).
    path("ma-xac-thuc/", views.code, name="code"),
    path("dich-vu/", views.services_page, name="services"),
    path("dich-vu/<slug:code>/", views.service_form, name="form"),
    path("bien-nhan/<str:tracking_code>/", views.receipt, name="receipt"),
    path("hien-thi/", views.display, name="display"),
    path("ket-thuc/", views.end, name="end"),
]
