from django.urls import path

from dancu.apps.exchange_admin import views

app_name = "exchange_admin"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("members/", views.members, name="members"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:grant_id>/decide/", views.grant_decide, name="grant-decide"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("log/", views.log, name="log"),
    path("log/<int:message_id>/evidence.json", views.evidence, name="evidence"),
    path("flags/", views.flags, name="flags"),
    path("try/", views.try_call, name="try"),
]
