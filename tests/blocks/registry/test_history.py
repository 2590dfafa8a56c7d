"""A record's history: every revision, newest first; a record created by a bulk import starts
with its import batch. Reading the history is itself audited and jurisdiction-scoped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, ImportBatch
from dancu.blocks.registry.names import fold
from dancu.blocks.registry.services import correct_citizen, history, move_residence, record_death
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.registry.conftest import HOAN_KIEM_ADDRESS, LEGAL_BASIS, REASON, id_number
from tests.conftest import HANOI, TAY_HO_WARD, Person

pytestmark = pytest.mark.usefixtures("adminunits")

WHY = {"reason": "Điều chỉnh", "legal_basis": LEGAL_BASIS}


@pytest.fixture
def imported(db: None) -> Citizen:
    """A citizen created by the synthetic seed's import batch (no revision rows of its own)."""
    batch = ImportBatch.objects.create(
        kind="synthpop",
        rows=1,
        seed=42,
        actor_label="seed-job",
        legal_basis="Luật Căn cước 2023 Điều 10",
        note="synthetic population",
    )
    return Citizen.objects.create(
        id_number=id_number(1960, "F", serial=606060),
        full_name="Đỗ Thị Mai",
        family_name="Đỗ",
        middle_name="Thị",
        given_name="Mai",
        name_folded=fold("Đỗ Thị Mai"),
        date_of_birth=date(1960, 4, 4),
        sex="F",
        birth_registration_code="001",
        permanent_address_text="Phường Quảng An, Quận Tây Hồ, Hà Nội",
        permanent_legacy_ward_code="00100",
        permanent_ward_code=TAY_HO_WARD,
        permanent_province_code=HANOI,
        created_batch=batch,
    )


def test_history_is_newest_first(
    registrar: Person, city_police: Person, an_tay_ho: Any, system_ctx: Callable[[str], AccessContext]
) -> None:
    admin = registrar.ctx("registry.administration")
    correct_citizen(admin, an_tay_ho.id_number, {"religion": "Không"}, **WHY)
    move_residence(admin, an_tay_ho.id_number, permanent_address_text=HOAN_KIEM_ADDRESS, **WHY)
    record_death(admin, an_tay_ho.id_number, date_of_death=date(2025, 2, 2), **WHY)

    revisions = history(city_police.ctx("registry.lookup"), an_tay_ho.id_number)

    assert [(r.version, r.action) for r in revisions] == [
        (4, "death"),
        (3, "move"),
        (2, "correct"),
        (1, "register"),
    ]
    assert revisions[-1].actor == "test-system"
    assert (revisions[-1].reason, revisions[-1].legal_basis) == (REASON, LEGAL_BASIS)
    assert revisions[2].actor == "registrar"
    assert revisions[2].organisation == "Công an thành phố Hà Nội"
    assert revisions[2].changes == {"religion": ["Phật giáo", "Không"]}


def test_reading_the_history_is_audited(city_police: Person, an_tay_ho: Any) -> None:
    history(city_police.ctx("registry.lookup"), an_tay_ho.id_number)
    [event] = AuditEvent.objects.filter(action="registry.history")
    assert (event.subject_citizen_id, event.result, event.actor_label) == (
        an_tay_ho.citizen_id,
        "ok",
        "officer.city",
    )


def test_an_imported_record_starts_with_its_batch(city_police: Person, imported: Citizen) -> None:
    [first] = history(city_police.ctx("registry.lookup"), imported.id_number)
    batch = imported.created_batch
    assert batch is not None
    assert (first.version, first.action, first.actor) == (1, "register", "seed-job")
    assert first.legal_basis == "Luật Căn cước 2023 Điều 10"
    assert first.reason == f"import batch {batch.pk}: synthetic population"
    assert first.changed_at == batch.started_at


def test_an_imported_record_that_was_corrected_shows_the_batch_last(
    registrar: Person, city_police: Person, imported: Citizen
) -> None:
    correct_citizen(
        registrar.ctx("registry.administration"), imported.id_number, {"religion": "Công giáo"}, **WHY
    )
    revisions = history(city_police.ctx("registry.lookup"), imported.id_number)
    assert [(r.version, r.action) for r in revisions] == [(2, "correct"), (1, "register")]
    assert revisions[-1].actor == "seed-job"


def test_history_of_a_resident_of_another_ward_is_denied_and_audited(
    ward_police: Person, binh_hoan_kiem: Any
) -> None:
    with pytest.raises(AccessDenied):
        history(ward_police.ctx("registry.lookup"), binh_hoan_kiem.id_number)
    [event] = AuditEvent.objects.filter(action="registry.history")
    assert (event.result, event.subject_citizen_id) == ("denied", binh_hoan_kiem.citizen_id)


def test_history_is_denied_to_a_hotel_clerk_and_an_outsider(
    hotel_clerk: Person, outsider: Person, an_tay_ho: Any
) -> None:
    for person in (hotel_clerk, outsider):
        with pytest.raises(AccessDenied):
            history(person.ctx("registry.lookup"), an_tay_ho.id_number)
    assert AuditEvent.objects.filter(action="registry.history", result="denied").count() == 2


def test_history_of_an_unknown_number_is_not_found_and_audited(city_police: Person, an_tay_ho: Any) -> None:
    with pytest.raises(NotFound) as exc:
        history(city_police.ctx("registry.lookup"), "001099999999")
    assert exc.value.field == "id_number"
    assert AuditEvent.objects.filter(action="registry.history", result="not_found").count() == 1


def test_history_with_an_unknown_purpose_names_the_purpose(city_police: Person, an_tay_ho: Any) -> None:
    with pytest.raises(DomainValidationError) as exc:
        history(city_police.ctx("gossip"), an_tay_ho.id_number)
    assert [p.field for p in exc.value.problems] == ["purpose"]
