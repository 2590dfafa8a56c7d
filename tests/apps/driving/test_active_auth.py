"""Active Authentication at the driving school (model 17; ICAO 9303 part 11 §6.1; ADR 0017 §16):
the enrolment and session pages show a one-time challenge; a learner's card whose chip offers AA
is enrolled only with the chip's answer to it, and a clone of the card — its signed files copied
onto a chip with another key, the impersonation the desk exists to stop — is refused.

Actors: the Đống Đa driving school's clerk; Nguyễn Văn An's card with an AA key; a clone of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.apps.driving.models import Enrolment
from dancu.blocks.identity.chip import ChipData, issue_chip
from tests.apps.desks.test_desk_active_auth import clone, page_challenge, reader_json
from tests.blocks.identity.conftest import Pki, an_holder
from tests.conftest import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("residents", "trusted")]
COURSE_FORM = {"licence_class": "B", "course_start": "01/09/2025", "course_end": "31/12/2025"}


@pytest.fixture
def an_card(pki: Pki) -> ChipData:
    ds = pki.document_signer
    return issue_chip(an_holder(face_seed=5), ds.private_key, ds.certificate, with_active_auth="ecdsa")


def enrol_with(client: Client, chip: ChipData) -> Any:
    challenge_id, challenge = page_challenge(client.get("/driving/enrol/").content.decode())
    form = {
        **COURSE_FORM,
        "method": "chip",
        "chip_json": reader_json(chip, challenge),
        "challenge_id": challenge_id,
    }
    return client.post("/driving/enrol/", form)


def test_the_school_enrols_an_with_his_cards_answer_to_the_pages_challenge(
    logged_in: Callable[[Person], Client], school_clerk: Person, an_card: ChipData
) -> None:
    assert enrol_with(logged_in(school_clerk), an_card).status_code == 302
    enrolment = Enrolment.objects.get()
    assert enrolment.evidence_kind == "chip" and len(enrolment.face_dhash) == 64


def test_a_clone_of_ans_card_is_not_enrolled(
    logged_in: Callable[[Person], Client], school_clerk: Person, an_card: ChipData, pki: Pki
) -> None:
    refused = enrol_with(logged_in(school_clerk), clone(an_card, pki))
    assert refused.status_code == 422 and "chip_active_authentication_failed" in refused.content.decode()
    assert not Enrolment.objects.exists()
