"""URLs of the land office's pages (namespace ``land``, mounted at ``/dat-dai/``)."""

from django.urls import URLPattern, URLResolver, path

from dancu.apps.land import views

app_name = "land"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("cua-toi/", views.mine, name="mine"),
    path("so/<int:register_id>/", views.register, name="register"),
    path("so/<int:register_id>/dinh-chinh/<int:correction_id>/", views.correction, name="correction"),
    path("so/<int:register_id>/export.<str:fmt>", views.export, name="export"),
]
