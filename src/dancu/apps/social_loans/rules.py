"""Eligibility rules as data (ADR 0015): a rule set is a JSON list of rules, each naming a fact,
an operator and a value, the reason code given when it fails, the texts shown to the officer and
the legal basis. The engine knows facts and operators, never a programme: adding a programme or
changing a threshold is a new rule-set version, not a code change (the approach of OpenSPP's
eligibility managers and OpenG2P's programme rules, written here from their documentation).

Facts (``Facts``) come from three places: the commune list (household status, the household the
status belongs to), the registry through the data-exchange gateway (age, residence, life status,
household membership) and the lender's own loan book (already borrowing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dancu.errors import DomainValidationError, FieldProblem

FACTS: dict[str, str] = {
    "household_status": "status on the commune list: poor, near_poor, escaped, merit or none",
    "in_listed_household": "the registry puts the person in the household the list names (true/false)",
    "age": "age in whole years on the day of the decision, from the registry's date of birth",
    "resides_in_commune": "the registry's permanent residence is in the list's commune (true/false)",
    "life_status": "the registry's life status: alive, deceased, missing",
    "borrowing_same_programme": "the lender's book has an outstanding loan under this programme",
}

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "gte": lambda a, b: a >= b,
    "lte": lambda a, b: a <= b,
}
REQUIRED = ("code", "fact", "op", "value", "reason", "text_vi", "text_en", "basis")

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


@dataclass(frozen=True)
class Outcome:
    """One rule's result: ``pass``, ``fail`` or ``unknown`` (the fact could not be established)."""

    code: str
    result: str
    reason: str
    text_vi: str
    text_en: str
    basis: str

    def as_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "result": self.result,
            "reason": self.reason,
            "text_vi": self.text_vi,
            "text_en": self.text_en,
            "basis": self.basis,
        }


def validate(rules: Any) -> list[dict[str, Any]]:
    """The rule list, checked: a non-empty list of objects with every key of ``REQUIRED``, a known
    fact and operator, a list value for ``in``/``not_in``, a number for ``gte``/``lte``, unique
    codes and reason codes in capitals. Problems name the rule (``rules[2].op``) and the rule broken."""
    problems: list[FieldProblem] = []
    if not isinstance(rules, list) or not rules:
        raise DomainValidationError.single("rules", "required", "a non-empty JSON list of rules")
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        if not isinstance(rule, dict):
            problems.append(FieldProblem(where, "object", "each rule is a JSON object"))
            continue
        missing = [k for k in REQUIRED if k not in rule]
        if missing:
            problems.append(FieldProblem(where, "required", f"missing {', '.join(missing)}"))
            continue
        for key in ("code", "reason", "text_vi", "text_en", "basis"):
            if not isinstance(rule[key], str) or not rule[key].strip():
                problems.append(FieldProblem(f"{where}.{key}", "text", "a non-empty text"))
        if not isinstance(rule["fact"], str) or rule["fact"] not in FACTS:
            problems.append(FieldProblem(f"{where}.fact", "unknown_fact", f"one of {', '.join(FACTS)}"))
        op, value = rule["op"], rule["value"]
        if not isinstance(op, str) or op not in OPERATORS:
            problems.append(FieldProblem(f"{where}.op", "unknown_operator", f"one of {', '.join(OPERATORS)}"))
        elif op in ("in", "not_in") and not isinstance(value, list):
            problems.append(FieldProblem(f"{where}.value", "list", f"{op} takes a list"))
        elif op in ("gte", "lte") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            problems.append(FieldProblem(f"{where}.value", "number", f"{op} takes a number"))
        if isinstance(rule["reason"], str) and not rule["reason"].replace("_", "").isupper():
            problems.append(FieldProblem(f"{where}.reason", "reason_code", "capitals and _, e.g. NOT_POOR"))
        if str(rule["code"]) in seen:
            problems.append(FieldProblem(f"{where}.code", "unique", f"code {rule['code']!r} used twice"))
        seen.add(str(rule["code"]))
    if problems:
        raise DomainValidationError(problems)
    return rules


def evaluate(rules: list[dict[str, Any]], facts: Mapping[str, Any]) -> list[Outcome]:
    """Every rule's outcome, in order (all rules are evaluated, so that the officer sees every
    reason, not the first). A fact that is absent (``None``) gives ``unknown``."""
    out = []
    for r in rules:
        value = facts.get(r["fact"])
        if value is None:
            result = UNKNOWN
        else:
            try:
                result = PASS if OPERATORS[r["op"]](value, r["value"]) else FAIL
            except TypeError:
                result = UNKNOWN
        out.append(Outcome(r["code"], result, r["reason"], r["text_vi"], r["text_en"], r["basis"]))
    return out


def eligible(outcomes: list[Outcome]) -> bool:
    """Eligible only when every rule passes: an unknown fact is never a yes."""
    return bool(outcomes) and all(o.result == PASS for o in outcomes)
