"""Who may act for a minor: parents, guardians (Civil Code 2015 Art. 46–62) and court
restrictions of a parent's rights (Marriage and Family Law 2014 Art. 85–87); ADR 0017.

Actors: the Tây Hồ ward officer (records), the Hoàn Kiếm ward officer (another ward: refused), a
hotel clerk (no registry purpose: refused), the eID system (reads the authority). Citizens: Nguyễn
Văn An, father of Khôi (4) and Hà (10); Huỳnh Thị Mai, Hà's mother, appointed Khôi's guardian."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry import guardianship
from dancu.blocks.registry.models import Guardianship
from dancu.errors import AccessDenied, DomainValidationError
from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures used by the tests
    HA_ID,
    KHOI_ID,
    an_children,
    other_ward_police,
    residents,
)
from tests.blocks.identity.conftest import AN_ID, MAI_ID
from tests.conftest import Person

pytestmark = pytest.mark.django_db
APPOINTED = date(2026, 6, 1)
BASIS = "Bộ luật Dân sự 2015 Điều 54; Luật Hộ tịch 2014 Điều 20"


def eid_reader() -> AccessContext:
    return AccessContext(
        Actor(user_id=None, label="eID", allowed_purposes=frozenset({"eid.registration"}), is_system=True),
        "eid.registration",
    )


def appoint_mai(officer: Person, **changes: Any) -> guardianship.GuardianshipView:
    values: dict[str, Any] = {
        "kind": "appointed",
        "started_on": APPOINTED,
        "record_number": "GH-12/2026 UBND phường Tây Hồ",
        "reason": "Cha bị hạn chế quyền, mẹ không rõ",
        "legal_basis": BASIS,
    }
    values.update(changes)
    return guardianship.record_guardianship(officer.ctx("registry.administration"), KHOI_ID, MAI_ID, **values)


def rules(err: pytest.ExceptionInfo[DomainValidationError]) -> dict[str, str]:
    return {p.field: p.rule for p in err.value.problems}


def test_the_ward_officer_records_mai_as_khois_appointed_guardian(
    an_children: dict[str, Any],  # noqa: F811
    ward_police: Person,
) -> None:
    view = appoint_mai(ward_police)
    assert (view.ward_id_number, view.guardian_id_number, view.kind, view.ended_on) == (
        KHOI_ID,
        MAI_ID,
        "appointed",
        None,
    )
    row = Guardianship.objects.get(pk=view.guardianship_id)
    assert row.legal_basis == BASIS and row.recorded_by_label and row.organisation_name
    # Recorded on the ward's and on the guardian's record.
    events = AuditEvent.objects.filter(action="registry.guardianship.record", result="ok")
    assert {e.subject_citizen_id for e in events} == {an_children["khoi"].citizen_id, row.guardian_id}
    authority = guardianship.parental_authority(eid_reader(), KHOI_ID, MAI_ID, on=date(2026, 12, 1))
    assert authority.relationship == "guardian" and "GH-12/2026" in authority.legal_basis
    # Before the appointment she could not act for him.
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, MAI_ID, on=date(2026, 5, 31)).relationship
        == ""
    )


def test_the_guardian_is_an_adult_other_than_the_ward_and_the_ward_a_minor(
    an_children: dict[str, Any],  # noqa: F811
    ward_police: Person,
) -> None:
    ctx = ward_police.ctx("registry.administration")
    common: dict[str, Any] = {
        "kind": "appointed",
        "started_on": APPOINTED,
        "record_number": "GH-1",
        "reason": "x",
        "legal_basis": BASIS,
    }
    with pytest.raises(DomainValidationError) as child_guardian:  # Hà is 10
        guardianship.record_guardianship(ctx, KHOI_ID, HA_ID, **common)
    assert rules(child_guardian) == {"guardian_id_number": "not_eligible"}
    with pytest.raises(DomainValidationError) as himself:
        guardianship.record_guardianship(ctx, KHOI_ID, KHOI_ID, **common)
    assert rules(himself) == {"guardian_id_number": "self"}
    with pytest.raises(DomainValidationError) as adult_ward:  # An is 41
        guardianship.record_guardianship(ctx, AN_ID, MAI_ID, **common)
    assert rules(adult_ward) == {"started_on": "minor"}
    with pytest.raises(DomainValidationError) as bad:
        guardianship.record_guardianship(
            ctx, KHOI_ID, MAI_ID, **{**common, "kind": "friend", "record_number": ""}
        )
    assert rules(bad) == {"kind": "choice", "record_number": "required"}
    assert not Guardianship.objects.exists()


def test_one_guardian_at_a_time_and_an_ended_guardianship_gives_no_authority(
    an_children: dict[str, Any],  # noqa: F811
    ward_police: Person,
) -> None:
    appoint_mai(ward_police)
    with pytest.raises(DomainValidationError) as second:
        guardianship.record_guardianship(
            ward_police.ctx("registry.administration"),
            KHOI_ID,
            AN_ID,
            kind="de_jure",
            started_on=APPOINTED,
            record_number="GH-2",
            reason="x",
            legal_basis=BASIS,
        )
    assert rules(second) == {"ward_id_number": "has_guardian"}
    ended = guardianship.end_guardianship(
        ward_police.ctx("registry.administration"),
        KHOI_ID,
        ended_on=date(2026, 11, 1),
        end_reason="Người giám hộ xin thôi",
        legal_basis="Bộ luật Dân sự 2015 Điều 60, 62",
    )
    assert ended.ended_on == date(2026, 11, 1)
    assert guardianship.parental_authority(
        eid_reader(), KHOI_ID, MAI_ID, on=date(2026, 10, 31)
    ).relationship == ("guardian")
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, MAI_ID, on=date(2026, 11, 1)).relationship
        == ""
    )
    assert Guardianship.objects.count() == 1  # kept, with its end


def test_a_father_whose_rights_are_restricted_cannot_act_during_the_term(
    an_children: dict[str, Any],  # noqa: F811
    ward_police: Person,
) -> None:
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, AN_ID, on=date(2026, 1, 1)).relationship
        == "father"
    )
    guardianship.record_parental_restriction(
        ward_police.ctx("registry.administration"),
        KHOI_ID,
        AN_ID,
        decision="QĐ 45/2026/QĐ-TA",
        restricted_from=date(2026, 3, 1),
        restricted_until=date(2028, 3, 1),
        reason="Tòa án nhân dân khu vực 1 Hà Nội hạn chế quyền của cha",
        legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
    )
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, AN_ID, on=date(2026, 12, 1)).relationship == ""
    )
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, AN_ID, on=date(2028, 3, 1)).relationship
        == "father"
    )
    # Hà's father is not restricted for her.
    assert (
        guardianship.parental_authority(eid_reader(), HA_ID, AN_ID, on=date(2026, 12, 1)).relationship
        == "father"
    )


def test_a_restriction_names_a_parent_of_the_child_and_a_term_in_order(
    an_children: dict[str, Any],  # noqa: F811
    ward_police: Person,
) -> None:
    ctx = ward_police.ctx("registry.administration")
    with pytest.raises(DomainValidationError) as not_parent:  # Mai is not Khôi's mother
        guardianship.record_parental_restriction(
            ctx,
            KHOI_ID,
            MAI_ID,
            decision="QĐ 1",
            restricted_from=date(2026, 3, 1),
            restricted_until=None,
            reason="x",
            legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
        )
    assert rules(not_parent) == {"parent_id_number": "not_parent"}
    with pytest.raises(DomainValidationError) as order:
        guardianship.record_parental_restriction(
            ctx,
            KHOI_ID,
            AN_ID,
            decision="",
            restricted_from=date(2026, 3, 1),
            restricted_until=date(2026, 3, 1),
            reason="x",
            legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
        )
    assert rules(order) == {"decision": "required", "restricted_until": "order"}


def test_the_adult_child_has_nobody_acting_for_them(an_children: dict[str, Any]) -> None:  # noqa: F811
    # Civil Code 2015 Art. 20: from 18 a person acts for themselves.
    assert (
        guardianship.parental_authority(eid_reader(), HA_ID, AN_ID, on=date(2034, 2, 14)).relationship == ""
    )
    assert (
        guardianship.parental_authority(eid_reader(), HA_ID, MAI_ID, on=date(2034, 2, 13)).relationship
        == "mother"
    )
    # A stranger: nothing, whatever the day.
    assert (
        guardianship.parental_authority(eid_reader(), KHOI_ID, MAI_ID, on=date(2026, 12, 1)).relationship
        == ""
    )


def test_another_wards_officer_and_a_hotel_clerk_are_refused_and_recorded(
    an_children: dict[str, Any],  # noqa: F811
    other_ward_police: Person,  # noqa: F811
    hotel_clerk: Person,
) -> None:
    with pytest.raises(AccessDenied):
        appoint_mai(other_ward_police)
    assert AuditEvent.objects.filter(
        action="registry.guardianship.record",
        result="denied",
        subject_citizen_id=an_children["khoi"].citizen_id,
    ).exists()
    with pytest.raises(AccessDenied):
        appoint_mai(hotel_clerk)
    with pytest.raises(AccessDenied):
        guardianship.parental_authority(hotel_clerk.ctx("identity.verification"), KHOI_ID, AN_ID)
    assert AuditEvent.objects.filter(action="registry.parental_authority", result="denied").exists()
    assert not Guardianship.objects.exists()
