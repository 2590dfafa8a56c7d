"""Active Authentication at the one-stop office's kiosk (ICAO 9303 part 11 §6.1; ADR 0017 §16):
a chip read opens level-2 services there, so the kiosk hands its reader a one-time challenge and
a card whose chip offers AA must answer it. Nguyễn Văn An's card (AA key) is identified with the
answer; a clone of it — his signed files on a chip with another key — is refused and opens no
session; a read without the answer is refused too.

Actors: the kiosk of Công an phường Tây Hồ; Nguyễn Văn An's card; a forger's clone of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from dancu.apps.kiosk import views
from dancu.blocks.identity.chip import ChipData, issue_chip
from dancu.blocks.identity.models import VerificationRecord
from tests.apps.desks.test_desk_active_auth import clone, post_chip, reader_json
from tests.blocks.identity.conftest import Pki, an_holder

pytestmark = pytest.mark.usefixtures("an", "trusted")
_FORM = re.compile(r'data-challenge="([0-9a-f]{16})".*?name="challenge_id" value="([0-9a-f]{32})"', re.S)


@pytest.fixture
def an_card(pki: Pki) -> ChipData:
    ds = pki.document_signer
    return issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth="rsa")


def present(kiosk: Client, chip: ChipData, *, answer: bool = True) -> Any:
    found = _FORM.search(kiosk.get("/kiosk/").content.decode())
    assert found, "the kiosk's chip form carries no challenge for the reader"
    challenge, challenge_id = found.groups()
    return post_chip(kiosk, "/kiosk/", reader_json(chip, challenge if answer else None), challenge_id)


def test_ans_card_answers_the_kiosks_challenge_and_opens_his_session(
    kiosk: Client, an_card: ChipData
) -> None:
    html = present(kiosk, an_card)
    assert html == "" and kiosk.session[views.STATE]["proved"] == "chip"


@pytest.mark.parametrize("forged", ["clone", "no answer"])
def test_a_clone_or_a_read_without_the_answer_opens_nothing(
    kiosk: Client, an_card: ChipData, pki: Pki, forged: str
) -> None:
    chip = clone(an_card, pki) if forged == "clone" else an_card
    html = present(kiosk, chip, answer=forged != "no answer")
    assert 'data-testid="kiosk-chip"' in html and views.STATE not in kiosk.session
    record = VerificationRecord.objects.get()
    assert record.decision != "match" and "chip_active_authentication_failed" in str(record.reason_codes)
