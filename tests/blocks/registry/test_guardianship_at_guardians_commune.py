"""A guardianship is registered at the commune of the ward's **or of the guardian's** place of
residence (Law on Civil Status 2014 Art. 19; procedures: Art. 20, appointed guardianship, Art. 21,
guardianship by law), and its termination is filed with the authority that registered it
(Art. 22 cl. 1); ADR 0017 §15.

Rules: the ward's commune first, as before; else the guardian's commune, if the guardian lives
there and is eligible (a living adult). An officer who is neither gets ONE refusal —
``ward_id_number``/``jurisdiction``, audited ``denied`` to the ward's record — whether the guardian
is unknown, deceased, a minor or lives elsewhere. The registering commune is kept on the row,
may end the guardianship and reads only the guardianships it registered.

Actors: the judicial and civil-status officers of UBND phường Tây Hồ (Khôi's commune), of UBND
phường Hoàn Kiếm (where Huỳnh Thị Mai has moved: the guardian's commune) and of UBND phường Ba
Đình (a third commune); the city police (a province's registry officer). Citizens: Nguyễn Văn An,
father of Khôi (4) and Hà (10), whose rights a court restricted; Mai, appointed Khôi's guardian."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry import guardianship
from dancu.blocks.registry.models import Citizen, Guardianship
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import TAY_HO_WARD, Person
from tests.guardianship_support import (  # noqa: F401 — fixtures used by the tests
    AN_ID,
    BA_DINH_WARD,
    HA_ID,
    HOAN_KIEM_WARD,
    KHOI_ID,
    MAI_ID,
    an_children,
    civil_status_badinh,
    civil_status_hoankiem,
    civil_status_tayho,
    eid_reader,
    residents,
    rules,
)

pytestmark = pytest.mark.django_db
CS = guardianship.CIVIL_STATUS
RECORD, END, READ = "registry.guardianship.record", "registry.guardianship.end", "registry.guardianship.read"
UNKNOWN_ID = "001090000777"  # well formed, no such citizen
BASIS = "Bộ luật Dân sự 2015 Điều 54; Luật Hộ tịch 2014 Điều 20"


def appoint(
    officer: Person, guardian: str = MAI_ID, *, ward: str = KHOI_ID, started_on: date = date(2026, 6, 1)
) -> guardianship.GuardianshipView:
    return guardianship.record_guardianship(
        officer.ctx(CS),
        ward,
        guardian,
        kind="appointed",
        started_on=started_on,
        record_number="GH-31/2026",
        reason="Cha bị hạn chế quyền, mẹ không rõ",
        legal_basis=BASIS,
    )


def end(officer: Person, ended_on: date = date(2026, 11, 1)) -> guardianship.GuardianshipView:
    return guardianship.end_guardianship(
        officer.ctx(CS),
        KHOI_ID,
        ended_on=ended_on,
        end_reason="Người giám hộ xin thôi",
        legal_basis="Bộ luật Dân sự 2015 Điều 62; Luật Hộ tịch 2014 Điều 22",
    )


def move(id_number: str, ward: str, **changes: Any) -> Citizen:
    """The citizen's permanent residence is now ``ward`` (of Hà Nội)."""
    Citizen.objects.filter(id_number=id_number).update(permanent_ward_code=ward, **changes)
    return Citizen.objects.get(id_number=id_number)


def pk(id_number: str) -> int:
    return int(Citizen.objects.get(id_number=id_number).pk)


def refusal(err: pytest.ExceptionInfo[AccessDenied]) -> tuple[str, str, str]:
    return (err.value.field, err.value.rule, str(err.value))


# --------------------------------------------------------------------------- recording
def test_the_hoan_kiem_officer_registers_mais_guardianship_of_khoi_where_mai_lives(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_hoankiem: Person,  # noqa: F811
) -> None:
    mai = move(MAI_ID, HOAN_KIEM_WARD)  # Khôi lives in Tây Hồ, Mai in Hoàn Kiếm
    view = appoint(civil_status_hoankiem)
    assert (view.ward_id_number, view.guardian_id_number, view.registered_ward_code) == (
        KHOI_ID,
        MAI_ID,
        HOAN_KIEM_WARD,
    )
    row = Guardianship.objects.get()
    assert (row.registered_ward_code, row.organisation_name) == (HOAN_KIEM_WARD, "UBND phường Hoàn Kiếm")
    # On the ward's and on the guardian's record, as at the ward's commune.
    done = AuditEvent.objects.filter(action=RECORD, result="ok")
    assert sorted(e.subject_citizen_id or 0 for e in done) == sorted([pk(KHOI_ID), mai.pk])
    authority = guardianship.parental_authority(eid_reader(), KHOI_ID, MAI_ID, on=date(2026, 12, 1))
    assert authority.relationship == "guardian"


def test_the_childs_commune_still_registers_first_and_the_row_says_where(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
    city_police: Person,
) -> None:
    move(MAI_ID, HOAN_KIEM_WARD)  # where the guardian lives does not matter at the ward's commune
    assert appoint(civil_status_tayho).registered_ward_code == TAY_HO_WARD
    end(civil_status_tayho)
    # A province's registry officer works as before (the province is the jurisdiction); it has no
    # commune, so none is recorded.
    view = guardianship.record_guardianship(
        city_police.ctx("registry.administration"),
        KHOI_ID,
        MAI_ID,
        kind="appointed",
        started_on=date(2026, 11, 2),
        record_number="GH-40/2026",
        reason="Người giám hộ mới",
        legal_basis=BASIS,
    )
    assert view.registered_ward_code == ""


def test_a_third_commune_gets_one_refusal_whatever_is_wrong_with_the_guardian(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_badinh: Person,  # noqa: F811
) -> None:
    # The reviewer's probe from Ba Đình, where neither Khôi nor Mai lives: the four answers used
    # to be able to tell an unknown number, a death, an age and a residence apart.
    move(MAI_ID, HOAN_KIEM_WARD)  # a living adult, but of Hoàn Kiếm
    move(AN_ID, BA_DINH_WARD, life_status="deceased", date_of_death=date(2026, 1, 1))  # of Ba Đình
    move(HA_ID, BA_DINH_WARD)  # of Ba Đình, 10
    answers = set()
    for guardian in (UNKNOWN_ID, AN_ID, HA_ID, MAI_ID):
        with pytest.raises(AccessDenied) as refused:
            appoint(civil_status_badinh, guardian)
        answers.add(refusal(refused))
    assert len(answers) == 1  # one answer for the four cases
    (field, rule, message) = answers.pop()
    assert (field, rule) == ("ward_id_number", "jurisdiction")
    assert message.startswith("neither the ward's nor the guardian's permanent residence is in your ward")
    # Audited as the ward's jurisdiction refusal: denied, to Khôi's record. An and Hà live in Ba
    # Đình: for them the refusal (against going on to Khôi's checks, as for an eligible resident)
    # tells the officer that they were not eligible on the start date, so it is on their record
    # as the "not eligible" refusal at the ward's commune is. Mai (of Hoàn Kiếm): nothing.
    denied = AuditEvent.objects.filter(action=RECORD, result="denied", subject_citizen_id=pk(KHOI_ID))
    assert [e.detail["reason"] for e in denied] == ["jurisdiction"] * 4
    named = AuditEvent.objects.filter(
        action=RECORD, subject_citizen_id__in=[pk(AN_ID), pk(HA_ID), pk(MAI_ID)]
    )
    assert sorted((e.subject_citizen_id or 0, e.result, e.detail["reason"]) for e in named) == sorted(
        [(pk(AN_ID), "denied", "guardian_not_eligible"), (pk(HA_ID), "denied", "guardian_not_eligible")]
    )
    assert not Guardianship.objects.exists()
    # The same request succeeds once the eligible guardian lives in Ba Đình.
    move(MAI_ID, BA_DINH_WARD)
    assert appoint(civil_status_badinh).registered_ward_code == BA_DINH_WARD


def test_the_guardians_commune_cannot_register_a_guardian_who_lives_elsewhere(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_hoankiem: Person,  # noqa: F811
    civil_status_badinh: Person,  # noqa: F811
) -> None:
    # An is an eligible adult, but of Tây Hồ: Hoàn Kiếm is neither his nor Khôi's commune.
    with pytest.raises(AccessDenied) as eligible_elsewhere:
        appoint(civil_status_hoankiem, AN_ID)
    # Mai lives in Hoàn Kiếm but is recorded as deceased: the same refusal, not "deceased".
    move(MAI_ID, HOAN_KIEM_WARD, life_status="deceased", date_of_death=date(2026, 2, 1))
    with pytest.raises(AccessDenied) as deceased_here:
        appoint(civil_status_hoankiem, MAI_ID)
    with pytest.raises(AccessDenied) as third_commune:
        appoint(civil_status_badinh, UNKNOWN_ID)
    assert refusal(eligible_elsewhere) == refusal(deceased_here) == refusal(third_commune)
    assert not Guardianship.objects.exists()


def test_the_wards_rules_apply_at_the_guardians_commune_too(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_hoankiem: Person,  # noqa: F811
) -> None:
    move(MAI_ID, HOAN_KIEM_WARD)
    with pytest.raises(DomainValidationError) as himself:
        appoint(civil_status_hoankiem, KHOI_ID)
    assert rules(himself) == {"guardian_id_number": "self"}
    with pytest.raises(DomainValidationError) as adult_ward:  # An, 41, of Tây Hồ
        appoint(civil_status_hoankiem, ward=AN_ID)
    assert rules(adult_ward) == {"started_on": "minor"}
    appoint(civil_status_hoankiem)
    # A second guardian is refused for that alone: the answer does not change with the start date,
    # so it tells nothing of the date of birth of a child of another commune.
    for day in (date(2015, 1, 1), date(2026, 7, 1)):  # before his birth; while he is 4
        with pytest.raises(DomainValidationError) as second:
            appoint(civil_status_hoankiem, started_on=day)
        assert rules(second) == {"ward_id_number": "has_guardian"}
    move(KHOI_ID, TAY_HO_WARD, life_status="deceased", date_of_death=date(2026, 11, 20))
    with pytest.raises(DomainValidationError) as deceased:
        appoint(civil_status_hoankiem, started_on=date(2026, 11, 21))
    assert rules(deceased) == {"ward_id_number": "deceased"}
    # Each refusal about a ward of another commune is on that ward's record.
    denied = AuditEvent.objects.filter(action=RECORD, result="denied", subject_citizen_id=pk(KHOI_ID))
    assert sorted(tuple(e.detail["rules"]) for e in denied) == [
        ("deceased",),
        ("has_guardian",),
        ("has_guardian",),
    ]
    # And on the guardian's: the request found her an eligible resident of Hoàn Kiếm on each date.
    as_guardian = AuditEvent.objects.filter(action=RECORD, result="denied", subject_citizen_id=pk(MAI_ID))
    assert sorted((tuple(e.detail["rules"]), e.detail["as"]) for e in as_guardian) == [
        (("deceased",), "guardian"),
        (("has_guardian",), "guardian"),
        (("has_guardian",), "guardian"),
        (("minor",), "guardian"),  # the refusal of An as a ward
    ]
    assert Guardianship.objects.count() == 1


# --------------------------------------------------------------------------- ending
def test_the_registering_commune_ends_it_and_a_third_commune_is_refused(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_hoankiem: Person,  # noqa: F811
    civil_status_badinh: Person,  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    move(MAI_ID, HOAN_KIEM_WARD)
    appoint(civil_status_hoankiem)
    with pytest.raises(AccessDenied) as third:
        end(civil_status_badinh)
    assert (third.value.field, third.value.rule) == ("ward_id_number", "jurisdiction")
    assert AuditEvent.objects.filter(
        action=END, result="denied", subject_citizen_id=pk(KHOI_ID), detail__reason="jurisdiction"
    ).exists()
    assert Guardianship.objects.get().ended_on is None
    # Law on Civil Status 2014 Art. 22 cl. 1: filed with the authority that registered it.
    assert end(civil_status_hoankiem).ended_on == date(2026, 11, 1)
    ended = AuditEvent.objects.filter(action=END, result="ok")
    assert sorted(e.subject_citizen_id or 0 for e in ended) == sorted([pk(KHOI_ID), pk(MAI_ID)])
    # With nothing registered there in office, Hoàn Kiếm is refused like anyone else (not "no
    # guardian": that is the child's commune's to know).
    with pytest.raises(AccessDenied) as nothing_here:
        end(civil_status_hoankiem)
    assert nothing_here.value.rule == "jurisdiction"
    # The child's commune ends one registered at the guardian's commune, as before.
    appoint(civil_status_hoankiem, started_on=date(2026, 11, 2))
    assert end(civil_status_tayho, date(2026, 12, 1)).ended_on == date(2026, 12, 1)


# --------------------------------------------------------------------------- reading
def test_the_registering_commune_sees_only_the_guardianships_it_registered(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_hoankiem: Person,  # noqa: F811
    civil_status_badinh: Person,  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    guardianship.record_parental_restriction(
        civil_status_tayho.ctx(CS),
        KHOI_ID,
        AN_ID,
        decision="45/2026/QĐ-TA",
        decided_on=date(2026, 3, 1),
        court="Tòa án nhân dân khu vực 1 – Hà Nội",
        restricted_from=date(2026, 3, 1),
        restricted_until=None,
        reason="Tòa án hạn chế quyền của cha",
        legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
    )
    move(MAI_ID, HOAN_KIEM_WARD)
    appoint(civil_status_tayho, started_on=date(2026, 4, 1))  # at Khôi's commune
    end(civil_status_tayho, date(2026, 5, 31))
    appoint(civil_status_hoankiem)  # at Mai's
    before = AuditEvent.objects.filter(subject_citizen_id=pk(AN_ID)).count()

    seen = guardianship.child_record(civil_status_hoankiem.ctx(CS), KHOI_ID)
    assert seen.scope == guardianship.REGISTERED_HERE
    assert [(g.registered_ward_code, g.started_on) for g in seen.guardianships] == [
        (HOAN_KIEM_WARD, date(2026, 6, 1))
    ]
    assert (seen.father_id_number, seen.father_name, seen.mother_id_number, seen.restrictions) == (
        "",
        "",
        "",
        [],
    )
    # Audited to Khôi and to the guardian it names; the father is not named, so not on his record.
    read = AuditEvent.objects.filter(action=READ, result="ok")
    assert sorted(e.subject_citizen_id or 0 for e in read) == sorted([pk(KHOI_ID), pk(MAI_ID)])
    assert AuditEvent.objects.filter(subject_citizen_id=pk(AN_ID)).count() == before

    # Khôi's commune sees everything, and where each guardianship was registered.
    whole = guardianship.child_record(civil_status_tayho.ctx(CS), KHOI_ID)
    assert whole.scope == guardianship.WHOLE_RECORD and whole.father_id_number == AN_ID
    assert [g.registered_ward_code for g in whole.guardianships] == [HOAN_KIEM_WARD, TAY_HO_WARD]
    assert len(whole.restrictions) == 1

    # A third commune: refused as before, audited.
    with pytest.raises(AccessDenied) as third:
        guardianship.child_record(civil_status_badinh.ctx(CS), KHOI_ID)
    assert (third.value.field, third.value.rule) == ("child_id_number", "jurisdiction")
    assert AuditEvent.objects.filter(action=READ, result="denied", subject_citizen_id=pk(KHOI_ID)).exists()


def test_a_malformed_guardian_number_is_refused_before_the_ward_is_looked_up(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_badinh: Person,  # noqa: F811
) -> None:
    # The guardian's number was parsed only on the guardian's route, after the ward was found:
    # a third commune got 422 for a child who exists and 404 for one who does not, with nothing
    # on the child's record (the jurisdiction refusal it replaced was audited to the child). The
    # number's form is checked with the request's other input now, before any look-up.
    malformed = "999000000001"  # twelve digits (the desk's form lets it through), no province 999
    answers = set()
    for ward in (KHOI_ID, UNKNOWN_ID):
        with pytest.raises(DomainValidationError) as refused:
            appoint(civil_status_badinh, malformed, ward=ward)
        answers.add(tuple(sorted(rules(refused).items())))
    assert answers == {(("guardian_id_number", "province_code"),)}
    assert not AuditEvent.objects.filter(action=RECORD).exists()  # nobody was looked up


def test_the_registering_commune_keeps_its_guardianship_when_the_guardian_moves_away(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_hoankiem: Person,  # noqa: F811
    civil_status_badinh: Person,  # noqa: F811
) -> None:
    move(MAI_ID, HOAN_KIEM_WARD)
    appoint(civil_status_hoankiem)
    move(MAI_ID, BA_DINH_WARD)  # the guardian's new commune did not register it
    with pytest.raises(AccessDenied) as read:
        guardianship.child_record(civil_status_badinh.ctx(CS), KHOI_ID)
    with pytest.raises(AccessDenied) as ended:
        end(civil_status_badinh)
    assert (read.value.rule, ended.value.rule) == ("jurisdiction", "jurisdiction")
    # Hoàn Kiếm, which registered it, still reads it and files its termination (Art. 22 cl. 1).
    seen = guardianship.child_record(civil_status_hoankiem.ctx(CS), KHOI_ID)
    assert seen.scope == guardianship.REGISTERED_HERE
    assert end(civil_status_hoankiem).ended_on == date(2026, 11, 1)


@pytest.mark.parametrize("where", ["registering", "childs"])
def test_the_guardianship_of_a_ward_who_died_is_ended(
    where: str,
    an_children: dict[str, Any],  # noqa: F811
    civil_status_hoankiem: Person,  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    # Civil Code 2015 Art. 62 cl. 1(b): the ward's death ends the guardianship, and its
    # termination is registered (Law on Civil Status 2014 Art. 22); the write guard's "deceased"
    # refused it, leaving the guardian in office for good (and, at the registering commune, told
    # the death without a trace on the ward's record).
    move(MAI_ID, HOAN_KIEM_WARD)
    appoint(civil_status_hoankiem)
    move(KHOI_ID, TAY_HO_WARD, life_status="deceased", date_of_death=date(2026, 10, 30))
    officer = civil_status_hoankiem if where == "registering" else civil_status_tayho
    assert end(officer).ended_on == date(2026, 11, 1)
    assert Guardianship.objects.get().ended_on == date(2026, 11, 1)
