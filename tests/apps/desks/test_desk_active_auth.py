"""Active Authentication at the clinic, notary and business desks (ICAO 9303 part 11 §6.1;
ADR 0017 §16): each page shows a one-time challenge, the reader app has the card's chip sign it,
and the chip read sent back carries the answer. A card whose chip offers AA (its SOD lists DG15)
passes only with a right answer to that page's challenge; a clone — every signed file copied
onto a chip with another key — passes passive authentication and is refused here, as is a read
without the answer or a challenge used twice. Cards without AA are checked as before.

Actors: the clinic's clerk, the notary's clerk, the pawn shop's clerk; Nguyễn Văn An's card
issued with an AA key (ECDSA or RSA); a forger's clone of it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.apps.desks import services
from dancu.apps.desks.models import Encounter
from dancu.blocks.identity.chip import ChipData, issue_chip
from dancu.blocks.identity.models import ChipChallenge, VerificationRecord
from dancu.blocks.identity.reader import AccessKey, SimulatedReader
from tests.blocks.identity.conftest import AN_ID, Pki, an_holder
from tests.conftest import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("trusted")]
FILES = ("com", "dg1", "dg2", "dg13", "dg14", "dg15", "sod")
_CHALLENGE = re.compile(r'name="challenge_id" value="([0-9a-f]{32})".*?data-challenge="([0-9a-f]{16})"', re.S)


@pytest.fixture(params=["ecdsa", "rsa"])
def an_card(request: pytest.FixtureRequest, pki: Pki) -> ChipData:
    ds = pki.document_signer
    return issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth=request.param)


def clone(chip: ChipData, pki: Pki) -> ChipData:
    ds = pki.document_signer
    own = issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth="ecdsa")
    return ChipData(
        sod=chip.sod, data_groups=dict(chip.data_groups), com=chip.com, aa_private_key=own.aa_private_key
    )


def page_challenge(html: str) -> tuple[str, str]:
    """The chip form's challenge: (its id, sent back in the form; its 16 hex digits, for the reader)."""
    found = _CHALLENGE.search(html)
    assert found, "the chip form shows no challenge"
    return found.group(1), found.group(2)


def reader_json(chip: ChipData, challenge_hex: str | None) -> str:
    """What the reader app gives the clerk to paste: the files and, asked, the chip's answer."""
    device = SimulatedReader()
    device.place(chip)
    got = device.read(
        AccessKey.from_can(AN_ID[-6:]), FILES, bytes.fromhex(challenge_hex) if challenge_hex else None
    )
    out = dict(got.files)
    if got.active_auth:
        out["active_auth"] = got.active_auth
    return json.dumps(out)


def post_chip(client: Client, path: str, chip_json: str, challenge_id: str, **extra: str) -> str:
    data = {"method": "chip", "chip": chip_json, "challenge_id": challenge_id, **extra}
    return client.post(path, data).content.decode()


def show_and_read(client: Client, path: str, chip: ChipData, *, answer: bool = True, **extra: str) -> str:
    """The clerk opens the desk page, reads the card with the page's challenge (or with none, an
    older reader app) and sends the read."""
    challenge_id, challenge = page_challenge(client.get(path).content.decode())
    return post_chip(client, path, reader_json(chip, challenge if answer else None), challenge_id, **extra)


def test_the_clinic_checks_ans_card_by_its_answer_to_the_pages_challenge(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person, an_card: ChipData
) -> None:
    client = logged_in(clinic_clerk)
    challenge_id, challenge = page_challenge(client.get("/desks/clinic/").content.decode())
    html = post_chip(client, "/desks/clinic/", reader_json(an_card, challenge), challenge_id)
    assert 'data-decision="match"' in html
    assert Encounter.objects.filter(evidence_kind="chip").count() == 1
    assert not ChipChallenge.objects.filter(challenge_id=challenge_id).exists()  # used up
    page_challenge(html)  # the next page has its own
    again = post_chip(client, "/desks/clinic/", reader_json(an_card, challenge), challenge_id)
    assert 'data-decision="match"' not in again and "challenge_id" in again  # used once
    assert Encounter.objects.count() == 1


def test_a_clone_of_ans_card_is_refused_at_the_clinic(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person, an_card: ChipData, pki: Pki
) -> None:
    html = show_and_read(logged_in(clinic_clerk), "/desks/clinic/", clone(an_card, pki))
    assert 'data-decision="match"' not in html and "aa.signature" in html
    record = VerificationRecord.objects.get()
    assert record.decision != "match"
    assert "chip_active_authentication_failed" in json.dumps(record.reason_codes)
    assert not Encounter.objects.exists()


def test_a_read_without_the_answer_is_refused_for_a_chip_that_offers_it(
    logged_in: Callable[[Person], Client], residents: Any, pawn_clerk: Person, an_card: ChipData
) -> None:
    html = show_and_read(logged_in(pawn_clerk), "/desks/business/", an_card, answer=False)
    assert 'data-decision="match"' not in html and "aa.response" in html


def test_a_notary_party_is_verified_with_active_authentication(
    logged_in: Callable[[Person], Client], residents: Any, notary_clerk: Person, an_card: ChipData
) -> None:
    act = services.create_act(notary_clerk.actor, "CC-2026/AA1", "sale")
    html = show_and_read(logged_in(notary_clerk), f"/desks/notary/acts/{act.act_id}/", an_card, role="seller")
    assert 'data-decision="match"' in html
    assert [p.role for p in services.act_of(notary_clerk.actor, act.act_id).parties] == ["seller"]


def test_a_card_without_active_authentication_is_checked_as_before(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person, an_chip: ChipData
) -> None:
    client = logged_in(clinic_clerk)
    challenge_id, _ = page_challenge(client.get("/desks/clinic/").content.decode())
    html = post_chip(client, "/desks/clinic/", json.dumps(an_chip.to_dict()), challenge_id)
    assert 'data-decision="match"' in html  # no DG15: passive authentication only
    assert 'data-decision="match"' in post_chip(client, "/desks/clinic/", json.dumps(an_chip.to_dict()), "")


# --------------------------------------------------------------------------- the clinic's kiosk
_KIOSK = re.compile(r'data-challenge="([0-9a-f]{16})".*?name="challenge_id" value="([0-9a-f]{32})"', re.S)


def test_the_kiosk_hands_its_challenge_to_the_reader_and_refuses_a_clone(
    client: Client, residents: Any, clinic_clerk: Person, an_card: ChipData, pki: Pki
) -> None:
    key = services.register_kiosk("PK-HONGNGOC", "Sảnh tầng 1").key  # the clerk's clinic
    client.post("/desks/kiosk/enrol/", {"key": key})
    for chip, checked_in in ((clone(an_card, pki), False), (an_card, True)):
        found = _KIOSK.search(client.get("/desks/kiosk/").content.decode())
        assert found, "the kiosk's chip form carries no challenge for the reader"
        challenge, challenge_id = found.groups()
        html = post_chip(client, "/desks/kiosk/", reader_json(chip, challenge), challenge_id)
        assert ('data-testid="ticket"' in html) is checked_in
    assert Encounter.objects.filter(source="kiosk").count() == 1
