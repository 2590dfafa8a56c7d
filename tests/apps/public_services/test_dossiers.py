"""Dossiers end to end through the service functions: a citizen submits with data prefilled from
the registry, the competent ward official handles it, the registry changes on approval, the
citizen is told and gets a signed result — and officials of another ward are denied."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.apps.desks.services import public_key
from dancu.apps.public_services import services
from dancu.apps.public_services.models import Dossier, InboxMessage
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry import events
from dancu.blocks.registry.models import Citizen, CitizenRevision
from dancu.errors import AccessDenied, DomainValidationError
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.blocks.eid.conftest import AN_PHONE, MAI_ID, Outbox
from tests.conftest import Person

pytestmark = pytest.mark.django_db
KEY = "k" * 24


def _d(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).strftime("%d/%m/%Y")


def temporary_residence(user_id: int, key: str = KEY) -> Dossier:
    dossier, _ = services.submit(
        user_id,
        "temporary-residence",
        {"temporary_address": HOAN_KIEM_ADDRESS, "stay_until": _d(180), "lodging_basis": "Hợp đồng thuê nhà"},
        idempotency_key=key,
    )
    return dossier


def test_the_citizen_gets_the_cmnd_confirmation_at_once_signed_and_verifiable(
    an: int, outbox: Outbox, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the SMS leaves once the dossier is stored
        dossier, created = services.submit(
            an, "cmnd-confirmation", {"old_number": "012345678"}, idempotency_key=KEY
        )
    assert created and dossier.status == Dossier.Status.DONE
    assert dossier.items["id_number"] == {"value": "001085012345", "source": "registry"}
    assert dossier.items["old_id_numbers"]["value"] == "012345678"
    doc = json.loads(dossier.result_document)
    assert doc["result"] == {"old_number": "012345678", "id_number": "001085012345"}
    public_key().verify(base64.b64decode(dossier.result_signature), dossier.result_document.encode())
    check = services.verify_result(dossier.tracking_code)
    assert check.valid and check.holder_id_masked == "001******345"
    assert InboxMessage.objects.filter(user_id=an, dossier=dossier).count() == 2  # submitted, result
    assert any(m["kind"] == "public_service.status" and m["to"] == AN_PHONE for m in outbox.messages)
    mails = [m for m in outbox.messages if m["channel"] == "email" and m["kind"] == "public_service.status"]
    assert mails and all(m["to"] == "an@example.vn" for m in mails)
    assert all(dossier.tracking_code in m["body"] and "001085012345" not in m["body"] for m in mails)
    # The prefill read the citizen's own record through the data-exchange gateway, as the portal's
    # member system acting for him, with the purpose and the dossier as case reference — signed and
    # logged there — and he sees the read on his own access history.
    from dancu.blocks.exchange.models import Message

    logged = Message.objects.filter(
        service_id__endswith="/applicant",
        end_user="citizen:001085012345",
        case_reference=dossier.tracking_code,
    ).last()
    assert logged is not None and logged.status == 200 and logged.purpose == "public_service.processing"
    assert logged.client_id.endswith("/GOV/TTPVHCC-HN/CONG-DVC") and logged.response_signature
    read = AuditEvent.objects.filter(
        action="registry.read", purpose="public_service.processing", case_reference=dossier.tracking_code
    ).last()
    assert read is not None and read.subject_citizen_id == logged.subjects[0]
    assert "CONG-DVC" in read.actor_label


def test_a_double_submission_creates_one_dossier(an: int) -> None:
    first = temporary_residence(an)
    second, created = services.submit(
        an, "temporary-residence", {"temporary_address": "whatever"}, idempotency_key=KEY
    )
    assert not created and second.pk == first.pk
    assert Dossier.objects.filter(applicant_user_id=an).count() == 1


def test_problems_name_the_field_in_vietnamese_and_nothing_is_stored(an: int) -> None:
    with pytest.raises(DomainValidationError) as err:
        services.submit(
            an,
            "temporary-residence",
            {"temporary_address": "", "stay_until": "31/02/2026"},
            idempotency_key=KEY,
        )
    fields = {p.field: p.rule for p in err.value.problems}
    assert fields == {"temporary_address": "required", "stay_until": "date", "lodging_basis": "required"}
    assert "Vui lòng nhập" in err.value.problems[0].message
    assert not Dossier.objects.exists()


def test_temporary_residence_in_the_same_ward_as_the_permanent_one_is_refused(an: int) -> None:
    with pytest.raises(DomainValidationError) as err:
        services.submit(
            an,
            "temporary-residence",
            {
                "temporary_address": "Số 7 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội",
                "stay_until": _d(30),
                "lodging_basis": "Nhà người thân",
            },
            idempotency_key=KEY,
        )
    assert err.value.problems[0].rule == "same_ward"


def test_the_competent_ward_approves_temporary_residence_and_the_registry_changes(
    an: int, other_ward_police: Person, ward_police: Person
) -> None:
    dossier = temporary_residence(an)
    assert dossier.authority_ward_code == "00070"  # the police of the place of temporary residence
    assert dossier.due_on > timezone.localdate()
    # The official of another ward (here Tây Hồ, where An lives) does not see it and may not act.
    assert not services.queue(ward_police.actor).exists()
    with pytest.raises(AccessDenied):
        services.approve(ward_police.actor, dossier.tracking_code)
    assert [d.pk for d in services.queue(other_ward_police.actor)] == [dossier.pk]
    services.receive(other_ward_police.actor, dossier.tracking_code)
    services.assign(other_ward_police.actor, dossier.tracking_code)
    done = services.approve(other_ward_police.actor, dossier.tracking_code)
    assert done.status == Dossier.Status.DONE
    citizen = Citizen.objects.get(id_number="001085012345")
    assert citizen.temporary_ward_code == "00070"
    revision = CitizenRevision.objects.filter(citizen=citizen).latest("version")
    assert revision.action == "temporary" and dossier.tracking_code in revision.reason
    assert services.sla(done) == services.ON_TIME


def test_send_back_for_additions_then_the_citizen_supplements(an: int, other_ward_police: Person) -> None:
    dossier = temporary_residence(an)
    with pytest.raises(DomainValidationError):
        services.send_back(other_ward_police.actor, dossier.tracking_code, "")  # reasons are required
    services.receive(other_ward_police.actor, dossier.tracking_code)
    back = services.send_back(other_ward_police.actor, dossier.tracking_code, "Ghi rõ số hợp đồng thuê nhà")
    assert back.status == Dossier.Status.SENT_BACK
    again = services.supplement(an, dossier.tracking_code, {"lodging_basis": "Hợp đồng thuê nhà số 12/2026"})
    assert again.status == Dossier.Status.PROCESSING
    assert again.items["lodging_basis"]["value"].endswith("12/2026")


def test_a_refusal_carries_its_reasons_to_the_citizen(an: int, ward_police: Person) -> None:
    dossier, _ = services.submit(
        an,
        "temporary-absence",
        {"absent_from": _d(1), "absent_until": _d(60), "destination": HOAN_KIEM_ADDRESS, "reason": "Đi làm"},
        idempotency_key=KEY,
    )
    assert dossier.authority_ward_code == "00103"
    refused = services.refuse(ward_police.actor, dossier.tracking_code, "Thông tin nơi đến không đầy đủ")
    assert refused.status == Dossier.Status.REFUSED
    assert InboxMessage.objects.filter(dossier=dossier, body__contains="nơi đến").exists()
    with pytest.raises(DomainValidationError):
        services.approve(ward_police.actor, dossier.tracking_code)  # a closed dossier stays closed


def test_another_citizen_never_sees_my_dossier(an: int, mai: int) -> None:
    dossier = temporary_residence(an)
    assert not services.my_dossiers(mai).exists()
    with pytest.raises(Exception, match="no such dossier"):
        services.my_dossier(mai, dossier.tracking_code)


def test_death_registration_records_the_death_and_tells_the_exchange(
    an: int, mai: int, ward_committee: Person, ward_police: Person
) -> None:
    seen: list[events.Change] = []
    events.connect(seen.append)
    try:
        dossier, _ = services.submit(
            an,
            "death-registration",
            {
                "deceased_id_number": MAI_ID,
                "deceased_full_name": "Huỳnh Thị Mai",
                "date_of_death": _d(-2),
                "death_notice": "GBT-01/2026",
                "relationship": "Hàng xóm",
            },
            idempotency_key=KEY,
        )
        assert dossier.authority_kind == "committee"
        with pytest.raises(AccessDenied):  # the ward police are not the competent authority
            services.dossier_for(ward_police.actor, dossier.tracking_code)
        services.approve(ward_committee.actor, dossier.tracking_code)
    finally:
        events.disconnect(seen.append)
    mai_row = Citizen.objects.get(id_number=MAI_ID)
    assert mai_row.life_status == "deceased"
    assert [c.kind for c in seen] == [events.ChangeKind.DIED]


def test_birth_registration_creates_a_citizen_with_a_new_id_number(an: int, ward_committee: Person) -> None:
    born = timezone.localdate() - timedelta(days=3)
    dossier, _ = services.submit(
        an,
        "birth-registration",
        {
            "child_full_name": "Nguyễn Minh Khôi",
            "child_date_of_birth": born.strftime("%d/%m/%Y"),
            "child_sex": "M",
            "birth_place": "Bệnh viện Phụ sản Hà Nội",
            "relationship": "father",
        },
        idempotency_key=KEY,
    )
    done = services.approve(ward_committee.actor, dossier.tracking_code)
    number = json.loads(done.result_document)["result"]["child_id_number"]
    assert number.startswith(f"0012{born.year % 100:02d}") and len(number) == 12
    child = Citizen.objects.get(id_number=number)
    assert child.full_name == "Nguyễn Minh Khôi" and child.date_of_birth == born
    assert child.permanent_ward_code == "00103"


def test_sla_is_on_time_due_soon_or_late(an: int) -> None:
    dossier = temporary_residence(an)
    due = dossier.due_on
    assert services.sla(dossier, due - timedelta(days=10)) == services.ON_TIME
    assert services.sla(dossier, due) == services.DUE_SOON
    assert services.sla(dossier, due + timedelta(days=1)) == services.LATE


def test_a_verification_of_an_unknown_or_tampered_result_fails(an: int) -> None:
    dossier, _ = services.submit(an, "cmnd-confirmation", {"old_number": "012345678"}, idempotency_key=KEY)
    assert not services.verify_result("DVC-0000-NOTACODE").valid
    Dossier.objects.filter(pk=dossier.pk).update(
        result_document=dossier.result_document.replace("0123", "0999")
    )
    assert not services.verify_result(dossier.tracking_code).valid


def test_an_unlinked_cmnd_waits_for_the_ward_police(an: int, ward_police: Person) -> None:
    dossier, _ = services.submit(an, "cmnd-confirmation", {"old_number": "987654321"}, idempotency_key=KEY)
    assert dossier.status == Dossier.Status.SUBMITTED
    assert [d.pk for d in services.queue(ward_police.actor)] == [dossier.pk]


def test_permanent_residence_moves_the_citizen_and_both_wards_hear_of_it(
    an: int, other_ward_police: Person
) -> None:
    seen: list[events.Change] = []
    events.connect(seen.append)
    try:
        dossier, _ = services.submit(
            an,
            "permanent-residence",
            {"new_address": HOAN_KIEM_ADDRESS, "lodging_basis": "Nhà thuộc sở hữu của tôi"},
            idempotency_key=KEY,
        )
        assert dossier.authority_ward_code == "00070"
        done = services.approve(other_ward_police.actor, dossier.tracking_code)
    finally:
        events.disconnect(seen.append)
    assert done.status == Dossier.Status.DONE
    assert Citizen.objects.get(id_number="001085012345").permanent_ward_code == "00070"
    assert [c.kind for c in seen] == [events.ChangeKind.MOVED]
    assert {ward for _, ward in seen[0].places} == {"00103", "00070"}


def test_joining_a_household_needs_the_relationship(an: int) -> None:
    with pytest.raises(DomainValidationError) as err:
        services.submit(
            an,
            "permanent-residence",
            {"new_address": HOAN_KIEM_ADDRESS, "lodging_basis": "Nhà của bố mẹ", "join_household": "HN0009"},
            idempotency_key=KEY,
        )
    assert [(p.field, p.rule) for p in err.value.problems] == [("relationship_to_head", "required")]


def test_a_supplement_may_not_move_the_dossier_to_another_ward(an: int, other_ward_police: Person) -> None:
    dossier = temporary_residence(an)
    services.send_back(other_ward_police.actor, dossier.tracking_code, "Ghi rõ số nhà")
    with pytest.raises(DomainValidationError) as err:
        services.supplement(
            an,
            dossier.tracking_code,
            {"temporary_address": "Số 7 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"},
        )
    assert err.value.problems[0].rule == "other_ward"
    ok = services.supplement(
        an,
        dossier.tracking_code,
        {"temporary_address": "Số 12 phố Hàng Bạc, " + HOAN_KIEM_ADDRESS.split(", ", 1)[1]},
    )
    assert ok.items["temporary_address"]["value"].startswith("Số 12")
