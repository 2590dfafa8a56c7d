"""Checks on free text shared by every block: a field named, a rule broken, nothing stored.

Control characters (NUL and the C0 set except tab and line breaks, and DEL) are refused: PostgreSQL
cannot store NUL in text, and the others have no place in names, reasons or references.
"""

from __future__ import annotations

import re

from dancu.errors import DomainValidationError, FieldProblem

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_problems(
    field: str, value: object, *, max_length: int, required: bool = False
) -> list[FieldProblem]:
    """Problems of one free-text value (empty list when it is fine)."""
    if not isinstance(value, str):
        return [FieldProblem(field, "type", "must be text")]
    if required and not value.strip():
        return [FieldProblem(field, "required", "must not be empty")]
    if CONTROL_CHARACTERS.search(value):
        return [FieldProblem(field, "characters", "must not contain control characters")]
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        return [FieldProblem(field, "unicode", "contains invalid Unicode (a lone surrogate)")]
    if len(value) > max_length:
        return [FieldProblem(field, "length", f"must be at most {max_length} characters")]
    return []


def check_text(field: str, value: object, *, max_length: int, required: bool = False) -> str:
    """The value if it is acceptable free text, else ``DomainValidationError``."""
    problems = text_problems(field, value, max_length=max_length, required=required)
    if problems:
        raise DomainValidationError(problems)
    assert isinstance(value, str)
    return value
