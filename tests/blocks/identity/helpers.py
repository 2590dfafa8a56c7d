"""What the identity specifications (MRZ, card QR, chip) share: the reference day, the problems of
a refusal, structurally valid ID numbers, and the mutation fuzzing of valid texts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import strategies as st

from dancu.blocks.registry.idnumber import century_sex_digit
from dancu.errors import DomainValidationError

REFERENCE = date(2025, 6, 1)  # "today" for the date rules (nothing in the future, expiry centuries)

Edit = tuple[str, int, str]  # (operation, position, character)


def problems_of(exc: pytest.ExceptionInfo[DomainValidationError]) -> list[tuple[str, str]]:
    """(field, rule) of each problem of a refusal, in order."""
    return [(p.field, p.rule) for p in exc.value.problems]


def id_number_of(born: date, sex: str, *, province: str, serial: int) -> str:
    """The 12-digit ID number ``PPP G YY RRRRRR`` of someone born on ``born`` (Circular 07/2016/TT-BCA
    Art. 7): province code, century/sex digit, the year's last two digits, a 6-digit serial."""
    return f"{province}{century_sex_digit(born.year, sex)}{born.year % 100:02d}{serial:06d}"


def edits(characters: str, *, max_position: int) -> st.SearchStrategy[list[Edit]]:
    """Up to 4 edits, each replacing, inserting or deleting a character (drawn from ``characters``,
    repeat one to draw it more often) at a position up to ``max_position``."""
    edit = st.tuples(
        st.sampled_from(["replace", "insert", "delete"]),
        st.integers(0, max_position),
        st.sampled_from(list(characters)),
    )
    return st.lists(edit, max_size=4)


def mutate(text: str, changes: list[Edit]) -> str:
    """``text`` with the edits applied in order; a position past the end wraps around."""
    for operation, position, character in changes:
        i = position % (len(text) + 1)
        if operation == "replace":
            text = text[:i] + character + text[i + 1 :]
        elif operation == "insert":
            text = text[:i] + character + text[i:]
        else:
            text = text[:i] + text[i + 1 :]
    return text


def assert_refused_by_name_or_read_back(parse: Callable[[str], Any], text: str, *, field: str) -> None:
    """The fuzzing property: ``parse`` either refuses ``text`` — every problem naming a field under
    ``field``, a rule and a message — or reads a value whose ``.text`` parses back to that value."""
    try:
        value = parse(text)
    except DomainValidationError as exc:
        assert all(p.field.startswith(field) and p.rule and p.message for p in exc.problems)
    else:
        assert parse(value.text) == value
