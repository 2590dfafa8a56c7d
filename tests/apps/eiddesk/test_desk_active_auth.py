"""The eID desk pages issue the Active Authentication challenge and use it once (ICAO Doc 9303
part 11 §6.1; ADR 0017 §14): each page carries a fresh 8-byte challenge kept in the officer's
session; the reader has the chip sign it; the activation that follows takes it out of the session.
An answer to an older page's challenge, or a second submission of the same answer, is refused.

Actors: Anna Schmidt (level 1) with her German passport that offers AA, Nguyễn Văn An (level 1)
with his card that offers AA, the Tây Hồ officer."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import ChipData, TrustStore, issue_chip
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.blocks.identity.reader import AccessKey, SimulatedReader
from tests.apps.eiddesk.test_foreigner_level2 import anna_level1  # noqa: F401 — the fixture
from tests.blocks.eid.conftest import AN_ID, portrait
from tests.blocks.eid.test_foreigners import mrz
from tests.blocks.identity.conftest import Pki, an_holder
from tests.blocks.identity.passport_helpers import anna_passport_mrz, foreign_pki, import_foreign_trust
from tests.conftest import Person

pytestmark = pytest.mark.django_db
FOREIGNER_PAGE = "/eid-desk/activate/foreigner/"
CITIZEN_PAGE = "/eid-desk/activate/"
FILES = ("com", "dg1", "dg2", "dg13", "dg14", "dg15", "sod")


def _as(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def challenge_on(page: str) -> bytes:
    found = re.search(r'data-challenge="([0-9a-f]{16})"', page)
    assert found, "the page carries the desk's challenge"
    return bytes.fromhex(found.group(1))


def read(chip: ChipData, key: AccessKey, challenge: bytes) -> tuple[str, str]:
    device = SimulatedReader()
    device.place(chip)
    got = device.read(key, FILES, challenge)
    return json.dumps(got.files), got.active_auth


@pytest.fixture(params=["ecdsa", "rsa"])
def annas_passport(request: pytest.FixtureRequest) -> ChipData:
    """Anna's passport with an ECDSA or an RSA (ISO/IEC 9796-2, a 344-character answer) AA key."""
    import_foreign_trust(["DE"], at=timezone.now() - timedelta(days=1))
    return issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("DE"), face_seed=7, with_active_auth=request.param
    )


def annas_key() -> AccessKey:
    m = anna_passport_mrz()
    return AccessKey.from_mrz(m.document_number, m.date_of_birth, m.date_of_expiry)


def _foreigner_form(chip_json: str, answer: str, **more: object) -> dict[str, object]:
    return {
        "passport_mrz": mrz(),
        "card_number": "TT2025-00123",
        "face_confirmed": "on",
        "chip_json": chip_json,
        "chip_aa": answer,
        **more,
    }


def test_the_officer_raises_anna_with_the_answer_to_the_pages_challenge_and_her_photo(
    anna_level1: int,  # noqa: F811
    annas_passport: ChipData,
    ward_police: Person,
) -> None:
    officer = _as(ward_police)
    challenge = challenge_on(officer.get(FOREIGNER_PAGE).content.decode())
    chip_json, answer = read(annas_passport, annas_key(), challenge)
    photo = SimpleUploadedFile("live.jpg", portrait(annas_passport), content_type="image/jpeg")
    response = officer.post(FOREIGNER_PAGE, _foreigner_form(chip_json, answer, live_photo=photo))
    page = response.content.decode()
    assert response.status_code == 200, page
    assert 'data-active-auth="verified" data-face="matched"' in page
    assert 'data-evidence="passport_chip"' in page
    assert Account.objects.get(pk=anna_level1).level == 2


def test_an_answer_to_an_older_pages_challenge_is_refused(
    anna_level1: int,  # noqa: F811
    annas_passport: ChipData,
    ward_police: Person,
) -> None:
    officer = _as(ward_police)
    old = challenge_on(officer.get(FOREIGNER_PAGE).content.decode())
    officer.get(FOREIGNER_PAGE)  # a new page: a new challenge replaces the old one
    chip_json, answer = read(annas_passport, annas_key(), old)
    response = officer.post(FOREIGNER_PAGE, _foreigner_form(chip_json, answer))
    assert response.status_code == 400 and "aa.signature" in response.content.decode()
    assert Account.objects.get(pk=anna_level1).level == 1


def test_the_same_answer_submitted_twice_is_refused_the_second_time(
    anna_level1: int,  # noqa: F811
    annas_passport: ChipData,
    ward_police: Person,
) -> None:
    officer = _as(ward_police)
    challenge = challenge_on(officer.get(FOREIGNER_PAGE).content.decode())
    chip_json, answer = read(annas_passport, annas_key(), challenge)
    # The first submission fails for another reason (a mistyped card number) and uses the challenge.
    first = officer.post(FOREIGNER_PAGE, _foreigner_form(chip_json, answer, card_number="TT2025-99999"))
    assert first.status_code == 400 and "no_match" in first.content.decode()
    again = officer.post(FOREIGNER_PAGE, _foreigner_form(chip_json, answer))
    assert again.status_code == 400 and "aa.signature" in again.content.decode()
    assert Account.objects.get(pk=anna_level1).level == 1


def test_a_refused_submission_does_not_put_the_used_answer_back_in_the_field(
    anna_level1: int,  # noqa: F811
    annas_passport: ChipData,
    ward_police: Person,
) -> None:
    """Review of 03/12/2026: the answer belongs to the challenge the refused submission used; the
    page shown again has a new challenge and an empty answer field, so the officer reads the chip
    again instead of resubmitting an answer that would fail like a clone's."""
    officer = _as(ward_police)
    challenge = challenge_on(officer.get(FOREIGNER_PAGE).content.decode())
    chip_json, answer = read(annas_passport, annas_key(), challenge)
    refused = officer.post(FOREIGNER_PAGE, _foreigner_form(chip_json, answer, card_number="TT2025-99999"))
    page = refused.content.decode()
    assert refused.status_code == 400 and "no_match" in page
    field = re.search(r'<input[^>]*name="chip_aa"[^>]*>', page)
    assert field is not None and "value=" not in field.group(0) and answer not in page
    assert challenge_on(page) != challenge


def test_an_answer_that_is_not_base64_is_a_form_error_on_its_field(
    anna_level1: int,  # noqa: F811
    annas_passport: ChipData,
    ward_police: Person,
) -> None:
    officer = _as(ward_police)
    challenge_on(officer.get(FOREIGNER_PAGE).content.decode())
    response = officer.post(FOREIGNER_PAGE, _foreigner_form("", "not base64!"))
    assert response.status_code == 400 and "chip_aa" in response.context["form"].errors


def test_the_citizens_desk_shows_the_challenge_and_raises_an_with_his_cards_answer(
    an_registered: int, trusted: TrustStore, pki: Pki, ward_police: Person
) -> None:
    ds = pki.document_signer
    card = issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth=True)
    officer = _as(ward_police)
    challenge = challenge_on(officer.get(CITIZEN_PAGE).content.decode())
    chip_json, answer = read(card, AccessKey.from_can(AN_ID[-6:]), challenge)
    photo = SimpleUploadedFile("live.jpg", portrait(card), content_type="image/jpeg")
    without = officer.post(CITIZEN_PAGE, {"chip_json": chip_json, "live_photo": photo})
    assert without.status_code == 400 and "active_authentication.aa.response" in without.content.decode()
    challenge = challenge_on(without.content.decode())  # the answer page carries a new challenge
    chip_json, answer = read(card, AccessKey.from_can(AN_ID[-6:]), challenge)
    photo = SimpleUploadedFile("live.jpg", portrait(card), content_type="image/jpeg")
    response = officer.post(CITIZEN_PAGE, {"chip_json": chip_json, "chip_aa": answer, "live_photo": photo})
    assert response.status_code == 200 and 'data-testid="activated"' in response.content.decode()
    assert Account.objects.get(id_number=AN_ID).level == 2
    assert base64.b64decode(answer)  # the answer the officer pasted was the reader's base64
