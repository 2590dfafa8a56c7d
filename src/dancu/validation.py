"""Checks on free text shared by every block: a field named, a rule broken, nothing stored.

Control characters (NUL and the C0 set except tab and line breaks, and DEL) are refused: PostgreSQL
cannot store NUL in text, and the others have no place in names, reasons or references.
"""

from __future__ import annotations

import json
import re
from typing import Any

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


# --------------------------------------------------------------------------- JSON from outside
# Nesting allowed in a JSON body or form field by default: far above any shape the project reads
# (the deepest, a sector registry's schema, nests a few levels), far below the decoder's recursion
# limit. Deeper input is refused before it is decoded (security review: "[" * 100000 raised
# RecursionError, an unhandled 500).
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class JsonInputError(ValueError):
    """Input that is not JSON (``rule`` ``json``) or nests deeper than allowed (``depth``). A
    ``ValueError``, so that callers catching the decoder's error catch this one too."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def loads_json(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for input from outside (request bodies, pasted or uploaded files): nesting
    deeper than ``max_depth`` arrays/objects is refused, as is anything the decoder refuses; never
    a ``RecursionError``. Costs two ``count`` calls unless the input holds more than ``max_depth``
    brackets."""
    opens = raw.count(b"[") + raw.count(b"{") if isinstance(raw, bytes) else raw.count("[") + raw.count("{")
    if opens > max_depth and _depth(raw) > max_depth:
        raise JsonInputError("depth", f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except RecursionError:
        raise JsonInputError("depth", f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise JsonInputError("json", f"not JSON: {exc}") from None


def _depth(raw: str | bytes) -> int:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    deepest = depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if m.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest
