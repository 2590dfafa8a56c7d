"""Lifting a restriction of a parent's rights before its term, the child's record of guardianships
and restrictions, and who records them (ADR 0017 §2b).

Actors: the judicial and civil-status officer of UBND phường Tây Hồ (records; Khôi, An and Mai live
in Tây Hồ), the Tây Hồ ward police (keep the registry: may record too), the Hoàn Kiếm ward police
and a hotel clerk (refused). Citizens: Nguyễn Văn An, father of Khôi (4); Huỳnh Thị Mai."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry import guardianship
from dancu.blocks.registry.models import Citizen, ParentalRestriction
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.conftest import Person
from tests.guardianship_support import (  # noqa: F401 — fixtures used by the tests
    AN_ID,
    KHOI_ID,
    MAI_ID,
    an_children,
    civil_status_tayho,
    eid_reader,
    other_ward_police,
    residents,
    rules,
)

pytestmark = pytest.mark.django_db
COURT = "Tòa án nhân dân khu vực 1 – Hà Nội"
CS = guardianship.CIVIL_STATUS


def restrict(ctx: AccessContext) -> int:
    return guardianship.record_parental_restriction(
        ctx,
        KHOI_ID,
        AN_ID,
        decision="45/2026/QĐ-TA",
        decided_on=date(2026, 11, 2),
        court=COURT,
        restricted_from=date(2026, 11, 2),
        restricted_until=date(2029, 11, 2),
        reason="Tòa án hạn chế quyền của cha",
        legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
    )


def lift(ctx: AccessContext, rid: int, **changes: Any) -> int:
    values: dict[str, Any] = {
        "lifted_on": date(2026, 11, 20),
        "decision": "03/2026/QĐ-TA",
        "decided_on": date(2026, 11, 20),
        "court": COURT,
        "reason": "Tòa án hủy bỏ việc hạn chế trước thời hạn",
        "legal_basis": "Luật Hôn nhân và gia đình 2014 Điều 85",
    }
    values.update(changes)
    return guardianship.lift_parental_restriction(ctx, KHOI_ID, rid, **values)


def test_the_civil_status_officer_records_and_lifts_and_an_acts_again_from_the_lifting(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    ctx = civil_status_tayho.ctx(CS)
    rid = restrict(ctx)
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, AN_ID, on=date(2026, 11, 10)).relationship
        == ""
    )
    lift(ctx, rid)
    row = ParentalRestriction.objects.get(pk=rid)
    assert (row.lifted_on, row.lift_decision, row.lift_court) == (date(2026, 11, 20), "03/2026/QĐ-TA", COURT)
    # Before the lifting he was restricted; from it he acts for his son again.
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, AN_ID, on=date(2026, 11, 19)).relationship
        == ""
    )
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, AN_ID, on=date(2026, 11, 20)).relationship
        == "father"
    )
    an = Citizen.objects.get(id_number=AN_ID)
    assert AuditEvent.objects.filter(
        action="registry.parental_restriction.lift", subject_citizen_id=an.pk
    ).exists()


def test_a_lifting_is_within_the_term_from_its_decision_and_only_once(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    ctx = civil_status_tayho.ctx(CS)
    rid = restrict(ctx)
    with pytest.raises(DomainValidationError) as before:
        lift(ctx, rid, lifted_on=date(2026, 11, 1), decided_on=date(2026, 11, 1))
    assert rules(before) == {"lifted_on": "range"}
    with pytest.raises(DomainValidationError) as before_decision:
        lift(ctx, rid, lifted_on=date(2026, 11, 10))
    assert rules(before_decision) == {"lifted_on": "range"}
    with pytest.raises(DomainValidationError) as future:
        lift(ctx, rid, lifted_on=date(2999, 1, 1), decided_on=date(2999, 1, 1))
    assert rules(future) == {"lifted_on": "past", "decided_on": "past"}
    with pytest.raises(DomainValidationError) as blank:
        lift(ctx, rid, decision=" ", court="")
    assert rules(blank) == {"decision": "required", "court": "required"}
    with pytest.raises(NotFound):
        lift(ctx, rid + 1000)
    assert ParentalRestriction.objects.get(pk=rid).lifted_on is None  # nothing half-written
    lift(ctx, rid)
    with pytest.raises(DomainValidationError) as twice:
        lift(ctx, rid)
    assert rules(twice) == {"restriction_id": "lifted"}


def test_another_ward_a_hotel_clerk_and_an_unrelated_purpose_are_refused_and_recorded(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
    other_ward_police: Person,  # noqa: F811
    hotel_clerk: Person,
    ward_police: Person,
) -> None:
    rid = restrict(ward_police.ctx("registry.administration"))  # the ward police keep the registry
    with pytest.raises(AccessDenied) as elsewhere:
        lift(other_ward_police.ctx("registry.administration"), rid)
    assert (elsewhere.value.field, elsewhere.value.rule) == ("child_id_number", "jurisdiction")
    with pytest.raises(AccessDenied):
        lift(hotel_clerk.ctx("identity.verification"), rid)
    with pytest.raises(AccessDenied):  # the civil-status officer's purpose reads no registry record
        guardianship.child_record(civil_status_tayho.ctx("registry.lookup"), KHOI_ID)
    with pytest.raises(AccessDenied):
        guardianship.child_record(other_ward_police.ctx("registry.administration"), KHOI_ID)
    assert ParentalRestriction.objects.get(pk=rid).lifted_on is None
    khoi = an_children["khoi"].citizen_id
    denied = {e.action for e in AuditEvent.objects.filter(subject_citizen_id=khoi, result="denied")}
    assert {"registry.parental_restriction.lift", "registry.guardianship.read"} <= denied


def test_the_childs_record_shows_current_and_past_and_is_audited_to_everyone_it_names(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    ctx = civil_status_tayho.ctx(CS)
    rid = restrict(ctx)
    common = {"kind": "appointed", "reason": "Cha bị hạn chế quyền", "legal_basis": "BLDS 2015 Điều 54"}
    guardianship.record_guardianship(
        ctx, KHOI_ID, MAI_ID, started_on=date(2026, 11, 3), record_number="GH-1/2026", **common
    )
    guardianship.end_guardianship(
        ctx,
        KHOI_ID,
        ended_on=date(2026, 11, 20),
        end_reason="Cha được khôi phục quyền",
        legal_basis="BLDS Điều 62",
    )
    lift(ctx, rid)
    record = guardianship.child_record(ctx, KHOI_ID)
    assert (record.father_id_number, record.mother_id_number, record.guardian_in_office) == (AN_ID, "", None)
    [past] = record.guardianships
    assert (past.guardian_id_number, past.ended_on) == (MAI_ID, date(2026, 11, 20))
    [restriction] = record.restrictions
    assert (restriction.state, restriction.relationship, restriction.court) == ("lifted", "father", COURT)
    mai = Citizen.objects.get(id_number=MAI_ID)
    an = Citizen.objects.get(id_number=AN_ID)
    for person in (an_children["khoi"].citizen_id, mai.pk, an.pk):
        assert AuditEvent.objects.filter(
            action="registry.guardianship.read", subject_citizen_id=person
        ).exists()
    # Ending the guardianship is on the guardian's own history too.
    assert AuditEvent.objects.filter(action="registry.guardianship.end", subject_citizen_id=mai.pk).exists()


def test_only_the_commune_civil_status_tayho_holds_the_purpose_and_nothing_else_of_the_registry() -> None:
    from dancu.blocks.organisations.policy import POLICY

    holders = {key for key, purposes in POLICY.items() if CS in purposes}
    assert holders == {("committee", "civil_status")}
    assert POLICY[("committee", "civil_status")] == frozenset({CS})
