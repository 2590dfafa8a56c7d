"""The desk page reads a foreign resident's passport chip (ADR 0017 §10): the development NFC reader
(``identity.reader.SimulatedReader``) opens Anna's synthetic German passport with the MRZ key, and
the officer submits its JSON with the MRZ and the residence card.

Actors: Anna Schmidt (level 1), the Tây Hồ officer, a forger who edits the chip's DG1."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip.lds import encode_dg1_td3
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.blocks.identity.reader import AccessKey, SimulatedReader
from tests.apps.eiddesk.test_foreigner_level2 import anna_level1  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners import mrz
from tests.blocks.identity.passport_helpers import anna_passport_mrz, foreign_pki, import_foreign_trust
from tests.conftest import Person

pytestmark = pytest.mark.django_db
PAGE = "/eid-desk/activate/foreigner/"


@pytest.fixture
def germany_trusted() -> None:
    """Germany's and France's CSCAs from a master list, with a current CRL each (ADR 0017 §12)."""
    import_foreign_trust(["DE", "FR"], at=timezone.now() - timedelta(days=1))


def read_with_the_desk_reader(**dg1_override: bytes) -> str:
    """Anna's passport on the development reader, opened with the key from her MRZ (BAC)."""
    chip = issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE"))
    if dg1_override:
        chip = chip.replace(**dg1_override)
    reader = SimulatedReader()
    reader.place(chip)
    m = anna_passport_mrz()
    return json.dumps(
        reader.read(AccessKey.from_mrz(m.document_number, m.date_of_birth, m.date_of_expiry)).files
    )


def _as(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def test_the_officer_reads_annas_chip_and_the_page_records_chip_evidence(
    anna_level1: int,  # noqa: F811
    germany_trusted: None,
    ward_police: Person,
) -> None:
    officer = _as(ward_police)
    page = officer.get(PAGE).content.decode()
    assert "Dữ liệu chip hộ chiếu" in page  # Vietnamese first
    response = officer.post(
        PAGE,
        {
            "passport_mrz": mrz(),
            "card_number": "TT2025-00123",
            "face_confirmed": "on",
            "chip_json": read_with_the_desk_reader(),
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-evidence="passport_chip" data-chip="verified"' in body
    assert "Chứng cứ: chip hộ chiếu đã qua xác thực thụ động" in body
    assert Account.objects.get(pk=anna_level1).level2_evidence == "passport_chip"


def test_a_tampered_chip_is_refused_on_the_page_naming_the_step(
    anna_level1: int,  # noqa: F811
    germany_trusted: None,
    ward_police: Person,
) -> None:
    forged_dg1 = encode_dg1_td3(anna_passport_mrz(secondary_identifier="ANNA MARIE").lines)
    response = _as(ward_police).post(
        PAGE,
        {
            "passport_mrz": mrz(),
            "card_number": "TT2025-00123",
            "face_confirmed": "on",
            "chip_json": read_with_the_desk_reader(dg1=forged_dg1),
        },
    )
    assert response.status_code == 400 and "<code>dg1.hash</code>" in response.content.decode()
    assert Account.objects.get(pk=anna_level1).level == 1


def test_pasted_text_that_is_not_the_readers_json_is_refused(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    response = _as(ward_police).post(
        PAGE,
        {"passport_mrz": mrz(), "card_number": "TT2025-00123", "face_confirmed": "on", "chip_json": "[1, 2]"},
    )
    assert response.status_code == 400 and Account.objects.get(pk=anna_level1).level == 1


def test_a_chip_read_nested_past_its_shape_is_a_form_error_on_the_field(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    """``"[" * 100000`` used to raise RecursionError (a 500; security review); now a form error
    naming the chip field."""
    response = _as(ward_police).post(
        PAGE,
        {
            "passport_mrz": mrz(),
            "card_number": "TT2025-00123",
            "face_confirmed": "on",
            "chip_json": "[" * 100_000,
        },
    )
    assert response.status_code == 400 and "chip_json" in response.context["form"].errors
    assert Account.objects.get(pk=anna_level1).level == 1


def test_without_a_chip_read_the_page_says_the_evidence_is_weaker(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    response = _as(ward_police).post(
        PAGE, {"passport_mrz": mrz(), "card_number": "TT2025-00123", "face_confirmed": "on"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'data-evidence="passport_mrz_optical" data-chip="not_read"' in body
    assert "chip không được đọc" in body


def test_the_page_offers_the_desk_reader_in_vietnamese(ward_police: Person) -> None:
    page = _as(ward_police).get(PAGE).content.decode()
    assert 'data-bridge="http://127.0.0.1:47800"' in page
    assert "Đọc chip hộ chiếu bằng đầu đọc tại bàn" in page


def test_for_a_trusted_state_the_page_needs_the_chip_or_the_recorded_reason(
    anna_level1: int,  # noqa: F811
    germany_trusted: None,
    ward_police: Person,
) -> None:
    """The Tây Hồ officer leaves Anna's chip field empty: refused (Germany's CSCA is trusted);
    ticking "the chip cannot be read" records that reason with the weaker evidence."""
    officer = _as(ward_police)
    assert "Không đọc được chip: ghi nhận đây là lý do" in officer.get(PAGE).content.decode()
    form = {"passport_mrz": mrz(), "card_number": "TT2025-00123", "face_confirmed": "on"}
    skipped = officer.post(PAGE, form)
    assert skipped.status_code == 400 and "<code>chip_required</code>" in skipped.content.decode()
    assert Account.objects.get(pk=anna_level1).level == 1
    recorded = officer.post(PAGE, {**form, "chip_unreadable": "on"})
    body = recorded.content.decode()
    assert recorded.status_code == 200 and 'data-evidence="passport_mrz_optical" data-chip="not_read"' in body
    assert "Lý do đã ghi nhận: không đọc được chip." in body
    assert Account.objects.get(pk=anna_level1).level2_chip_reason == "chip_unreadable"
