"""The level-2 desk and the revocation of a foreign Document Signer (ADR 0017 §12).

Actors: Anna Schmidt (German resident, level 1) with her synthetic German passport; synthetic
Germany's CSCA, which revoked the DS that signed it (or whose CRL is stale); the Tây Hồ officer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.foreign_trust import import_crls
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.errors import DomainValidationError
from tests.blocks.eid.test_foreigners import anna  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners_level2 import activate, anna_level1  # noqa: F401 — the fixture
from tests.blocks.identity.passport_helpers import (
    ISSUED,
    ON_THE_DAY,
    anna_passport_mrz,
    foreign_pki,
    german_ds_serial,
    import_foreign_trust,
    rule_of,
)
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_the_officer_cannot_raise_anna_with_a_revoked_ds_and_the_refusal_is_audited(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    import_foreign_trust(["DE"], at=ON_THE_DAY, crls=False)
    import_crls(foreign_pki().crl("DE", this_update=ISSUED, revoked=[german_ds_serial()]), at=ON_THE_DAY)
    chip = issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE")).to_dict()
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, chip_files=chip)
    assert err.value.problems[0].field == "passport_chip" and rule_of(err) == "ds.revocation"
    assert Account.objects.get(pk=anna_level1).level == 1
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="denied")
    assert event.detail["step"] == "ds.revocation"


def test_with_a_stale_crl_anna_is_raised_on_the_mrz_evidence_only(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    import_foreign_trust(["DE"], at=ON_THE_DAY, crls=False)
    import_crls(foreign_pki().crl("DE", this_update=ON_THE_DAY - timedelta(days=120)), at=ON_THE_DAY)
    chip = issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE")).to_dict()
    done = activate(ward_police, chip_files=chip)
    assert (done.evidence, done.chip) == ("passport_mrz_optical", "revocation_unknown")
    assert Account.objects.get(pk=anna_level1).level2_evidence == "passport_mrz_optical"
