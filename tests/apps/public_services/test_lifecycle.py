"""The dossier's life beyond the first increment: drafts, suspension and extension with reasons
(deadlines in working days), escalation of late dossiers to the supervisor, the kiosk channel,
and the pages that carry them (a registry that is down keeps what the citizen typed).

Actors: ``an`` — the citizen; ``ward_police`` — officer of Công an phường Tây Hồ;
``ward_police_chief`` — its admin (the supervisor); ``other_ward_police`` — of Hoàn Kiếm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from dancu.apps.public_services import catalogue, services, workdays
from dancu.apps.public_services.models import Dossier, Draft, InboxMessage
from dancu.errors import AccessDenied, DomainValidationError
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.conftest import HANOI, TAY_HO_WARD, Person

pytestmark = pytest.mark.django_db
CAL = workdays.calendar()


def absence(user_id: int, key: str = "k" * 24, **kw: Any) -> Dossier:
    today = timezone.localdate()
    dossier, _ = services.submit(
        user_id,
        "temporary-absence",
        {
            "absent_from": (today + timedelta(days=1)).strftime("%d/%m/%Y"),
            "absent_until": (today + timedelta(days=40)).strftime("%d/%m/%Y"),
            "destination": HOAN_KIEM_ADDRESS,
            "reason": "Đi công tác",
        },
        idempotency_key=key,
        **kw,
    )
    return dossier


@pytest.fixture
def ward_police_chief(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "chief.tayho",
        org_code="CA-P-TAYHO",
        org_name="Công an phường Tây Hồ",
        kind="police_commune",
        role="admin",
        province=HANOI,
        ward=TAY_HO_WARD,
    )


def test_suspension_stops_the_clock_and_resuming_moves_the_deadline(an: int, ward_police: Person) -> None:
    dossier = absence(an)
    with pytest.raises(DomainValidationError):  # not before it is received
        services.suspend(ward_police.actor, dossier.tracking_code, "Chờ xác minh nơi đến")
    services.receive(ward_police.actor, dossier.tracking_code)
    with pytest.raises(DomainValidationError) as err:
        services.suspend(ward_police.actor, dossier.tracking_code, "")
    assert err.value.problems[0].field == "reasons"
    services.suspend(ward_police.actor, dossier.tracking_code, "Chờ xác minh nơi đến")
    with pytest.raises(DomainValidationError):  # a suspended dossier is not decided
        services.approve(ward_police.actor, dossier.tracking_code)
    Dossier.objects.filter(pk=dossier.pk).update(suspended_at=timezone.now() - timedelta(days=7))
    before = Dossier.objects.get(pk=dossier.pk).due_on
    since = timezone.localdate() - timedelta(days=7)
    resumed = services.resume(ward_police.actor, dossier.tracking_code)
    lost = CAL.working_days_between(since, timezone.localdate())
    assert lost >= 4 and resumed.due_on == CAL.add_working_days(before, lost)
    assert resumed.status == Dossier.Status.PROCESSING
    assert InboxMessage.objects.filter(dossier=dossier, subject__startswith="Tạm dừng").exists()


def test_an_extension_names_its_reasons_and_is_capped_at_15_working_days(
    an: int, ward_police: Person, other_ward_police: Person
) -> None:
    dossier = absence(an)
    with pytest.raises(AccessDenied):
        services.extend(other_ward_police.actor, dossier.tracking_code, 3, "Chờ xác minh")
    extended = services.extend(ward_police.actor, dossier.tracking_code, 10, "Chờ xác minh nơi đến")
    assert extended.due_on == CAL.add_working_days(dossier.due_on, 10)
    with pytest.raises(DomainValidationError) as err:
        services.extend(ward_police.actor, dossier.tracking_code, 6, "Lần nữa")
    assert err.value.problems[0].rule == "total"
    with pytest.raises(DomainValidationError) as err:
        services.extend(ward_police.actor, dossier.tracking_code, 0, "Không")
    assert err.value.problems[0].field == "days"


def test_late_dossiers_are_escalated_once_to_the_supervisor_only(
    an: int, ward_police: Person, ward_police_chief: Person
) -> None:
    dossier = absence(an)
    Dossier.objects.filter(pk=dossier.pk).update(due_on=date(2025, 1, 2))
    out = StringIO()
    call_command("services", "escalate", stdout=out)
    assert out.getvalue().strip() == "escalated 1"
    assert services.escalate_overdue() == 0  # once
    assert [d.pk for d in services.supervisor_queue(ward_police_chief.actor)] == [dossier.pk]
    with pytest.raises(AccessDenied):
        services.supervisor_queue(ward_police.actor)  # an officer is not the supervisor
    assert dossier.events.filter(action="escalated").count() == 1


def test_a_draft_keeps_only_what_the_citizen_typed_and_goes_when_submitted(an: int) -> None:
    draft = services.save_draft(
        an, "temporary-absence", {"reason": "Đi công tác", "full_name": "not a citizen item"}, "registry down"
    )
    assert draft.values == {"reason": "Đi công tác"}
    services.save_draft(an, "temporary-absence", {"reason": "Đi học"})
    assert Draft.objects.count() == 1 and services.draft_values(an, "temporary-absence") == {
        "reason": "Đi học"
    }
    absence(an)
    assert not Draft.objects.exists()


def test_the_kiosk_channel_is_recorded_and_an_unknown_channel_refused(an: int) -> None:
    assert absence(an, channel="kiosk").channel == "kiosk"
    with pytest.raises(DomainValidationError) as err:
        absence(an, key="x" * 24, channel="fax")
    assert err.value.problems[0].field == "channel"


# --------------------------------------------------------------------------- pages
FORM = "/dich-vu-cong/nop/temporary-absence/"


def test_when_the_registry_is_down_what_was_typed_is_saved_as_a_draft_and_resumed(
    an: int, citizen_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = citizen_client(an)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("registry unreachable")

    monkeypatch.setattr(services, "prefill", down)
    response = client.post(FORM, {"idempotency_key": "d" * 24, "reason": "Đi công tác xa", "destination": ""})
    assert response.status_code == 503 and b'data-testid="draft-saved"' in response.content
    assert not Dossier.objects.exists()
    monkeypatch.undo()
    page = client.get(FORM).content.decode()
    assert 'data-testid="draft-resumed"' in page and "Đi công tác xa" in page
    assert 'data-draft="temporary-absence"' in client.get("/dich-vu-cong/ho-so/").content.decode()


def test_an_official_suspends_and_extends_from_the_dossier_page(
    an: int, ward_police: Person, staff_client: Callable[[Person], Client]
) -> None:
    dossier = absence(an)
    client = staff_client(ward_police)
    base = f"/dich-vu-cong/can-bo/{dossier.tracking_code}/"
    client.post(base + "receive/")
    response = client.post(base + "extend/", {"days": "abc", "reasons": "Chờ xác minh"})
    assert response.status_code == 422 and "Nhập số ngày làm việc" in response.content.decode()
    assert client.post(base + "extend/", {"days": "2", "reasons": "Chờ xác minh"}).status_code == 302
    assert client.post(base + "suspend/", {"reasons": "Chờ cơ quan khác trả lời"}).status_code == 302
    assert 'data-testid="resume"' in client.get(base).content.decode()
    assert client.post(base + "resume/").status_code == 302
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.PROCESSING


def test_the_partner_agrees_from_my_dossiers_and_a_stranger_cannot(
    an: int, mai: int, citizen_client: Callable[..., Client]
) -> None:
    from dancu.blocks.eid.models import Account

    Account.objects.filter(user_id=mai).update(status=Account.Status.ACTIVE, level=1)
    dossier, _ = services.submit(
        an,
        "marriage-registration",
        {"partner_id_number": "001192034567", "partner_full_name": "Huỳnh Thị Mai"},
        idempotency_key="m" * 24,
    )
    url = f"/dich-vu-cong/ho-so/{dossier.tracking_code}/dong-y/"
    assert citizen_client(an).post(url, {"answer": "agree"}).status_code == 404  # not his to answer
    client = citizen_client(mai, level=2)  # marriage is a level-2 procedure: so is consenting
    page = client.get("/dich-vu-cong/ho-so/").content.decode()
    assert f'data-tracking="{dossier.tracking_code}"' in page and 'data-testid="agree"' in page
    assert client.post(url, {"answer": "agree"}).status_code == 302
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.SUBMITTED


@pytest.mark.parametrize("code", [s.code for s in catalogue.implemented()])
def test_every_paperless_service_opens_its_prefilled_form(
    code: str, an: int, citizen_client: Callable[..., Client]
) -> None:
    service = catalogue.BY_CODE[code]
    response = citizen_client(an, level=service.level).get(f"/dich-vu-cong/nop/{code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-item="id_number"' in page and "CSDL quốc gia về dân cư" in page
    for item in service.citizen_items():
        assert f'name="{item.key}"' in page, item.key
