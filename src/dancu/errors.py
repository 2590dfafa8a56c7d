"""Errors shared by every block, mapped to HTTP by ``dancu.api`` and to messages by forms and the CLI.

A domain error always names the field and the rule it broke, e.g.
``id_number: century/sex digit 2 means born 2000–2099, but date of birth is 1985-03-02``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class DomainValidationError(Exception):
    """Input broke one or more rules; nothing was stored."""

    def __init__(self, problems: list[FieldProblem] | FieldProblem) -> None:
        self.problems = [problems] if isinstance(problems, FieldProblem) else list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, field: str, rule: str, message: str) -> DomainValidationError:
        return cls(FieldProblem(field, rule, message))

    def as_details(self) -> list[dict[str, str]]:
        return [{"field": p.field, "rule": p.rule, "message": p.message} for p in self.problems]


class AccessDenied(Exception):
    """The caller's organisation, role or purpose does not allow this access (it was audited)."""

    def __init__(
        self,
        message: str,
        *,
        field: str = "purpose",
        rule: str = "not_allowed",
        subject_id: int | None = None,
    ) -> None:
        self.field = field
        self.rule = rule
        self.subject_id = subject_id  # the citizen concerned, for the audit event (never shown)
        super().__init__(message)


class NotFound(Exception):
    """No record matches; says which field was looked up, never echoes personal data back."""

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(message)


class Conflict(Exception):
    """The request contradicts an earlier one (e.g. an idempotency key reused with another body)."""

    def __init__(self, message: str, *, field: str, rule: str = "conflict") -> None:
        self.field = field
        self.rule = rule
        super().__init__(message)
