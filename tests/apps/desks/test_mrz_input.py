"""The card's MRZ at the desks: a clinic, notary or business clerk pastes (or an MRZ reader types)
the three TD1 lines on the back of Nguyễn Văn An's card beside the QR and the chip. A good MRZ
verifies like any other evidence; a bad one is refused on the form, naming the part of the MRZ
and the rule (a wrong check digit names the field it guards), and nothing is verified."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from dancu.apps.desks import services
from dancu.apps.desks.models import Encounter, NotarisedParty
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.mrz import vietnamese_td1
from dancu.blocks.identity.services import MrzEvidence, card_mrz_evidence
from dancu.errors import DomainValidationError
from tests.blocks.identity.conftest import AN_BORN, AN_CARD_EXPIRES, AN_ID, AN_NAME, TAY_HO_ADDRESS
from tests.conftest import Person

pytestmark = pytest.mark.django_db

AN_MRZ = vietnamese_td1(
    id_number=AN_ID, full_name=AN_NAME, date_of_birth=AN_BORN, sex="M", date_of_expiry=AN_CARD_EXPIRES
).text
# The same MRZ with the date of birth misread (02 → 03): its check digit no longer fits.
AN_MRZ_MISREAD = AN_MRZ.replace("850302", "850303", 1)


def test_the_mrz_is_read_as_the_reader_types_it() -> None:
    messy = "\r\n  " + AN_MRZ.lower().replace("\n", " \r\n") + "\n\n"
    assert card_mrz_evidence(messy) == MrzEvidence(AN_MRZ)


def test_a_misread_date_of_birth_names_its_check_digit() -> None:
    with pytest.raises(DomainValidationError) as caught:
        card_mrz_evidence(AN_MRZ_MISREAD)
    fields = {(p.field, p.rule) for p in caught.value.problems}
    assert ("mrz.line2.date_of_birth", "check_digit") in fields


def test_clinic_clerk_checks_a_patient_in_by_mrz(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    response = logged_in(clinic_clerk).post("/desks/clinic/", {"method": "mrz", "mrz": AN_MRZ})
    html = response.content.decode()
    assert response.status_code == 200, html
    assert 'data-decision="match"' in html and AN_NAME in html
    encounter = Encounter.objects.get()
    assert (encounter.id_number, encounter.evidence_kind) == (AN_ID, "mrz")


def test_a_bad_mrz_is_a_field_error_and_nothing_is_verified(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    client = logged_in(clinic_clerk)
    response = client.post("/desks/clinic/", {"method": "mrz", "mrz": AN_MRZ_MISREAD})
    html = response.content.decode()
    assert response.status_code == 400
    assert "ngày sinh (dòng 2)" in html.lower() and "sai số kiểm tra" in html
    assert escape(AN_MRZ_MISREAD.splitlines()[1]) in html  # the clerk's input is kept to correct it
    assert not VerificationRecord.objects.exists() and not Encounter.objects.exists()

    two_lines = "\n".join(AN_MRZ.splitlines()[:2])
    response = client.post("/desks/clinic/", {"method": "mrz", "mrz": two_lines})
    assert response.status_code == 400 and "không phải ba dòng 30 ký tự" in response.content.decode()
    response = client.post("/desks/clinic/", {"method": "mrz", "mrz": "  "})
    assert response.status_code == 400 and "quét hoặc nhập ba dòng MRZ" in response.content.decode()


def test_a_bad_mrz_in_english(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    client = logged_in(clinic_clerk)
    client.cookies["django_language"] = "en"
    html = client.post("/desks/clinic/", {"method": "mrz", "mrz": AN_MRZ_MISREAD}).content.decode()
    assert "date of birth (line 2): wrong check digit" in html


def test_notary_verifies_a_party_by_mrz_and_the_receipt_carries_the_id_number(
    logged_in: Callable[[Person], Client], residents: Any, notary_clerk: Person
) -> None:
    act = services.create_act(notary_clerk.actor, "CC-2026/MRZ", "sale")
    response = logged_in(notary_clerk).post(
        f"/desks/notary/acts/{act.act_id}/", {"method": "mrz", "mrz": AN_MRZ, "role": "Bên bán"}
    )
    html = response.content.decode()
    assert response.status_code == 200, html
    assert TAY_HO_ADDRESS in html  # a notary receives the permanent address
    party = NotarisedParty.objects.get()
    assert party.id_number == AN_ID
    assert '"id_number":"001085012345"' in party.receipt.document


def test_pawn_shop_verifies_a_customer_by_mrz(
    logged_in: Callable[[Person], Client], residents: Any, pawn_clerk: Person
) -> None:
    html = logged_in(pawn_clerk).post("/desks/business/", {"method": "mrz", "mrz": AN_MRZ}).content.decode()
    assert 'data-decision="match"' in html and AN_NAME in html
    assert TAY_HO_ADDRESS not in html  # name and date of birth only


def test_a_hotel_clerk_may_not_use_the_mrz_at_a_desk(
    logged_in: Callable[[Person], Client], residents: Any, hotel_clerk: Person
) -> None:
    for path in ("/desks/clinic/", "/desks/business/"):
        response = logged_in(hotel_clerk).post(path, {"method": "mrz", "mrz": AN_MRZ})
        assert response.status_code == 403
    assert not VerificationRecord.objects.exists()
