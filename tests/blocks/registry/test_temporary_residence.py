"""``register_temporary_residence`` (used by the online temporary residence registration, issue 7):
a write with a revision and an audit event, limited to the writing purpose and the jurisdiction."""

from __future__ import annotations

from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, CitizenRevision
from dancu.blocks.registry.services import register_temporary_residence
from dancu.errors import AccessDenied, DomainValidationError
from tests.blocks.registry.conftest import HOAN_KIEM_ADDRESS
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_the_registrar_records_a_temporary_residence_with_a_revision(
    registrar: Person, an_tay_ho: Any
) -> None:
    view = register_temporary_residence(
        registrar.ctx("registry.administration", "DVC-2612-ABCDEFGH"),
        an_tay_ho.id_number,
        temporary_address_text=HOAN_KIEM_ADDRESS,
        reason="Đăng ký tạm trú",
        legal_basis="Luật Cư trú 2020 Điều 27",
    )
    assert view.temporary_address is not None and view.version == an_tay_ho.version + 1
    row = Citizen.objects.get(pk=an_tay_ho.citizen_id)
    assert row.temporary_ward_code and row.permanent_ward_code == "00103"  # the permanent one stays
    revision = CitizenRevision.objects.filter(citizen=row).latest("version")
    assert (
        revision.action == "temporary"
        and revision.changes["temporary_address_text"][1] == view.temporary_address.text
    )
    assert AuditEvent.objects.filter(action="registry.temporary", case_reference="DVC-2612-ABCDEFGH").exists()


def test_a_reading_purpose_may_not_write_and_the_denial_is_audited(
    ward_police: Person, an_tay_ho: Any
) -> None:
    with pytest.raises(AccessDenied):
        register_temporary_residence(
            ward_police.ctx("registry.lookup"),
            an_tay_ho.id_number,
            temporary_address_text=HOAN_KIEM_ADDRESS,
            reason="x",
            legal_basis="y",
        )
    assert AuditEvent.objects.filter(action="registry.temporary", result="denied").exists()


def test_an_address_that_resolves_to_no_unit_changes_nothing(registrar: Person, an_tay_ho: Any) -> None:
    with pytest.raises(DomainValidationError) as err:
        register_temporary_residence(
            registrar.ctx("registry.administration"),
            an_tay_ho.id_number,
            temporary_address_text="Nowhere street",
            reason="Đăng ký tạm trú",
            legal_basis="Luật Cư trú 2020 Điều 27",
        )
    assert err.value.problems[0].field == "temporary_address_text"
    assert Citizen.objects.get(pk=an_tay_ho.citizen_id).version == an_tay_ho.version
