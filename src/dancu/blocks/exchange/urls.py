"""``/exchange/…``: the GovStack IM directory first (its paths are fixed), then the gateway."""

from django.urls import path, re_path

from dancu.blocks.exchange import views

app_name = "exchange"

_PART = r"[A-Za-z0-9._-]{1,64}"
_SUB = rf"(?P<instance>{_PART})/(?P<member_class>{_PART})/(?P<member>{_PART})/(?P<subsystem>{_PART})"

urlpatterns = [
    path("openapi.json", views.openapi, name="openapi"),
    path("listClients", views.list_clients, name="list-clients"),
    path("r1/listClients", views.list_clients),
    re_path(
        rf"^r1/{_SUB}/(?P<operation>listMethods|allowedMethods|getOpenAPI)$",
        views.metaservice,
        name="metaservice",
    ),
    re_path(rf"^r1/{_SUB}/events(?:/(?P<ack>ack))?$", views.events, name="events"),
    re_path(rf"^r1/{_SUB}/(?P<service>{_PART})(?:/(?P<path>.*))?$", views.exchange),
    re_path(rf"^{_SUB}/(?P<service>{_PART})(?:/(?P<path>.*))?$", views.exchange, name="gateway"),
]
