"""The registry's change events: a publish/subscribe hook that other blocks connect to.

The registry's writes (``services.move_residence``, ``record_death``, ``change_id_number``,
``correct_citizen``) call :func:`emit` with a :class:`Change` *inside their transaction*, after
the change is made. Each connected receiver runs there and then, synchronously, in the same
transaction (the data exchange's connects in its ``AppConfig.ready`` and writes its event and
delivery rows):

* a rolled-back write takes its event with it — nothing is published for a change that did not
  happen;
* a committed write has its event committed with it — nothing is lost between the commit and a
  callback (``transaction.on_commit`` would run after the commit, and a crash in between would
  lose the event);
* a receiver that fails fails the write (the registry never changes without its event): so a
  receiver writes rows only — no network, no waiting — and the delivery happens later from those
  rows.

A change carries the least data that names it: the citizen's ID number (for an ID change, the
previous number too — subscribers know the citizen by it) and the kind of change. Subscribers
fetch the details through the exchange, under their own grant and purpose. It also carries the
places of residence it concerns (before and after a move) — for routing only, never published:
:func:`concerns` tells a receiver whether an organisation's jurisdiction covers the change, by
the registry's own rule (a ward sees its ward's residents, a province its province's).

The registry imports nothing of its receivers: they register themselves with :func:`connect`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ChangeKind(StrEnum):
    """What changed (the event's ``kind``, e.g. ``citizen.moved``)."""

    MOVED = "citizen.moved"  # a new permanent residence
    DIED = "citizen.died"  # a death was recorded
    ID_NUMBER_CHANGED = "citizen.id_number_changed"  # a new 12-digit number
    CORRECTED = "citizen.corrected"  # personal details corrected


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    id_number: str
    citizen_id: int  # the registry's row: for the tracker, never published
    occurred_at: datetime
    previous_id_number: str = ""  # ID changes only
    # (province code, ward code) of the permanent residence, before and after for a move: for
    # routing to the jurisdictions concerned, never published.
    places: tuple[tuple[str, str], ...] = ()

    def payload(self) -> dict[str, str]:
        """What subscribers receive: the kind and the number(s), nothing else."""
        out = {"change": str(self.kind), "id_number": self.id_number}
        if self.previous_id_number:
            out["previous_id_number"] = self.previous_id_number
        return out


def concerns(change: Change, *, province_code: str, ward_code: str) -> bool:
    """Whether an organisation with this jurisdiction may hear of the change: the registry's rule
    for reads (a ward: residents of the ward; a province: of the province; neither: nobody),
    applied to every place the change concerns."""
    if ward_code:
        return any(ward == ward_code for _, ward in change.places)
    if province_code:
        return any(province == province_code for province, _ in change.places)
    return False


Receiver = Callable[[Change], None]
_receivers: list[Receiver] = []


def connect(receiver: Receiver) -> None:
    """Call ``receiver`` with every change, inside the write's transaction (idempotent)."""
    if receiver not in _receivers:
        _receivers.append(receiver)


def disconnect(receiver: Receiver) -> None:
    if receiver in _receivers:
        _receivers.remove(receiver)


def emit(change: Change) -> None:
    """Run every receiver; an exception propagates and rolls the write back (see above)."""
    for receiver in list(_receivers):
        receiver(change)
