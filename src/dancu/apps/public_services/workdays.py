"""Working days of Vietnamese public offices: Monday to Friday, except public holidays.

Statutory processing times of administrative procedures are counted in working days (Decree
61/2018/NĐ-CP Art. 2; Decree 107/2021). The holidays are data (``holidays.json``, or the file named
by ``DANCU_PUBLIC_SERVICES_HOLIDAYS``): the fixed-date holidays of the Labour Code 2019 Art. 112
every year, and per year the lunar holidays, the day adjacent to 2/9 and the days the Government
swaps or compensates. A deadline is the date on which the N-th working day after submission ends:
the day of submission does not count (it may be a holiday or a weekend); N = 0 means the same day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings

DEFAULT_FILE = Path(__file__).resolve().parent / "holidays.json"
FIXED = ((1, 1), (4, 30), (5, 1), (9, 2))  # Tết Dương lịch, Reunification Day, Labour Day, National Day


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date]
    working_saturdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.working_saturdays:
            return True
        if day.weekday() >= 5:
            return False
        if (day.month, day.day) in FIXED:
            return False
        return day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself if ``days`` is 0)."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        current = start
        left = days
        while left:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
        n = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                n += 1
        return n


def from_data(data: dict[str, object]) -> Calendar:
    holidays: set[date] = set()
    saturdays: set[date] = set()
    for year, entry in data.items():
        if year.startswith("_") or not isinstance(entry, dict):
            continue
        holidays.update(date.fromisoformat(d) for d in entry.get("holidays", []))
        saturdays.update(date.fromisoformat(d) for d in entry.get("working_saturdays", []))
    return Calendar(frozenset(holidays), frozenset(saturdays))


@lru_cache(maxsize=4)
def _load(path: str) -> Calendar:
    return from_data(json.loads(Path(path).read_text(encoding="utf-8")))


def calendar() -> Calendar:
    """The configured calendar (read once per file)."""
    return _load(getattr(settings, "DANCU_PUBLIC_SERVICES_HOLIDAYS", "") or str(DEFAULT_FILE))


def deadline(submitted_on: date, days: int) -> date:
    return calendar().add_working_days(submitted_on, days)
