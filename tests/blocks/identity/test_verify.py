"""Identity verification (issue 3, item 4): an establishment checks that the person in front of it is
who their card says, against the population registry — with the least data, and on the record.

Specifications, each with named actors: the evidence (card QR, chip, MRZ, typed) is checked, then
matched (exact, accent-, variant- and order-insensitive name score), the card's and the holder's
status decide, ``yes_no`` mode reveals nothing personal, ``data`` mode exactly the organisation's
fields; every call — denials included — is in the audit log the citizen reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.identity.chip import ChipData, create_csca, create_document_signer, encode_dg13, issue_chip
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.mrz import vietnamese_td1
from dancu.blocks.identity.services import (
    VERIFICATION_FIELDS,
    ChipEvidence,
    MrzEvidence,
    QrEvidence,
    TypedEvidence,
    VerificationResult,
    purge_replay_data,
    verify,
)
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.policy import INTEGRATION, purposes_for
from dancu.blocks.registry.matching import CardClaim, IdentityClaim
from dancu.blocks.registry.models import Citizen, IdentityCard
from dancu.blocks.registry.names import match_names
from dancu.blocks.registry.services import (
    NewCitizen,
    change_id_number,
    match_identity,
    record_death,
    register_citizen,
)
from dancu.errors import AccessDenied, Conflict, DomainValidationError
from tests.blocks.identity.conftest import (
    AN_BORN,
    AN_CARD_EXPIRES,
    AN_ID,
    AN_NAME,
    AN_QR,
    MAI_BORN,
    MAI_ID,
    Pki,
    an_holder,
)
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("trusted", "fresh_rate_limits")

PURPOSE = "identity.verification"
AN_MRZ = vietnamese_td1(
    id_number=AN_ID, full_name=AN_NAME, date_of_birth=AN_BORN, sex="M", date_of_expiry=AN_CARD_EXPIRES
).text


def check(person: Person, evidence: Any, **options: Any) -> VerificationResult:
    return verify(person.ctx(PURPOSE), evidence, **options)


def typed(**changes: Any) -> TypedEvidence:
    return replace(TypedEvidence(AN_ID, AN_NAME, AN_BORN), **changes)


def codes(result: VerificationResult) -> list[str]:
    return [r.code for r in result.reasons]


def verify_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="identity.verify").order_by("id"))


def an_card() -> IdentityCard:
    return IdentityCard.objects.get(card_number=AN_ID, issued_on=date(2021, 4, 1))


@pytest.fixture
def an_deceased(residents: dict[str, Any], system_ctx: Callable[[str], AccessContext]) -> None:
    """Nguyễn Văn An's death, recorded on 1 December 2025."""
    record_death(
        system_ctx("registry.administration"),
        AN_ID,
        date_of_death=date(2025, 12, 1),
        reason="Trích lục khai tử số 12/2025",
        legal_basis="Luật Hộ tịch 2014 Điều 33",
    )


# --------------------------------------------------------------------------- each kind of evidence
def test_a_hotel_clerk_verifies_the_qr_of_a_valid_card(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    result = check(hotel_clerk, QrEvidence(AN_QR))
    assert result.decision == "match"
    assert result.matches
    assert result.reasons == ()
    assert result.name_score == 1.0
    assert result.data is None
    record = VerificationRecord.objects.get(receipt_id=result.receipt_id)
    assert (record.decision, record.evidence_kind, record.mode) == ("match", "qr", "yes_no")
    assert record.subject_citizen_id == residents["an"].citizen_id
    assert record.organisation_name == "Khách sạn Hòa Bình"
    assert record.purpose == PURPOSE


def test_a_chip_read_that_passes_passive_authentication_matches(
    hotel_clerk: Person, residents: dict[str, Any], an_chip: ChipData
) -> None:
    result = check(hotel_clerk, ChipEvidence(an_chip.to_dict()))
    assert (result.decision, result.evidence_kind, result.name_score) == ("match", "chip", 1.0)


def test_the_mrz_of_the_card_matches_without_accents(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    result = check(hotel_clerk, MrzEvidence(AN_MRZ))
    assert result.decision == "match"
    assert result.name_score == 0.95  # NGUYEN<<VAN<AN: the MRZ has no accents
    assert result.reasons == ()  # the card was found by its expiry date and is valid


def test_typed_data_without_the_card_issue_date_matches_but_says_the_card_was_not_checked(
    pawn_clerk: Person, residents: dict[str, Any]
) -> None:
    result = check(pawn_clerk, typed(full_name="nguyen van an"))
    assert result.decision == "match"
    assert result.name_score == 0.95
    assert codes(result) == ["card_not_checked"]


def test_typed_data_with_the_card_issue_date_checks_the_card(
    pawn_clerk: Person, residents: dict[str, Any]
) -> None:
    assert check(pawn_clerk, typed(card_issued_on=date(2021, 4, 1))).reasons == ()
    assert codes(check(pawn_clerk, typed(card_issued_on=date(2021, 5, 1)))) == ["card_unknown"]


# --------------------------------------------------------------------------- name matching
@pytest.mark.parametrize(
    ("claimed", "recorded", "score", "method"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn An", 1.0, "exact"),
        ("nguyễn  văn an", "Nguyễn Văn An", 1.0, "exact"),
        ("Nguyễn Thị Hoà", "Nguyễn Thị Hòa", 1.0, "exact"),  # two tone-placement styles, one name
        ("NGUYEN VAN AN", "Nguyễn Văn An", 0.95, "accents"),
        ("Hoàng Thị Mai", "Huỳnh Thị Mai", 0.9, "variant"),  # Huỳnh ≡ Hoàng (domain-vn §7)
        ("Vũ Văn Tâm", "Võ Văn Tâm", 0.9, "variant"),  # Vũ ≡ Võ
        ("An Nguyễn Văn", "Nguyễn Văn An", 0.85, "reordered"),
        ("Nguyễn An", "Nguyễn Văn An", 0.64, "partial"),  # a missing middle name is not a match
        ("Trần Văn Bình", "Nguyễn Văn An", 0.2667, "partial"),
    ],
)
def test_names_are_scored_exact_then_without_accents_then_variants_then_order(
    claimed: str, recorded: str, score: float, method: str
) -> None:
    found = match_names(claimed, recorded)
    assert (found.score, found.method) == (score, method)
    assert found.matches == (score >= 0.85)


def test_a_name_cut_by_a_full_mrz_name_field_matches_only_when_marked_truncated() -> None:
    recorded = "Nguyễn Văn Minh Triết Hoàng Long"
    assert match_names("NGUYEN VAN MINH TRIET HOANG LO", recorded, claimed_may_be_truncated=True).score == 0.9
    assert not match_names("NGUYEN VAN MINH TRIET HOANG LO", recorded).matches


def test_a_variant_surname_matches_with_a_score_and_a_note(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    result = check(hotel_clerk, TypedEvidence(MAI_ID, "Hoàng Thị Mai", MAI_BORN))
    assert result.decision == "match"
    assert result.name_score == 0.9
    assert codes(result) == ["name_variant", "card_not_checked"]
    reordered = check(hotel_clerk, TypedEvidence(MAI_ID, "Mai Huỳnh Thị", MAI_BORN))
    assert (reordered.decision, reordered.name_score) == ("match", 0.85)


def test_a_different_name_does_not_match(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    result = check(hotel_clerk, typed(full_name="Nguyễn An"))
    assert result.decision == "no_match"
    assert result.name_score == 0.64
    assert codes(result) == ["name_mismatch"]


def test_a_wrong_date_of_birth_does_not_match(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    result = check(hotel_clerk, typed(date_of_birth=date(1985, 3, 3)))
    assert result.decision == "no_match"
    assert codes(result) == ["date_of_birth_mismatch"]


def test_a_date_of_birth_known_only_to_the_year_matches_any_day_of_that_year(
    notary_clerk: Person, residents: dict[str, Any], system_ctx: Callable[[str], AccessContext]
) -> None:
    register_citizen(
        system_ctx("registry.administration"),
        NewCitizen("001050123456", "Lê Văn Tư", date(1950, 1, 1), "M", dob_precision="year"),
        reason="Đăng ký",
        legal_basis="Luật Cư trú 2020",
    )
    result = check(notary_clerk, TypedEvidence("001050123456", "Lê Văn Tư", date(1950, 6, 15)), mode="data")
    assert result.decision == "match"
    assert result.data is not None
    assert result.data["date_of_birth"] == "1950"  # ISO 8601 to the precision the registry knows


def test_an_unknown_number_does_not_match_and_is_audited_as_not_found(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    result = check(hotel_clerk, typed(id_number="001085099999"))
    assert result.decision == "no_match"
    assert codes(result) == ["id_number_unknown"]
    assert result.name_score is None
    [event] = verify_events()
    assert (event.result, event.subject_citizen_id) == ("not_found", None)


# --------------------------------------------------------------------------- card and holder status
def test_an_expired_card_is_not_valid(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    IdentityCard.objects.filter(pk=an_card().pk).update(expires_on=date(2025, 3, 2))
    result = check(hotel_clerk, QrEvidence(AN_QR))
    assert result.decision == "card_not_valid"
    assert codes(result) == ["card_expired"]


def test_a_card_replaced_by_a_newer_card_is_not_valid(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    IdentityCard.objects.create(
        citizen=an_card().citizen,
        kind="can_cuoc",
        card_number=AN_ID,
        issued_on=date(2025, 1, 10),
        expires_on=AN_CARD_EXPIRES,
    )
    result = check(hotel_clerk, QrEvidence(AN_QR))
    assert result.decision == "card_not_valid"
    assert codes(result) == ["card_replaced"]


@pytest.mark.parametrize(
    ("status", "code"),
    [("replaced", "card_replaced"), ("lost", "card_reported_lost"), ("revoked", "card_revoked")],
)
def test_a_card_replaced_reported_lost_or_revoked_is_not_valid(
    hotel_clerk: Person, residents: dict[str, Any], status: str, code: str
) -> None:
    IdentityCard.objects.filter(pk=an_card().pk).update(status=status)
    for evidence in (QrEvidence(AN_QR), MrzEvidence(AN_MRZ)):
        result = check(hotel_clerk, evidence)
        assert (result.decision, codes(result)) == ("card_not_valid", [code])


def test_an_mrz_whose_expiry_no_card_has_is_an_unknown_card(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    other = vietnamese_td1(
        id_number=AN_ID, full_name=AN_NAME, date_of_birth=AN_BORN, sex="M", date_of_expiry=date(2046, 1, 1)
    ).text
    assert codes(check(hotel_clerk, MrzEvidence(other))) == ["card_unknown"]


def test_the_card_of_a_deceased_holder(hotel_clerk: Person, an_deceased: None) -> None:
    result = check(hotel_clerk, QrEvidence(AN_QR))
    assert result.decision == "deceased"
    assert codes(result) == ["holder_deceased"]


def test_a_stranger_with_a_dead_persons_number_learns_only_that_the_name_does_not_match(
    hotel_clerk: Person, an_deceased: None
) -> None:
    result = check(hotel_clerk, typed(full_name="Phạm Văn Dũng"))
    assert (result.decision, codes(result)) == ("no_match", ["name_mismatch"])


def test_a_card_with_a_number_since_replaced_is_not_valid(
    hotel_clerk: Person, residents: dict[str, Any], system_ctx: Callable[[str], AccessContext]
) -> None:
    change_id_number(
        system_ctx("registry.administration"),
        AN_ID,
        new_id_number="001085099999",
        reason="Cấp lại số định danh",
        legal_basis="Luật Căn cước 2023 Điều 12",
    )
    result = check(hotel_clerk, QrEvidence(AN_QR))
    assert result.decision == "card_not_valid"
    assert codes(result) == ["id_number_replaced", "card_replaced"]


# --------------------------------------------------------------------------- bad evidence
def test_a_tampered_chip_fails_passive_authentication_at_the_altered_data_group(
    hotel_clerk: Person, residents: dict[str, Any], an_chip: ChipData
) -> None:
    forged = encode_dg13(replace(an_holder().dg13(), full_name="Trần Văn Bình"))
    result = check(hotel_clerk, ChipEvidence(an_chip.replace(dg13=forged).to_dict()))
    assert result.decision == "invalid_evidence"
    [reason] = result.reasons
    assert (reason.code, reason.field) == ("chip_data_altered", "dg13.hash")
    assert "differs from the SOD" in reason.detail
    [event] = verify_events()
    assert (event.result, event.subject_citizen_id) == ("invalid", None)
    assert event.detail["reasons"] == ["chip_data_altered"]
    assert event.detail["checks"] == ["dg13.hash"]


def test_a_chip_signed_under_an_untrusted_csca_is_refused_at_the_issuer_step(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    rogue = create_document_signer(create_csca())
    chip = issue_chip(an_holder(), rogue.private_key, rogue.certificate)
    result = check(hotel_clerk, ChipEvidence(chip.to_dict()))
    assert result.decision == "invalid_evidence"
    assert [(r.code, r.field) for r in result.reasons] == [("chip_signer_untrusted", "ds.issuer")]


def test_chip_files_that_are_not_base64_are_invalid_evidence_naming_the_file(
    hotel_clerk: Person, residents: dict[str, Any], an_chip: ChipData
) -> None:
    files = {**an_chip.to_dict(), "dg1": "not base64!"}
    result = check(hotel_clerk, ChipEvidence(files))
    assert result.decision == "invalid_evidence"
    assert [(r.code, r.field, r.detail) for r in result.reasons] == [
        ("evidence_malformed", "chip.dg1", "base64")
    ]


def test_a_chip_whose_mrz_disagrees_with_dg13_is_invalid(
    hotel_clerk: Person, residents: dict[str, Any], pki: Pki
) -> None:
    from dancu.blocks.identity.chip.lds import encode_dg1

    holder = an_holder()
    other_mrz = vietnamese_td1(
        id_number=AN_ID, full_name=AN_NAME, date_of_birth=AN_BORN, sex="M", date_of_expiry=date(2046, 1, 1)
    ).lines
    ds = pki.document_signer
    chip = issue_chip(holder, ds.private_key, ds.certificate)
    # Re-sign a chip whose DG1 says another expiry: the signature holds, the content does not agree.
    from dancu.blocks.identity.chip import build_sod

    groups = {**chip.data_groups, 1: encode_dg1(other_mrz)}
    signed = ChipData(sod=build_sod(groups, ds.private_key, ds.certificate), data_groups=groups)
    result = check(hotel_clerk, ChipEvidence(signed.to_dict()))
    assert result.decision == "invalid_evidence"
    assert [(r.code, r.field) for r in result.reasons] == [("chip_data_inconsistent", "dg1.expiry_date")]


def test_an_mrz_with_a_wrong_check_digit_is_invalid_naming_the_field(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    line1, line2, line3 = AN_MRZ.splitlines()
    broken = "\n".join([line1, line2[:6] + str((int(line2[6]) + 1) % 10) + line2[7:], line3])
    result = check(hotel_clerk, MrzEvidence(broken))
    assert result.decision == "invalid_evidence"
    assert ("evidence_malformed", "mrz.line2.date_of_birth", "check_digit") in [
        (r.code, r.field, r.detail) for r in result.reasons
    ]


def test_a_passport_mrz_cannot_be_verified_against_the_registry(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    passport = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
    result = check(hotel_clerk, MrzEvidence(passport))
    assert (result.decision, codes(result)) == ("invalid_evidence", ["evidence_unsupported"])


def test_a_qr_whose_fields_disagree_is_invalid_evidence(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    wrong_sex = AN_QR.replace("|Nam|", "|Nữ|")  # the ID number's century/sex digit says male
    result = check(hotel_clerk, QrEvidence(wrong_sex))
    assert result.decision == "invalid_evidence"
    assert [(r.field, r.detail) for r in result.reasons] == [("qr.id_number", "sex")]


# --------------------------------------------------------------------------- least data
def test_yes_no_mode_returns_no_personal_data(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    for evidence in (QrEvidence(AN_QR), typed(date_of_birth=date(1985, 3, 3)), typed(full_name="Nguyễn An")):
        result = check(hotel_clerk, evidence)
        assert result.data is None
        shown = json.dumps(
            {k: v for k, v in asdict(result).items() if k not in ("receipt_id", "verified_at")},
            ensure_ascii=False,
            default=str,
        ).casefold()
        for personal in (AN_ID, "012345678", "nguyễn", "nguyen", "1985", "02/03", "tây hồ", "quảng an"):
            assert personal not in shown, (personal, shown)


@pytest.mark.parametrize("kind", sorted(VERIFICATION_FIELDS))
def test_data_mode_returns_exactly_the_fields_of_the_organisations_kind(
    kind: str, make_person: Callable[..., Person], residents: dict[str, Any]
) -> None:
    clerk = make_person(f"clerk.{kind}", org_code=f"ORG-{kind}", kind=kind, role="clerk")
    result = check(clerk, QrEvidence(AN_QR), mode="data")
    assert result.decision == "match"
    assert result.data is not None
    assert set(result.data) == VERIFICATION_FIELDS[kind]


def test_a_notary_gets_the_permanent_address_and_the_card(
    notary_clerk: Person, residents: dict[str, Any]
) -> None:
    result = check(notary_clerk, QrEvidence(AN_QR), mode="data")
    assert result.data == {
        "full_name": AN_NAME,
        "date_of_birth": "1985-03-02",
        "sex": "M",
        "permanent_address": residents["an"].permanent_address.text,
        "card_number": AN_ID,
        "card_issued_on": "2021-04-01",
    }


def test_a_pawn_shop_gets_name_and_date_of_birth_only(pawn_clerk: Person, residents: dict[str, Any]) -> None:
    result = check(pawn_clerk, QrEvidence(AN_QR), mode="data")
    assert result.data == {"full_name": AN_NAME, "date_of_birth": "1985-03-02"}


def test_a_clinic_gets_a_health_insurance_placeholder(
    clinic_clerk: Person, residents: dict[str, Any]
) -> None:
    result = check(clinic_clerk, QrEvidence(AN_QR), mode="data")
    assert result.data == {
        "full_name": AN_NAME,
        "date_of_birth": "1985-03-02",
        "sex": "M",
        "health_insurance_number": None,
    }


def test_a_driving_test_centre_learns_whether_a_verified_face_is_available(
    driving_examiner: Person, residents: dict[str, Any], an_chip: ChipData
) -> None:
    from_chip = check(driving_examiner, ChipEvidence(an_chip.to_dict()), mode="data")
    from_qr = check(driving_examiner, QrEvidence(AN_QR), mode="data")
    assert from_chip.data is not None and from_chip.data["face_available"] is True
    assert from_qr.data is not None and from_qr.data["face_available"] is False


def test_data_mode_releases_nothing_unless_the_person_matches(
    notary_clerk: Person, residents: dict[str, Any]
) -> None:
    IdentityCard.objects.filter(pk=an_card().pk).update(status="lost")
    for evidence in (typed(date_of_birth=date(1985, 3, 3)), QrEvidence(AN_QR)):
        result = check(notary_clerk, evidence, mode="data")
        assert result.decision != "match"
        assert result.data is None
    assert all(event.detail["fields"] == [] for event in verify_events())


def test_the_registry_never_releases_fields_outside_the_verification_ceiling(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    claim = IdentityClaim(AN_ID, AN_NAME, AN_BORN, card=CardClaim(issued_on=date(2021, 4, 1)))
    with pytest.raises(DomainValidationError) as exc:
        match_identity(
            hotel_clerk.ctx(PURPOSE),
            claim,
            evidence_kind="typed",
            mode="data",
            release=frozenset({"religion"}),
        )
    assert [(p.field, p.rule) for p in exc.value.problems] == [("release", "not_releasable")]


# --------------------------------------------------------------------------- access and the audit log
def test_an_outsider_may_not_verify_and_the_denial_is_audited(
    outsider: Person, residents: dict[str, Any]
) -> None:
    with pytest.raises(AccessDenied):
        check(outsider, QrEvidence("not even a QR"))  # denied before the evidence is looked at
    [event] = verify_events()
    assert (event.result, event.organisation_id, event.purpose) == ("denied", None, PURPOSE)
    assert event.detail == {"mode": "yes_no", "evidence": "qr", "reason": "policy"}
    assert not VerificationRecord.objects.exists()


def test_the_police_are_not_granted_identity_verification(
    city_police: Person, residents: dict[str, Any]
) -> None:
    with pytest.raises(AccessDenied):
        check(city_police, QrEvidence(AN_QR))
    [event] = verify_events()
    assert (event.result, event.organisation_name) == ("denied", "Công an thành phố Hà Nội")


def test_a_purpose_other_than_identity_verification_is_denied(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    with pytest.raises(AccessDenied) as exc:
        verify(hotel_clerk.ctx("residence.notification"), QrEvidence(AN_QR))
    assert "does not allow identity verification" in str(exc.value)
    [event] = verify_events()
    assert (event.result, event.detail["reason"]) == ("denied", "purpose")


def test_a_request_without_a_purpose_is_refused_and_recorded(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        verify(hotel_clerk.ctx(""), QrEvidence(AN_QR))
    assert [(p.field, p.rule) for p in exc.value.problems] == [("purpose", "required")]
    [event] = verify_events()
    assert (event.result, event.purpose, event.organisation_name) == ("invalid", "", "Khách sạn Hòa Bình")
    assert event.detail["reason"] == "no_purpose"


def test_an_unknown_purpose_is_refused_and_recorded(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    with pytest.raises(DomainValidationError) as exc:
        verify(hotel_clerk.ctx("marketing"), QrEvidence(AN_QR))
    assert [(p.field, p.rule) for p in exc.value.problems] == [("purpose", "unknown_purpose")]
    [event] = verify_events()
    assert (event.result, event.purpose, event.detail["reason"]) == (
        "invalid",
        "marketing",
        "unknown_purpose",
    )


def test_data_mode_is_denied_to_an_organisation_that_receives_no_data(residents: dict[str, Any]) -> None:
    ctx = AccessContext(actor=Actor.system("platform-tool"), purpose=PURPOSE)
    with pytest.raises(AccessDenied) as exc:
        verify(ctx, QrEvidence(AN_QR), mode="data")
    assert (exc.value.field, exc.value.rule) == ("mode", "fields")
    assert verify(ctx, QrEvidence(AN_QR)).decision == "match"  # yes/no is fine


def test_the_citizen_sees_who_verified_them_for_what_purpose(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    result = check(hotel_clerk, QrEvidence(AN_QR))
    [seen] = [e for e in events_for_citizen(residents["an"].citizen_id) if e.action == "identity.verify"]
    assert (seen.who, seen.organisation, seen.purpose_code, seen.result) == (
        "clerk.hotel",
        "Khách sạn Hòa Bình",
        PURPOSE,
        "ok",
    )
    assert seen.purpose_vi == "Xác thực danh tính người đến giao dịch"
    [event] = verify_events()
    assert event.detail == {
        "mode": "yes_no",
        "evidence": "qr",
        "decision": "match",
        "reasons": [],
        "fields": [],
        "receipt": result.receipt_id,
    }


def test_a_mismatch_on_a_known_number_is_in_that_citizens_history_too(
    hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    check(hotel_clerk, typed(full_name="Phạm Văn Dũng"))
    [seen] = [e for e in events_for_citizen(residents["an"].citizen_id) if e.action == "identity.verify"]
    assert seen.result == "ok"


# --------------------------------------------------------------------------- idempotency and receipts
def test_a_retry_with_the_same_request_id_gets_the_same_receipt_without_a_second_read(
    notary_clerk: Person, residents: dict[str, Any]
) -> None:
    first = check(notary_clerk, QrEvidence(AN_QR), mode="data", request_id="cc-2026-0001")
    again = check(notary_clerk, QrEvidence(AN_QR), mode="data", request_id="cc-2026-0001")
    assert again.receipt_id == first.receipt_id
    assert (first.replayed, again.replayed) == (False, True)
    assert again.data == first.data
    assert again.reasons == first.reasons
    assert len(verify_events()) == 1
    assert VerificationRecord.objects.count() == 1


def test_the_same_request_id_with_another_request_is_a_conflict(
    notary_clerk: Person, residents: dict[str, Any]
) -> None:
    check(notary_clerk, QrEvidence(AN_QR), request_id="cc-2026-0002")
    with pytest.raises(Conflict) as exc:
        check(notary_clerk, MrzEvidence(AN_MRZ), request_id="cc-2026-0002")
    assert (exc.value.field, exc.value.rule) == ("request_id", "idempotency_conflict")
    assert len(verify_events()) == 1


def test_request_ids_are_per_organisation(
    notary_clerk: Person, hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    first = check(notary_clerk, QrEvidence(AN_QR), request_id="shared-0001")
    other = check(hotel_clerk, MrzEvidence(AN_MRZ), request_id="shared-0001")
    assert other.receipt_id != first.receipt_id


def test_after_24_hours_a_request_id_is_free_again_and_the_stored_answer_is_purged(
    notary_clerk: Person, residents: dict[str, Any]
) -> None:
    first = check(notary_clerk, QrEvidence(AN_QR), mode="data", request_id="cc-2026-0003")
    VerificationRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    later = check(notary_clerk, MrzEvidence(AN_MRZ), mode="data", request_id="cc-2026-0003")
    assert later.receipt_id != first.receipt_id
    old = VerificationRecord.objects.get(receipt_id=first.receipt_id)
    assert (old.request_id, old.response) == ("", {})
    assert old.decision == "match"  # the receipt itself stays
    VerificationRecord.objects.filter(receipt_id=later.receipt_id).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert purge_replay_data() == 1
    assert VerificationRecord.objects.get(receipt_id=later.receipt_id).response == {}


def test_a_malformed_request_id_is_refused(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    with pytest.raises(DomainValidationError) as exc:
        check(hotel_clerk, QrEvidence(AN_QR), request_id="has spaces")
    assert [p.field for p in exc.value.problems] == ["request_id"]


# --------------------------------------------------------------------------- who may verify
def test_pawn_shops_security_firms_and_driving_schools_verify_but_never_read_the_registry() -> None:
    for kind in (
        Organisation.Kind.PAWN_SHOP,
        Organisation.Kind.SECURITY_FIRM,
        Organisation.Kind.DRIVING_SCHOOL,
    ):
        assert purposes_for(kind, Membership.Role.CLERK) == {PURPOSE}
        assert purposes_for(kind, INTEGRATION) == {PURPOSE}


def test_an_integration_key_of_the_police_has_no_purpose() -> None:
    assert purposes_for(Organisation.Kind.POLICE_CITY, INTEGRATION) == frozenset()


def test_the_actor_carries_its_organisations_kind(hotel_clerk: Person) -> None:
    assert hotel_clerk.actor.organisation_kind == "hotel"


def test_citizen_rows_are_untouched_by_verification(hotel_clerk: Person, residents: dict[str, Any]) -> None:
    before = Citizen.objects.get(pk=residents["an"].citizen_id).version
    check(hotel_clerk, QrEvidence(AN_QR))
    assert Citizen.objects.get(pk=residents["an"].citizen_id).version == before


def test_an_unknown_chip_file_is_named_without_its_control_characters(
    hotel_clerk: Person, residents: dict[str, Any], an_chip: ChipData
) -> None:
    result = check(hotel_clerk, ChipEvidence({**an_chip.to_dict(), "dg\x0099": "AA=="}))
    assert [(r.code, r.field, r.detail) for r in result.reasons] == [
        ("evidence_malformed", "chip.dg99", "unknown_key")
    ]
    [event] = verify_events()
    assert event.detail["checks"] == ["chip.dg99"]


def test_the_demo_pki_is_created_once_and_then_reused(tmp_path: Any) -> None:
    from dancu.blocks.identity.trust import synthetic_pki

    first = synthetic_pki(tmp_path)
    again = synthetic_pki(tmp_path)
    assert again.csca.certificate == first.csca.certificate
    assert again.document_signer.certificate == first.document_signer.certificate
    assert (tmp_path / "csca.key.pem").stat().st_mode & 0o077 == 0  # private keys: owner only
