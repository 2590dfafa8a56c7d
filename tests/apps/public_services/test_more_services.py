"""The fourteen procedures of the second increment, each as a specification: who may use it, the
rule that refuses it (naming the field), who decides, and what changes in the registry or the
sector's register when it is approved.

Actors: ``an`` (Nguyễn Văn An, born 1985, Tây Hồ, chip card valid to 2045, level-1 eID) and
``mai`` (Huỳnh Thị Mai, born 1992, Tây Hồ) — citizens; ``ward_police`` / ``ward_committee`` of
Tây Hồ; ``other_ward_police`` of Hoàn Kiếm; ``city_police`` of Hà Nội; the city departments
``justice`` (Sở Tư pháp), ``construction`` (Sở Xây dựng), ``home_affairs`` (Sở Nội vụ).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.apps.public_services import handlers, payments, services, workdays
from dancu.apps.public_services.models import (
    Dossier,
    DrivingLicence,
    HealthInsuranceCard,
    InsurancePeriod,
    JudicialRecord,
    Payment,
    TrafficFine,
)
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.eid import services as eid
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import ChipData, TrustStore
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.models import Citizen, CitizenRevision, IdentityCard
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.blocks.eid.conftest import MAI_ID, an_chip, portrait  # noqa: F401 — the chip fixture
from tests.conftest import HANOI, Person

pytestmark = pytest.mark.django_db
AN_ID = "001085012345"
TODAY = timezone.localdate


def _d(days: int) -> str:
    return (TODAY() + timedelta(days=days)).strftime("%d/%m/%Y")


_keys = iter(range(10**6))


def submit(user_id: int, code: str, values: dict[str, str], **kw: Any) -> Dossier:
    dossier, created = services.submit(user_id, code, values, idempotency_key=f"key-{next(_keys):016d}", **kw)
    assert created
    return dossier


def rules_of(exc: pytest.ExceptionInfo[DomainValidationError]) -> dict[str, str]:
    return {p.field: p.rule for p in exc.value.problems}


def result(dossier: Dossier) -> dict[str, Any]:
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.DONE, (dossier.status, dossier.reasons)
    return dict(json.loads(dossier.result_document)["result"])


def department(make_person: Callable[..., Person], username: str, code: str, name: str) -> Person:
    return make_person(
        username, org_code=code, org_name=name, kind="department", role="officer", province=HANOI
    )


@pytest.fixture
def mai(mai: int) -> int:
    """Mai's level-1 account, approved by the ward police (her phone is not the one on record)."""
    Account.objects.filter(user_id=mai).update(status=Account.Status.ACTIVE, level=1)
    return mai


@pytest.fixture
def justice(make_person: Callable[..., Person]) -> Person:
    return department(make_person, "officer.justice", "SO-TUPHAP", "Sở Tư pháp Hà Nội")


@pytest.fixture
def construction(make_person: Callable[..., Person]) -> Person:
    return department(make_person, "officer.construction", "SO-XAYDUNG", "Sở Xây dựng Hà Nội")


@pytest.fixture
def home_affairs(make_person: Callable[..., Person]) -> Person:
    return department(make_person, "officer.homeaffairs", "SO-NOIVU", "Sở Nội vụ Hà Nội")


def admin_ctx() -> AccessContext:
    return AccessContext(Actor.system("test setup"), "registry.administration")


def same_household(head: str, member: str, relationship: str = "sibling") -> str:
    """Put ``member`` in ``head``'s new household at Tây Hồ (test setup through the registry)."""
    view = registry.get_by_id_number(admin_ctx(), head)
    assert view.permanent_address is not None
    address = view.permanent_address.text
    for number, rel in ((head, "head"), (member, relationship)):
        registry.move_residence(
            admin_ctx(),
            number,
            permanent_address_text=address,
            household_number="HK-TEST-0001",
            relationship_to_head=rel,
            reason="Chuẩn bị dữ liệu kiểm thử",
            legal_basis="Luật Cư trú 2020",
        )
    return "HK-TEST-0001"


# --------------------------------------------------------------------------- 2 card re-issue
def test_a_still_valid_card_is_replaced_and_the_old_one_can_no_longer_pass(
    an: int, ward_police: Person
) -> None:
    dossier = submit(an, "card-reissue", {"reason": "damaged", "details": "Thẻ bị nứt"})
    assert dossier.items["cards"]["source"] == "registry" and "cccd_chip" in dossier.items["cards"]["value"]
    facts = result(services.approve(ward_police.actor, dossier.tracking_code))
    cards = {c.status: c for c in IdentityCard.objects.filter(citizen__id_number=AN_ID)}
    assert cards["replaced"].kind == "cccd_chip"
    assert cards["valid"].kind == "can_cuoc" and cards["valid"].issued_on == TODAY()
    # Born 02/03/1985: renewed next at 60 (Law on Identification 2023 Art. 21).
    assert facts["card_expires_on"] == "2045-03-02" and facts["fee_vnd"] == 50000


def test_card_reissue_refusals_name_the_field(
    an: int, other_ward_police: Person, ward_committee: Person
) -> None:
    dossier = submit(an, "card-reissue", {"reason": "damaged"})
    for outsider in (other_ward_police, ward_committee):  # another ward; not the police
        with pytest.raises(AccessDenied):
            services.approve(outsider.actor, dossier.tracking_code)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "card-reissue", {"reason": "changed_details"})
    assert rules_of(err) == {"details": "required"}
    IdentityCard.objects.filter(citizen__id_number=AN_ID).update(expires_on=TODAY() - timedelta(days=1))
    with pytest.raises(DomainValidationError) as err:
        submit(an, "card-reissue", {"reason": "lost"})
    assert rules_of(err) == {"cards": "no_valid_card"}  # an expired card is renewed at the desk


def test_the_card_expiry_follows_the_renewal_ages() -> None:
    born = date(2000, 1, 1)
    assert registry.card_expiry(born, date(2020, 6, 1)) == date(2025, 1, 1)
    assert registry.card_expiry(born, date(2023, 6, 1)) == date(2040, 1, 1)  # within 2 years of 25
    assert registry.card_expiry(born, date(2030, 6, 1)) == date(2040, 1, 1)
    assert registry.card_expiry(born, date(2058, 6, 1)) is None  # within 2 years of 60: for life


def test_a_card_issued_to_a_child_is_renewed_at_14() -> None:
    """Law on Identification 2023 Art. 21 cl. 1 names 14 among the renewal ages (a child under 14 may
    hold a card, Art. 19); cl. 2: issued within the 2 years before 14, it is valid until 25."""
    born = date(2016, 3, 10)
    assert registry.card_expiry(born, date(2026, 5, 1)) == date(2030, 3, 10)  # issued at 10: renewed at 14
    assert registry.card_expiry(born, date(2028, 5, 1)) == date(2041, 3, 10)  # issued at 12: valid to 25


def test_the_registry_and_the_synthetic_population_agree_on_card_expiry() -> None:
    from dancu.synthpop.generator import card_expiry as generated_expiry

    for born in (date(2016, 3, 10), date(2000, 2, 29), date(1970, 12, 31)):
        for years in range(0, 70, 1):
            issued = date(born.year + years, 7, 1)
            assert registry.card_expiry(born, issued) == generated_expiry(born, issued), (born, issued)


# --------------------------------------------------------------------------- 6 residence notification
def test_a_residence_notification_reaches_the_police_of_the_place_of_stay_at_once(
    an: int, other_ward_police: Person, ward_police: Person
) -> None:
    dossier = submit(
        an,
        "residence-notification",
        {
            "stay_address": HOAN_KIEM_ADDRESS,
            "host_name": "Trần Văn Bình",
            "arrival": _d(0),
            "departure": _d(3),
            "reason": "Thăm người thân",
        },
        channel="kiosk",
    )
    facts = result(dossier)
    assert facts["notified_late"] == "không / no" and dossier.channel == "kiosk"
    assert dossier.authority_ward_code == "00070"
    assert dossier in services.queue(other_ward_police.actor, include_closed=True)
    assert not services.queue(ward_police.actor, include_closed=True).exists()


def test_a_stay_of_30_days_or_at_home_is_not_a_residence_notification(an: int) -> None:
    with pytest.raises(DomainValidationError) as err:
        submit(
            an,
            "residence-notification",
            {
                "stay_address": "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội",
                "host_name": "Bình",
                "arrival": _d(0),
                "departure": _d(30),
                "reason": "Ở",
            },
        )
    assert rules_of(err) == {"departure": "max_30_days", "stay_address": "own_residence"}


# --------------------------------------------------------------------------- level-2 eID request
def next_working_day() -> date:
    return workdays.calendar().add_working_days(TODAY(), 1)


def test_a_level2_request_is_closed_only_after_the_desk_activated_the_account(
    an: int,
    an_chip: ChipData,  # noqa: F811
    trusted: TrustStore,
    ward_police: Person,
) -> None:
    dossier = submit(an, "eid-level2", {"appointment": next_working_day().strftime("%d/%m/%Y")})
    assert dossier.authority_kind == "police_commune" and dossier.authority_ward_code == "00103"
    with pytest.raises(DomainValidationError) as err:
        services.approve(ward_police.actor, dossier.tracking_code)
    assert rules_of(err) == {"status": "not_activated"}
    # Handed over to the eID desk's queue of the ward police, who activate him in person.
    queue = eid.pending_level2_requests(ward_police.ctx("eid.activation"))
    assert [(r.reference, r.id_number) for r in queue] == [(dossier.tracking_code, AN_ID)]
    with pytest.raises(AccessDenied):
        eid.pending_level2_requests(ward_police.ctx("public_service.processing"))
    eid.activate_level2(  # at the desk: the chip passes, the face is the chip's portrait
        ward_police.ctx("eid.activation"), chip_files=an_chip.to_dict(), live_photo=portrait(an_chip)
    )
    assert not eid.pending_level2_requests(ward_police.ctx("eid.activation"))
    facts = result(services.approve(ward_police.actor, dossier.tracking_code))
    assert facts["eid_level"] == 2 and facts["activated_by"] == "Công an phường Tây Hồ"
    with pytest.raises(DomainValidationError) as err:  # once at level 2, nothing more to ask
        submit(an, "eid-level2", {"appointment": next_working_day().strftime("%d/%m/%Y")})
    assert "account" in rules_of(err)


def test_a_level2_appointment_is_on_a_working_day_within_30_days(an: int) -> None:
    saturday = TODAY() + timedelta(days=(5 - TODAY().weekday()) % 7 or 7)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "eid-level2", {"appointment": saturday.strftime("%d/%m/%Y")})
    assert rules_of(err) == {"appointment": "working_day"}
    with pytest.raises(DomainValidationError) as err:
        submit(an, "eid-level2", {"appointment": _d(45)})
    assert rules_of(err) == {"appointment": "window"}


# --------------------------------------------------------------------------- 11 marriage
def marriage(an: int) -> Dossier:
    return submit(
        an, "marriage-registration", {"partner_id_number": MAI_ID, "partner_full_name": "Huỳnh Thị Mai"}
    )


def test_both_parties_consent_and_the_registry_records_each_as_the_others_spouse(
    an: int, mai: int, ward_committee: Person
) -> None:
    dossier = marriage(an)
    assert dossier.status == Dossier.Status.CONSENT
    with pytest.raises(DomainValidationError):  # not before the partner said yes
        services.approve(ward_committee.actor, dossier.tracking_code)
    assert list(services.pending_consents(mai)) == [dossier]
    assert not services.pending_consents(an).exists()
    with pytest.raises(NotFound):  # only the named partner answers
        services.consent(an, dossier.tracking_code, agree=True)
    agreed = services.consent(mai, dossier.tracking_code, agree=True)
    assert agreed.status == Dossier.Status.SUBMITTED
    assert agreed.items["partner_date_of_birth"] == {"value": "12/08/1992", "source": "registry"}
    facts = result(services.approve(ward_committee.actor, dossier.tracking_code))
    assert "Huỳnh Thị Mai" in facts["spouse_2"]
    an_row, mai_row = Citizen.objects.get(id_number=AN_ID), Citizen.objects.get(id_number=MAI_ID)
    assert an_row.spouse_id == mai_row.pk and mai_row.spouse_id == an_row.pk
    assert CitizenRevision.objects.filter(citizen=an_row, changes__has_key="spouse").exists()
    with pytest.raises(DomainValidationError) as err:  # married now: no second marriage
        marriage(an)
    assert rules_of(err) == {"id_number": "already_married"}


def test_a_partner_who_declines_or_is_a_sibling_stops_the_marriage(an: int, mai: int) -> None:
    Citizen.objects.filter(id_number__in=[AN_ID, MAI_ID]).update(
        mother=Citizen.objects.create(
            id_number="001160000001",
            full_name="Lê Thị Hoa",
            given_name="Hoa",
            name_folded="le thi hoa",
            date_of_birth=date(1960, 1, 1),
            sex="F",
            birth_registration_code="001",
        )
    )
    dossier = marriage(an)
    with pytest.raises(DomainValidationError) as err:
        services.consent(mai, dossier.tracking_code, agree=True)
    assert rules_of(err) == {"partner_id_number": "relatives"}
    declined = services.consent(mai, dossier.tracking_code, agree=False)
    assert declined.status == Dossier.Status.REFUSED


def test_the_registry_itself_refuses_a_same_sex_or_under_age_marriage(an: int) -> None:
    young = registry.register_citizen(
        admin_ctx(),
        registry.NewCitizen(
            id_number="001210000123", full_name="Trần Văn Nam", date_of_birth=date(2010, 5, 5), sex="M"
        ),
        reason="Kiểm thử",
        legal_basis="Luật Hộ tịch 2014",
    )
    with pytest.raises(DomainValidationError) as err:
        registry.record_marriage(admin_ctx(), AN_ID, young.id_number, on=TODAY(), reason="x", legal_basis="y")
    assert {(p.field, p.rule) for p in err.value.problems} == {
        ("partner_id_number", "marriage_age"),
        ("partner_id_number", "same_sex"),
    }
    with pytest.raises(AccessDenied):  # a reading purpose never writes
        registry.record_marriage(
            AccessContext(Actor.system("x"), "public_service.processing"),
            AN_ID,
            MAI_ID,
            on=TODAY(),
            reason="x",
            legal_basis="y",
        )


# --------------------------------------------------------------------------- civil status change
def test_a_civil_status_change_corrects_the_registry_with_a_revision(
    an: int, ward_committee: Person, ward_police: Person
) -> None:
    dossier = submit(
        an,
        "civil-status-change",
        {"field": "ethnicity", "new_value": "Tày", "grounds": "Theo dân tộc của mẹ"},
    )
    with pytest.raises(AccessDenied):  # civil status is the committee's, not the police's
        services.approve(ward_police.actor, dossier.tracking_code)
    result(services.approve(ward_committee.actor, dossier.tracking_code))
    row = Citizen.objects.get(id_number=AN_ID)
    assert row.ethnicity == "Tày"
    revision = CitizenRevision.objects.filter(citizen=row).latest("version")
    assert revision.changes["ethnicity"] == ["Kinh", "Tày"] and dossier.tracking_code in revision.reason
    with pytest.raises(DomainValidationError) as err:
        submit(an, "civil-status-change", {"field": "ethnicity", "new_value": "tày", "grounds": "x"})
    assert rules_of(err) == {"new_value": "no_change"}


# --------------------------------------------------------------------------- household separation
def test_household_separation_needs_the_heads_consent_and_makes_a_new_household(
    an: int, mai: int, ward_police: Person, other_ward_police: Person
) -> None:
    old = same_household(MAI_ID, AN_ID)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "household-separation", {"head_id_number": AN_ID, "grounds": "Lập gia đình riêng"})
    assert rules_of(err) == {"head_id_number": "not_head"}
    dossier = submit(an, "household-separation", {"head_id_number": MAI_ID, "grounds": "Lập gia đình riêng"})
    assert dossier.status == Dossier.Status.CONSENT
    services.consent(mai, dossier.tracking_code, agree=True)
    with pytest.raises(AccessDenied):
        services.approve(other_ward_police.actor, dossier.tracking_code)
    facts = result(services.approve(ward_police.actor, dossier.tracking_code))
    row = Citizen.objects.select_related("household").get(id_number=AN_ID)
    assert row.household is not None and row.household.household_number == facts["household_number"] != old
    assert row.relationship_to_head == "head"


def test_the_head_cannot_separate_from_their_own_household(an: int, mai: int) -> None:
    same_household(AN_ID, MAI_ID)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "household-separation", {"head_id_number": AN_ID, "grounds": "x"})
    assert rules_of(err)["household_number"] == "is_head"


# --------------------------------------------------------------------------- temporary residence extension
def registered_temporary_residence(an: int, police: Person, *, until_days: int) -> None:
    first = submit(
        an,
        "temporary-residence",
        {
            "temporary_address": HOAN_KIEM_ADDRESS,
            "stay_until": _d(until_days),
            "lodging_basis": "Hợp đồng thuê",
        },
    )
    services.approve(police.actor, first.tracking_code)


def test_an_extension_goes_to_the_police_of_the_temporary_residence(
    an: int, other_ward_police: Person
) -> None:
    registered_temporary_residence(an, other_ward_police, until_days=10)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "temporary-residence-extension", {"stay_until": _d(5)})
    assert rules_of(err) == {"stay_until": "order"}
    dossier = submit(an, "temporary-residence-extension", {"stay_until": _d(300)})
    assert (
        dossier.authority_ward_code == "00070" and dossier.items["temporary_address"]["source"] == "registry"
    )
    assert result(services.approve(other_ward_police.actor, dossier.tracking_code))["stay_until"]


def test_an_extension_is_asked_within_15_days_of_the_end_and_needs_a_temporary_residence(
    an: int, other_ward_police: Person
) -> None:
    with pytest.raises(DomainValidationError) as err:
        submit(an, "temporary-residence-extension", {"stay_until": _d(100)})
    assert rules_of(err) == {"temporary_address": "none"}
    registered_temporary_residence(an, other_ward_police, until_days=180)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "temporary-residence-extension", {"stay_until": _d(400)})
    assert rules_of(err) == {"stay_until": "too_early"}


# --------------------------------------------------------------------------- 15 and 16 joint procedures
def test_the_joint_birth_gives_a_number_a_household_and_a_free_health_card(
    an: int, ward_committee: Person
) -> None:
    same_household(AN_ID, MAI_ID, "spouse")
    born = TODAY() - timedelta(days=2)
    dossier = submit(
        an,
        "birth-joint",
        {
            "child_full_name": "Nguyễn Minh Khôi",
            "child_date_of_birth": born.strftime("%d/%m/%Y"),
            "child_sex": "M",
            "birth_place": "Bệnh viện Phụ sản Hà Nội",
            "relationship": "father",
        },
    )
    facts = result(services.approve(ward_committee.actor, dossier.tracking_code))
    child = Citizen.objects.select_related("household").get(id_number=facts["child_id_number"])
    assert child.household is not None and child.household.household_number == "HK-TEST-0001"
    card = HealthInsuranceCard.objects.get(id_number=child.id_number)
    assert card.kind == "child" and card.card_number.startswith("TE101")
    assert card.valid_until == handlers.child_card_until(born) and card.valid_until.year == born.year + 6


def test_the_child_card_runs_to_72_months_or_to_30_september() -> None:
    assert handlers.child_card_until(date(2020, 3, 10)) == date(2026, 9, 30)
    assert handlers.child_card_until(date(2020, 11, 10)) == date(2026, 11, 9)


def test_the_joint_death_removes_the_residence_and_grants_the_funeral_allowance(
    an: int, mai: int, ward_committee: Person
) -> None:
    InsurancePeriod.objects.create(
        id_number=MAI_ID,
        employer="Công ty X",
        start_month=date(2020, 1, 1),
        end_month=date(2021, 12, 1),
        monthly_salary_vnd=10_000_000,
    )
    dossier = submit(
        an,
        "death-joint",
        {
            "deceased_id_number": MAI_ID,
            "deceased_full_name": "Huỳnh Thị Mai",
            "date_of_death": _d(-1),
            "death_notice": "GBT-02/2026",
            "relationship": "Chồng",
        },
    )
    facts = result(services.approve(ward_committee.actor, dossier.tracking_code))
    assert facts["funeral_allowance_vnd"] == 23_400_000  # 10 × 2,340,000 đ
    row = Citizen.objects.get(id_number=MAI_ID)
    assert row.life_status == "deceased" and row.permanent_address_text == "" and row.household_id is None
    with pytest.raises(DomainValidationError):  # the living keep their residence
        registry.remove_permanent_residence(admin_ctx(), AN_ID, reason="x", legal_basis="y")


# --------------------------------------------------------------------------- 20 driving licence
def licence(**kw: Any) -> DrivingLicence:
    values: dict[str, Any] = {
        "id_number": AN_ID,
        "licence_number": "010123456789",
        "licence_class": "B",
        "issued_on": date(2016, 12, 20),
        "expires_on": TODAY() + timedelta(days=30),
    }
    return DrivingLicence.objects.create(**(values | kw))


def test_a_licence_near_its_end_is_exchanged_by_the_department_of_construction(
    an: int, construction: Person, justice: Person, ward_police: Person
) -> None:
    licence()
    with pytest.raises(DomainValidationError) as err:
        submit(an, "driving-licence", {"licence_number": "010123456789", "reason": "expired"})
    assert rules_of(err) == {"health_certificate": "required"}
    dossier = submit(
        an,
        "driving-licence",
        {"licence_number": "010123456789", "reason": "expired", "health_certificate": "KSK-1"},
    )
    assert dossier.items["licence_class"] == {"value": "B", "source": "sector"}
    assert dossier.authority_kind == "department" and dossier.authority_org_code == "SO-XAYDUNG"
    for outsider in (justice, ward_police):  # another department, a ward: not theirs
        with pytest.raises(AccessDenied):
            services.dossier_for(outsider.actor, dossier.tracking_code)
    facts = result(services.approve(construction.actor, dossier.tracking_code))
    assert facts["licence_expires_on"] == (TODAY().replace(year=TODAY().year + 10)).isoformat()
    assert set(DrivingLicence.objects.values_list("status", flat=True)) == {"valid", "replaced"}


def test_a_licence_expired_over_12_months_or_of_someone_else_is_refused(an: int) -> None:
    licence(expires_on=TODAY() - timedelta(days=400), licence_class="A1")
    licence(id_number=MAI_ID, licence_number="010999999999")
    with pytest.raises(DomainValidationError) as err:
        submit(an, "driving-licence", {"licence_number": "010123456789", "reason": "damaged"})
    assert rules_of(err) == {"licence_number": "expired_12_months"}
    with pytest.raises(DomainValidationError) as err:
        submit(an, "driving-licence", {"licence_number": "010999999999", "reason": "damaged"})
    assert rules_of(err) == {"licence_number": "not_found"}


# --------------------------------------------------------------------------- 22 criminal record
def test_the_criminal_record_is_checked_by_the_police_then_signed_by_justice(
    an: int, city_police: Person, justice: Person
) -> None:
    JudicialRecord.objects.create(
        id_number=AN_ID,
        judgment="12/2005/HSST",
        court="TAND quận Tây Hồ",
        judged_on=date(2005, 6, 1),
        offence="Trộm cắp tài sản",
        sentence="6 tháng tù cho hưởng án treo",
        expunged=True,
    )
    form1 = submit(an, "criminal-record", {"form": "1", "purpose": "Xin việc"})
    form2 = submit(an, "criminal-record", {"form": "2", "purpose": "Bổ sung hồ sơ"})
    assert form1.authority_kind == "police_city"
    assert not services.queue(justice.actor).exists()  # step 2 only after the police's step
    for d in (form1, form2):
        moved = services.approve(city_police.actor, d.tracking_code)
        assert moved.status == Dossier.Status.RECEIVED and moved.authority_org_code == "SO-TUPHAP"
    assert {d.pk for d in services.queue(justice.actor)} == {form1.pk, form2.pk}
    with pytest.raises(AccessDenied):
        services.approve(city_police.actor, form1.tracking_code)  # the police's step is done
    one = result(services.approve(justice.actor, form1.tracking_code))
    two = result(services.approve(justice.actor, form2.tracking_code))
    assert one["judicial_record"].startswith("Không có án tích")  # expunged: not on form 1
    assert "đã được xóa án tích" in two["judicial_record"]  # form 2 shows everything
    assert form1.events.filter(action="step_approved").count() == 1


# --------------------------------------------------------------------------- 23 unemployment benefit
def contributions(months: int, end: date, salary: int = 10_000_000) -> None:
    last = end.replace(day=1)
    first = last
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    InsurancePeriod.objects.create(
        id_number=AN_ID, employer="Công ty Y", start_month=first, end_month=last, monthly_salary_vnd=salary
    )


def unemployment(an: int, end: date, termination: str = "contract_expired") -> Dossier:
    return submit(
        an,
        "unemployment-benefit",
        {"employer": "Công ty Y", "contract_end": end.strftime("%d/%m/%Y"), "termination": termination},
    )


def test_the_unemployment_benefit_is_60_percent_for_3_months_after_two_sign_offs(
    an: int, home_affairs: Person, justice: Person
) -> None:
    end = TODAY() - timedelta(days=20)
    contributions(30, end, salary=50_000_000)
    dossier = unemployment(an, end)
    assert dossier.items["ui_months"] == {"value": "24", "source": "sector"}
    with pytest.raises(AccessDenied):  # the Department of Justice does not decide benefits
        services.approve(justice.actor, dossier.tracking_code)
    services.approve(home_affairs.actor, dossier.tracking_code)
    facts = result(services.approve(home_affairs.actor, dossier.tracking_code))
    assert facts["monthly_benefit_vnd"] == 24_800_000  # 60 % of 50 M capped at 5 × 4,960,000
    assert facts["benefit_months"] == 3


def test_unemployment_refusals(an: int) -> None:
    end = TODAY() - timedelta(days=20)
    contributions(6, end)
    with pytest.raises(DomainValidationError) as err:
        unemployment(an, end, "unlawful_quit")
    assert rules_of(err) == {"termination": "not_eligible", "contract_end": "contributions"}
    with pytest.raises(DomainValidationError) as err:
        unemployment(an, TODAY() - timedelta(days=120))
    assert rules_of(err) == {"contract_end": "deadline_3_months"}


# --------------------------------------------------------------------------- 8 traffic fine (paid online)
def fine(decided_days_ago: int = 20, id_number: str = AN_ID, number: str = "QD-123/2026") -> TrafficFine:
    return TrafficFine.objects.create(
        decision_number=number,
        id_number=id_number,
        plate="30A-123.45",
        violation="Không chấp hành hiệu lệnh của đèn tín hiệu giao thông",
        legal_basis="Nghị định 168/2024/NĐ-CP Điều 6",
        amount_vnd=1_000_000,
        decided_on=TODAY() - timedelta(days=decided_days_ago),
    )


def pay(reference: str, amount: int, *, paid: bool = True) -> dict[str, str]:
    return payments.dev_gateway().callback_fields(reference, amount, paid=paid, transaction="GW-0001")


def test_a_fine_paid_through_the_gateway_is_settled_once(an: int) -> None:
    fine()
    dossier = submit(an, "traffic-fine", {"decision_number": "QD-123/2026"})
    assert dossier.status == Dossier.Status.PAYMENT and dossier.items["plate"]["source"] == "sector"
    url = services.start_payment(an, dossier.tracking_code)
    payment = Payment.objects.get(dossier=dossier)
    assert payment.reference in url and payment.amount_vnd == 1_005_000  # 10 days late: + 0.05 %/day
    with pytest.raises(DomainValidationError) as err:
        services.payment_callback(pay(payment.reference, 1_000))  # not the amount asked
    assert rules_of(err) == {"amount": "mismatch"}
    forged = pay(payment.reference, payment.amount_vnd) | {"signature": "0" * 64}
    with pytest.raises(DomainValidationError):
        services.payment_callback(forged)
    services.payment_callback(pay(payment.reference, payment.amount_vnd))
    services.payment_callback(pay(payment.reference, payment.amount_vnd))  # the IPN again
    facts = result(dossier)
    assert facts["paid_vnd"] == 1_005_000
    assert TrafficFine.objects.get().status == "paid"
    assert dossier.events.filter(action="result").count() == 1


def test_a_failed_payment_can_be_retried_and_others_fines_are_not_found(an: int) -> None:
    fine()
    fine(number="QD-999/2026", id_number=MAI_ID)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "traffic-fine", {"decision_number": "QD-999/2026"})
    assert rules_of(err) == {"decision_number": "not_found"}
    dossier = submit(an, "traffic-fine", {"decision_number": "QD-123/2026"})
    services.start_payment(an, dossier.tracking_code)
    first = Payment.objects.get(dossier=dossier)
    services.payment_callback(pay(first.reference, first.amount_vnd, paid=False))
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.PAYMENT
    services.start_payment(an, dossier.tracking_code)
    second = Payment.objects.get(dossier=dossier, status="pending")
    services.payment_callback(pay(second.reference, second.amount_vnd))
    assert result(dossier)["decision_number"] == "QD-123/2026"


# --------------------------------------------------------------------------- 17 household health insurance
def test_the_household_health_cards_are_extended_after_payment(an: int, mai: int) -> None:
    same_household(AN_ID, MAI_ID)
    for number, card in ((AN_ID, "GD4010000000001"), (MAI_ID, "GD4010000000002")):
        HealthInsuranceCard.objects.create(
            id_number=number,
            card_number=card,
            kind="household",
            valid_from=date(2026, 1, 1),
            valid_until=TODAY() + timedelta(days=5),
        )
    dossier = submit(an, "health-insurance-renewal", {"months": "12"})
    services.start_payment(an, dossier.tracking_code)
    payment = Payment.objects.get(dossier=dossier)
    assert payment.amount_vnd == (105_300 + 73_710) * 12  # 4.5 % of 2,340,000; the 2nd member 70 %
    services.payment_callback(pay(payment.reference, payment.amount_vnd))
    result(dossier)
    assert all(c.valid_until > TODAY() + timedelta(days=360) for c in HealthInsuranceCard.objects.all())
    # The cards were read from BHXH's register through the data-exchange gateway, for An only.
    from dancu.blocks.exchange.models import Message

    reads = Message.objects.filter(service_id__endswith="/BHXH-HN/BHYT/household-health-insurance")
    assert reads.exists() and all(m.status == 200 and m.end_user == f"citizen:{AN_ID}" for m in reads)
    assert dossier.items["hi_cards"]["value"] == "GD4010000000001, GD4010000000002"


def test_a_household_without_household_cards_cannot_renew(an: int, mai: int) -> None:
    with pytest.raises(DomainValidationError) as err:
        submit(an, "health-insurance-renewal", {"months": "6"})
    assert rules_of(err) == {"household_number": "no_household"}
    same_household(AN_ID, MAI_ID)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "health-insurance-renewal", {"months": "6"})
    assert rules_of(err) == {"household_number": "no_cards"}


def test_the_level2_hand_over_is_idempotent_and_listed_only_in_the_holders_ward(
    an: int, ward_police: Person, other_ward_police: Person
) -> None:
    day = next_working_day()
    assert eid.request_level2(an, ward_code="00103", appointment=day, reference="DVC-TEST-1") == "pending"
    assert eid.request_level2(an, ward_code="00103", appointment=day, reference="DVC-TEST-1") == "pending"
    assert len(eid.pending_level2_requests(ward_police.ctx("eid.activation"))) == 1
    assert eid.pending_level2_requests(other_ward_police.ctx("eid.activation")) == []
    Account.objects.filter(user_id=an).update(level=2)
    with pytest.raises(DomainValidationError) as err:
        eid.request_level2(an, ward_code="00103", appointment=day, reference="DVC-TEST-2")
    assert rules_of(err) == {"account": "already_level2"}
