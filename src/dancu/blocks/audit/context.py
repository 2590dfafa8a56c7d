"""Who is acting, for which organisation and purpose: passed to every block function that
touches personal data."""

from __future__ import annotations

from dataclasses import dataclass, field

from dancu.validation import check_text


@dataclass(frozen=True)
class Actor:
    """A person (or the system) acting on behalf of an organisation.

    ``allowed_purposes`` and the jurisdiction come from the organisation's kind and the member's
    role (``dancu.blocks.organisations.policy``); they are fixed when the actor is built.
    """

    user_id: int | None
    label: str
    organisation_id: int | None = None
    organisation_name: str = ""
    # The organisation's kind (``Organisation.Kind``): decides, e.g., which fields a verification
    # releases to it (``identity.services.VERIFICATION_FIELDS``).
    organisation_kind: str = ""
    role: str = ""
    allowed_purposes: frozenset[str] = field(default_factory=frozenset)
    # Current-unit codes: a province code ("01") sees the whole province, a ward code only the ward.
    jurisdiction_province_code: str | None = None
    jurisdiction_ward_code: str | None = None
    is_system: bool = False
    # The person a member's information system says it acts for (X-Road's ``userId``): set by the
    # data-exchange gateway from the ``X-End-User`` header (``blocks/exchange``), empty elsewhere.
    # A self-service provider checks it against the record asked for (``providers.applicant``).
    end_user: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user_id=None, label=label, is_system=True, allowed_purposes=frozenset({"*"}))

    def may(self, purpose: str) -> bool:
        return "*" in self.allowed_purposes or purpose in self.allowed_purposes


@dataclass(frozen=True)
class AccessContext:
    actor: Actor
    purpose: str
    case_reference: str = ""

    def __post_init__(self) -> None:
        check_text("case_reference", self.case_reference, max_length=100)
