"""Who may touch the persons' records of a sector registry, and what the persons see (Law
91/2025/QH15 Art. 3 purpose limitation; ADR 0002). The owning organisation alone is not enough:
its members act on personal data only under the purpose their role carries. Named actors of Sở
Nội vụ:

* ``canbo.sonoivu`` (officer, ``data.cleaning``) and the department's HRM system (its API key):
  create, read, check, update, list, delete — each action on the person's access history;
* ``nhanvien.sonoivu`` (clerk), ``kiemtra.sonoivu`` (auditor), ``thongke.sonoivu`` (statistics):
  refused through the API with a session, nothing read or changed, the refusal audited;
* ``quantri.sonoivu`` (administrator): defines registries, reads no person's record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.apps.sector import services
from dancu.apps.sector.models import SectorEntry
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied
from tests.apps.sector.test_sector import AN, BASE, JOB, _call, _query
from tests.conftest import HANOI, Person


@pytest.fixture
def an_recorded(sonv: dict[str, Person], nguyen_van_an: CitizenView) -> services.Record:
    return services.create(sonv["officer"].actor, "LAODONG", "1.0", {**AN, **JOB})


@pytest.mark.parametrize(
    ("username", "role"),
    [("nhanvien.sonoivu", "clerk"), ("kiemtra.sonoivu", "auditor"), ("thongke.sonoivu", "statistics")],
)
def test_members_without_the_purpose_are_refused_through_the_api_with_a_session(
    username: str,
    role: str,
    an_recorded: services.Record,
    make_person: Callable[..., Person],
    logged_in: Callable[[Person], Client],
) -> None:
    member = make_person(username, org_code="SO-NV", kind="department", role=role, province=HANOI)
    c = logged_in(member)
    before = AuditEvent.objects.filter(result=AuditEvent.Result.OK, action__startswith="sector.").count()
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("get", f"{BASE}?search=Nguyễn", None),
        ("post", f"{BASE}/read", _query(AN["ID"])),
        ("post", f"{BASE}/exists", _query(AN["ID"])),
        ("put", f"{BASE}/update", {**_query(AN["ID"]), "write": {"content": {"Occupation": "X"}}}),
        ("delete", f"{BASE}/{AN['ID']}/delete", None),
        ("post", f"{BASE}/create", {"write": {"content": {**AN, **JOB}}}),
    ]
    for method, path, body in calls:
        send = getattr(c, method)
        r = send(path, body, content_type="application/json") if body is not None else send(path)
        assert r.status_code == 403, (path, r.content)
        assert AN["FullName"] not in r.content.decode()
    entry = SectorEntry.objects.get()
    assert entry.content["Occupation"] == JOB["Occupation"]
    denied = AuditEvent.objects.filter(result=AuditEvent.Result.DENIED, action__startswith="sector.")
    assert denied.count() == len(calls) and {e.detail["reason"] for e in denied} == {"purpose"}
    assert (
        AuditEvent.objects.filter(result=AuditEvent.Result.OK, action__startswith="sector.").count() == before
    )
    with pytest.raises(AccessDenied):
        services.read(member.actor, "LAODONG", "1.0", {"ID": AN["ID"]})


def test_the_administrator_defines_registries_but_reads_no_record(
    sonv: dict[str, Person], an_recorded: services.Record
) -> None:
    with pytest.raises(AccessDenied):
        services.read(sonv["admin"].actor, "LAODONG", "1.0", {"ID": AN["ID"]})
    with pytest.raises(AccessDenied):
        services.search(sonv["admin"].actor, "LAODONG", "1.0")


def test_every_action_on_a_record_is_on_the_persons_history_without_values(
    sonv: dict[str, Person], api_key: str, nguyen_van_an: CitizenView, client: Client
) -> None:
    assert (
        _call(client, "post", f"{BASE}/create", api_key, {"write": {"content": {**AN, **JOB}}}).status_code
        == 200
    )
    assert _call(client, "post", f"{BASE}/read", api_key, _query(AN["ID"])).status_code == 200
    assert _call(client, "post", f"{BASE}/exists", api_key, _query(AN["ID"])).status_code == 200
    upd = {**_query(AN["ID"]), "write": {"content": {"Occupation": "Trưởng nhóm"}}}
    assert _call(client, "put", f"{BASE}/update", api_key, upd).status_code == 200
    assert _call(client, "get", f"{BASE}?search=Nguyễn", api_key).status_code == 200
    assert _call(client, "delete", f"{BASE}/{AN['ID']}/delete", api_key).status_code == 204
    actions = [
        "sector.create",
        "sector.read",
        "sector.exists",
        "sector.update",
        "sector.list",
        "sector.delete",
    ]
    for action in actions:
        ev = AuditEvent.objects.get(action=action, result=AuditEvent.Result.OK)
        assert ev.subject_citizen_id == nguyen_van_an.citizen_id, action
        text = str(ev.detail)
        assert "Kỹ sư" not in text and "Trưởng nhóm" not in text and AN["FullName"] not in text, action
    assert AuditEvent.objects.get(action="sector.update").detail["fields"] == ["Occupation"]
    seen = {e.action for e in events_for_citizen(nguyen_van_an.citizen_id)}
    assert set(actions) <= seen
