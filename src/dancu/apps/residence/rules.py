"""The rules of residence notification, as typed functions (no database).

* **Deadline** — Circular 55/2021/TT-BCA Art. 15 cl. 1 (Law on Residence 2020 Art. 30): the stay
  is notified *before 23:00 on the day it starts*; a guest arriving *after 23:00* is notified
  *before 08:00 the next day*. Days and hours are those of Vietnam (``Asia/Ho_Chi_Minh``, UTC+7,
  no daylight saving). An arrival at 23:00:00 exactly is treated as after 23:00: the first
  deadline has already passed at that moment.
* **Foreigners** — Law 47/2014/QH13 Art. 33 and Circular 53/2016/TT-BCA: the accommodation declares
  a foreign guest within 12 hours of arrival (24 hours in remote areas: ``remote=True``).
* **Close relatives** — Circular 55/2021 Art. 15 cl. 2: a close relative staying repeatedly is
  notified once; later stays need no new notification.
* **Lateness** — a stay notified after its deadline is *late*; one not notified when its deadline
  has passed is *missing*.
* **Coach manifests** (model 12) — the passenger manifest of a trip is notified *before the
  departure*; after it, the manifest is late, and missing while not sent.
* **Temporary residence** — a stay (lưu trú) is a stay of *less than 30 days* somewhere that is not
  one's permanent or temporary residence (Law on Residence 2020 Art. 2 cl. 9; domain-vn.md §5); a
  citizen living somewhere outside the commune of their permanent residence for 30 days or more
  must register temporary residence (Art. 27 cl. 1). A stay is *due* from 30 × 24 hours after the
  arrival while the guest is still there, and *planned* when the expected departure is 30 days or
  more after the arrival. Foreigners declare temporary residence under Law 47/2014/QH13 from
  their first night, so the rule concerns citizens (and children without a card) only.
* **Fines** — Decree 282/2025/NĐ-CP Art. 10: failing to notify 1–3 people, 2–4 million VND; 4–8
  people, 4–8 million; 9 or more, 8–12 million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dancu.errors import DomainValidationError

VN = ZoneInfo("Asia/Ho_Chi_Minh")
EVENING_CUTOFF = time(23, 0)
MORNING_DEADLINE = time(8, 0)
FOREIGNER_HOURS = 12
FOREIGNER_HOURS_REMOTE = 24

TEMPORARY_RESIDENCE_AFTER = timedelta(days=30)

Status = Literal["on_time", "late", "missing", "pending", "not_required"]


def _aware(moment: datetime, field: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainValidationError.single(field, "timezone", "must be a timezone-aware date and time")


def foreigner_hours() -> int:
    """``DANCU_RESIDENCE_FOREIGNER_HOURS`` (default 12; Circular 53/2016/TT-BCA)."""
    from django.conf import settings

    return int(getattr(settings, "DANCU_RESIDENCE_FOREIGNER_HOURS", FOREIGNER_HOURS))


def notification_deadline(arrival: datetime, *, foreigner: bool = False, remote: bool = False) -> datetime:
    """The moment by which the stay starting at ``arrival`` must be notified (aware, in Vietnam's
    time zone). Citizens: 23:00 the same (Vietnamese) day, or 08:00 the next day when the guest
    arrives at or after 23:00 (Circular 55/2021/TT-BCA Art. 15). Foreigners: 12 h after arrival
    (24 h in remote areas; Circular 53/2016/TT-BCA)."""
    _aware(arrival, "arrival")
    local = arrival.astimezone(VN)
    if foreigner:
        return local + timedelta(hours=FOREIGNER_HOURS_REMOTE if remote else foreigner_hours())
    if local.time() >= EVENING_CUTOFF:
        return datetime.combine(local.date() + timedelta(days=1), MORNING_DEADLINE, tzinfo=VN)
    return datetime.combine(local.date(), EVENING_CUTOFF, tzinfo=VN)


def manifest_deadline(departure: datetime) -> datetime:
    """A coach trip's passenger manifest is notified before the departure (model 12)."""
    _aware(departure, "departure_at")
    return departure.astimezone(VN)


def notification_status(
    *, deadline: datetime, notified_at: datetime | None, now: datetime, required: bool = True
) -> Status:
    """``on_time`` (notified by the deadline), ``late`` (notified after it), ``missing`` (not
    notified and the deadline has passed), ``pending`` (not yet notified, still in time) or
    ``not_required`` (a close relative already notified once)."""
    if not required:
        return "not_required"
    if notified_at is not None:
        return "on_time" if notified_at <= deadline else "late"
    return "missing" if now > deadline else "pending"


@dataclass(frozen=True)
class FineBand:
    """The fine an establishment risks for ``people`` not notified (Decree 282/2025 Art. 10), VND."""

    people: int
    minimum: int
    maximum: int
    provision: str


def suggested_fine(people: int) -> FineBand | None:
    """The band of Decree 282/2025/NĐ-CP Art. 10 for failing to notify ``people`` guests: 1–3 →
    2–4 M VND, 4–8 → 4–8 M, 9+ → 8–12 M; None for nobody. A suggestion for
    the officer, who decides on the facts (Law on Handling Administrative Violations)."""
    if people <= 0:
        return None
    if people <= 3:
        return FineBand(people, 2_000_000, 4_000_000, "Nghị định 282/2025/NĐ-CP Điều 10 (1–3 người)")
    if people <= 8:
        return FineBand(people, 4_000_000, 8_000_000, "Nghị định 282/2025/NĐ-CP Điều 10 (4–8 người)")
    return FineBand(people, 8_000_000, 12_000_000, "Nghị định 282/2025/NĐ-CP Điều 10 (từ 9 người)")


def age_on(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


TemporaryResidence = Literal["", "planned", "due"]


def temporary_residence(
    *,
    arrival: datetime,
    expected_departure: datetime,
    departed_at: datetime | None,
    now: datetime,
    foreigner: bool = False,
) -> TemporaryResidence:
    """Whether a citizen's stay needs temporary-residence registration (Law on Residence 2020
    Art. 2 cl. 9 and Art. 27 cl. 1; see the module docstring): ``"due"`` once the guest has stayed
    30 days (still there at ``arrival`` + 30 × 24 h), ``"planned"`` when the expected departure is
    30 days or more after the arrival, ``""`` otherwise (a guest who has left, a foreigner)."""
    for name, moment in (("arrival", arrival), ("expected_departure", expected_departure), ("now", now)):
        _aware(moment, name)
    if foreigner or departed_at is not None:
        return ""
    if now - arrival >= TEMPORARY_RESIDENCE_AFTER:
        return "due"
    if expected_departure - arrival >= TEMPORARY_RESIDENCE_AFTER:
        return "planned"
    return ""
