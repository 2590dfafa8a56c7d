"""Who is acting, for which organisation and purpose: passed to every block function that
touches personal data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dancu.validation import check_text

# The end user a client system names when it acts for a citizen about the citizen's own data
# (``X-End-User: citizen:<ID number>``, ADR 0010 §22).
CITIZEN_PREFIX = "citizen:"
_ID_NUMBER = re.compile(r"^\d{12}\Z")


@dataclass(frozen=True)
class VerifiedEndUser:
    """A citizen the *platform* has established is the person a call is made for — never a
    client's word. Built in two places only: by the data-exchange gateway after it verified an
    access token its own OpenID provider issued to that citizen for a relying party of the client's
    member (evidence ``oidc_access_token``, ``blocks/exchange/end_user.py``), and by an application
    of the platform for the citizen signed in to it, from the session (``platform_session``, e.g.
    ``apps/public_services/registry_link.py``). Nothing builds one from a header. Services that
    answer with a citizen's own data (``exchange.providers.applicant``) require it."""

    id_number: str
    evidence: str

    EVIDENCE = frozenset({"oidc_access_token", "platform_session"})

    def __post_init__(self) -> None:
        if not _ID_NUMBER.match(self.id_number):
            raise ValueError("a verified end user is a 12-digit ID number")
        if self.evidence not in self.EVIDENCE:
            raise ValueError(f"unknown evidence of the end user: {self.evidence!r}")

    @property
    def end_user(self) -> str:
        """The end user as the gateway records it (``citizen:<ID number>``)."""
        return f"{CITIZEN_PREFIX}{self.id_number}"


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
    # Set only when the platform verified that ``end_user`` is this citizen (``VerifiedEndUser``);
    # ``end_user`` alone is the client's word, which a self-service provider never trusts.
    verified_end_user: VerifiedEndUser | None = None

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
