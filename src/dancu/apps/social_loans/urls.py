"""URLs of the social-policy loans application (namespace ``social_loans``, at ``/vay-von/``)."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.social_loans import views

app_name = "social_loans"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("kiem-tra/", views.check, name="check"),
    path("nhap-danh-sach/", views.import_list, name="import"),
    path("danh-sach/<int:list_id>/", views.list_detail, name="list"),
    path("quyet-dinh/", views.decisions, name="decisions"),
    path("quyet-dinh/export.<str:fmt>", views.export, name="export"),
    path("quyet-dinh/<str:reference>/", views.decision, name="decision"),
    path("quy-tac/<str:code>/", views.rules_page, name="rules"),
]
