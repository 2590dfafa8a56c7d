"""Foreign residents at level 2 with the passport chip (ADR 0017 §10; domain-vn §4).

Actors: Anna Schmidt (German, level 1) with her synthetic German passport chip; a forger who edits
her chip's DG1; the Tây Hồ ward officer; the trust administrator who imported a master list with or
without Germany's CSCA."""

from __future__ import annotations

from datetime import date

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip.lds import encode_dg1_td3
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.errors import DomainValidationError
from tests.blocks.eid.test_foreigners import anna  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners_level2 import activate, anna_level1  # noqa: F401 — the fixture
from tests.blocks.identity.passport_helpers import (
    ON_THE_DAY,
    anna_passport_mrz,
    foreign_pki,
    import_foreign_trust,
)
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def master_list(*countries: str) -> None:
    """The master list of ``countries`` and a current CRL of each CSCA (ADR 0017 §12)."""
    import_foreign_trust(list(countries), at=ON_THE_DAY)


def annas_chip_files() -> dict[str, str]:
    return issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE")).to_dict()


def test_anna_with_a_trusted_german_chip_is_raised_to_level_2_with_chip_evidence(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    master_list("DE", "FR")
    done = activate(ward_police, chip_files=annas_chip_files())
    account = Account.objects.get(pk=anna_level1)
    assert (done.evidence, done.chip, account.level, account.level2_evidence) == (
        "passport_chip",
        "verified",
        2,
        "passport_chip",
    )
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="ok")
    assert (event.detail["evidence"], event.detail["chip"]) == ("passport_chip", "verified")


def test_a_chip_whose_dg1_was_edited_is_refused_naming_the_step(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    master_list("DE")
    files = issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE"))
    # The forger writes a later expiry into DG1; the SOD still holds the hash of the original.
    forged = files.replace(dg1=encode_dg1_td3(anna_passport_mrz(date_of_expiry=date(2035, 5, 1)).lines))
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, chip_files=forged.to_dict())
    assert (err.value.problems[0].field, err.value.problems[0].rule) == ("passport_chip", "dg1.hash")
    assert Account.objects.get(pk=anna_level1).level == 1
    denied = AuditEvent.objects.get(action="eid.activate.foreigner", result="denied")
    assert denied.detail == {"reason": "passport_chip", "step": "dg1.hash", "state": "D"}


def test_a_chip_of_a_state_missing_from_the_master_lists_goes_on_with_weaker_evidence(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    master_list("FR", "JP", "KR")  # Germany's CSCA was in no list imported
    done = activate(ward_police, chip_files=annas_chip_files())
    account = Account.objects.get(pk=anna_level1)
    assert (done.evidence, done.chip, account.level, account.level2_evidence) == (
        "passport_mrz_optical",
        "state_not_trusted",
        2,
        "passport_mrz_optical",
    )


def test_a_trusted_states_passport_without_its_chip_is_refused_unless_the_officer_records_why(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    """Germany's CSCA is trusted, so the officer cannot skip Anna's chip by leaving the field empty
    (security review); the chip the reader cannot read is the one exception, recorded as the
    reason with the evidence and in the audit detail."""
    master_list("DE")
    with pytest.raises(DomainValidationError) as skipped:
        activate(ward_police)  # no chip files, no reason
    assert [(p.field, p.rule) for p in skipped.value.problems] == [("passport_chip", "chip_required")]
    assert Account.objects.get(pk=anna_level1).level == 1
    denied = AuditEvent.objects.get(action="eid.activate.foreigner", result="denied")
    assert denied.detail == {"reason": "chip_required", "state": "D"}
    with pytest.raises(DomainValidationError) as other_reason:
        activate(ward_police, chip_reason="forgot")
    assert other_reason.value.problems[0].field == "chip_reason"
    done = activate(ward_police, chip_reason="chip_unreadable")
    assert (done.evidence, done.chip, done.chip_reason) == (
        "passport_mrz_optical",
        "not_read",
        "chip_unreadable",
    )
    account = Account.objects.get(pk=anna_level1)
    assert (account.level, account.level2_evidence, account.level2_chip_reason) == (
        2,
        "passport_mrz_optical",
        "chip_unreadable",
    )
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="ok")
    assert (event.detail["chip"], event.detail["chip_reason"]) == ("not_read", "chip_unreadable")


def test_without_a_trusted_csca_the_chip_is_not_required(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    master_list("FR")  # Germany's CSCA in no list: nothing to check the chip against
    done = activate(ward_police)
    assert (done.evidence, done.chip, done.chip_reason) == ("passport_mrz_optical", "not_read", "")
    assert Account.objects.get(pk=anna_level1).level2_chip_reason == ""


def test_a_chip_does_not_replace_the_officers_face_check_or_the_card(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    master_list("DE")
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, chip_files=annas_chip_files(), face_confirmed=False)
    assert {p.field for p in err.value.problems} == {"face_confirmed"}
    with pytest.raises(DomainValidationError) as other:
        activate(ward_police, chip_files=annas_chip_files(), card_number="TT2025-99999")
    assert other.value.problems[0].rule == "no_match"
    assert Account.objects.get(pk=anna_level1).level == 1
