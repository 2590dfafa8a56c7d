"""Data transfer objects returned by the registry's service functions (never model instances)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Address:
    text: str
    legacy_ward_code: str = ""
    ward_code: str = ""
    province_code: str = ""


def address_or_none(text: str, legacy: str = "", ward: str = "", province: str = "") -> Address | None:
    """An address from the record's columns; None when the record holds none."""
    if not (text or legacy or ward):
        return None
    return Address(text=text, legacy_ward_code=legacy, ward_code=ward, province_code=province)


@dataclass(frozen=True)
class CardView:
    kind: str
    card_number: str
    issued_on: date
    expires_on: date | None
    status: str


@dataclass(frozen=True)
class CitizenView:
    """A citizen's record as one purpose may see it: fields the purpose does not allow are None."""

    citizen_id: int
    id_number: str
    full_name: str
    version: int
    date_of_birth: date | None = None
    dob_precision: str | None = None
    sex: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    given_name: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    birth_registration_code: str | None = None
    origin: Address | None = None
    permanent_address: Address | None = None
    temporary_address: Address | None = None
    household_number: str | None = None
    relationship_to_head: str | None = None
    life_status: str | None = None
    date_of_death: date | None = None
    old_id_numbers: list[str] | None = None
    previous_id_numbers: list[str] | None = None
    cards: list[CardView] | None = None
    fields_withheld: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CitizenSummary:
    citizen_id: int
    id_number: str
    full_name: str
    date_of_birth: date
    dob_precision: str
    sex: str
    permanent_ward_code: str
    life_status: str


@dataclass(frozen=True)
class HouseholdMember:
    citizen_id: int
    id_number: str
    full_name: str
    date_of_birth: date
    dob_precision: str
    sex: str
    relationship_to_head: str
    life_status: str


@dataclass(frozen=True)
class RevisionView:
    version: int
    action: str
    changed_at: datetime
    actor: str
    organisation: str
    reason: str
    legal_basis: str
    changes: dict[str, list[object]]


@dataclass(frozen=True)
class ReferenceRecord:
    """One citizen as the data-cleaning purpose reads the registry in bulk (``data.cleaning``:
    identifying fields, residence and life status; no family, religion or cards)."""

    citizen_id: int
    id_number: str
    full_name: str
    date_of_birth: date
    dob_precision: str
    sex: str
    permanent_address_text: str
    permanent_ward_code: str
    permanent_legacy_ward_code: str
    life_status: str
    date_of_death: date | None
    old_id_numbers: tuple[str, ...] = ()
    previous_id_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddressEvidence:
    """What the registry says of a ward a sector file gives for a citizen whose permanent residence
    is elsewhere (``data.cleaning``; :func:`registry.services.cleaning_address_evidence`): the
    citizen lived there permanently until ``moved_on`` (``kind="previous"``, the latest such move),
    or has a temporary residence registered there (``kind="temporary"``, Law on Residence 2020
    Art. 27). Nothing else of the citizen's residence history is disclosed."""

    citizen_id: int
    ward_code: str
    kind: str  # "previous" | "temporary"
    moved_on: date | None = None
