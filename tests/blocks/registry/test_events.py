"""The registry's change hook (``registry.events``): each write emits one typed change — the kind
and the ID number — inside its transaction; a receiver that fails fails the write (no change
without its event); a refused write emits nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from dancu.blocks.registry import events
from dancu.blocks.registry.models import Citizen
from dancu.blocks.registry.services import change_id_number, correct_citizen, move_residence, record_death
from dancu.errors import AccessDenied
from tests.blocks.registry.conftest import HOAN_KIEM_ADDRESS, LEGAL_BASIS, id_number
from tests.conftest import HANOI, TAY_HO_WARD, Person

pytestmark = pytest.mark.usefixtures("adminunits")

WHY = {"reason": "Theo quyết định số 5/2026", "legal_basis": LEGAL_BASIS}


@pytest.fixture
def heard() -> Iterator[list[events.Change]]:
    """A receiver that keeps every change it hears."""
    changes: list[events.Change] = []
    events.connect(changes.append)
    yield changes
    events.disconnect(changes.append)


def test_each_write_emits_its_kind_and_the_id_number(
    heard: list[events.Change], registrar: Person, an_tay_ho: Any
) -> None:
    admin = registrar.ctx("registry.administration")
    number = an_tay_ho.id_number
    correct_citizen(admin, number, {"religion": "Không"}, **WHY)
    move_residence(admin, number, permanent_address_text=HOAN_KIEM_ADDRESS, **WHY)
    new = id_number(1985, "M", serial=777)
    change_id_number(admin, number, new_id_number=new, **WHY)
    record_death(admin, new, date_of_death=date(2026, 11, 29), **WHY)

    assert [(c.kind, c.id_number, c.previous_id_number) for c in heard] == [
        (events.ChangeKind.CORRECTED, number, ""),
        (events.ChangeKind.MOVED, number, ""),
        (events.ChangeKind.ID_NUMBER_CHANGED, new, number),
        (events.ChangeKind.DIED, new, ""),
    ]
    assert heard[-1].payload() == {"change": "citizen.died", "id_number": new}


def test_a_receiver_that_fails_fails_the_write(registrar: Person, an_tay_ho: Any) -> None:
    def broken(change: events.Change) -> None:
        raise RuntimeError("the event store is down")

    events.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            record_death(
                registrar.ctx("registry.administration"),
                an_tay_ho.id_number,
                date_of_death=date(2026, 11, 29),
                **WHY,
            )
    finally:
        events.disconnect(broken)
    citizen = Citizen.objects.get(pk=an_tay_ho.citizen_id)
    assert (citizen.life_status, citizen.version) == (Citizen.LifeStatus.ALIVE, 1)


def test_a_refused_write_emits_nothing(
    heard: list[events.Change], ward_police: Person, binh_hoan_kiem: Any
) -> None:
    with pytest.raises(AccessDenied):  # outside the ward police's jurisdiction
        move_residence(
            ward_police.ctx("registry.administration"),
            binh_hoan_kiem.id_number,
            permanent_address_text=HOAN_KIEM_ADDRESS,
            **WHY,
        )
    assert heard == []


def test_a_change_concerns_the_jurisdictions_of_the_places_it_touches(
    heard: list[events.Change], registrar: Person, an_tay_ho: Any
) -> None:
    move_residence(
        registrar.ctx("registry.administration"),
        an_tay_ho.id_number,
        permanent_address_text=HOAN_KIEM_ADDRESS,
        **WHY,
    )
    [moved] = heard
    assert len(moved.places) == 2  # from Tây Hồ, to Hoàn Kiếm
    assert "places" not in moved.payload()  # routing only, never published
    assert events.concerns(moved, province_code=HANOI, ward_code="")
    assert events.concerns(moved, province_code=HANOI, ward_code=TAY_HO_WARD)  # the old ward
    assert not events.concerns(moved, province_code="79", ward_code="")  # TP Hồ Chí Minh
    assert not events.concerns(moved, province_code="", ward_code="")  # no jurisdiction: nobody
