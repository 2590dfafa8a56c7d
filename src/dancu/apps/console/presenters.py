"""Turn the registry's DTOs into rows for the record page, in the page's language.

Only presentation: what a purpose may see has already been decided by the registry, which sets
withheld fields to ``None`` and lists them in ``fields_withheld``; they are shown as withheld,
never as empty, so that an official knows the data exists but this purpose does not reach it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from dancu.apps.web import labels
from dancu.apps.web.templatetags.dancu_web import vn_date, ward_name
from dancu.blocks.registry.dto import Address, CitizenView
from dancu.blocks.registry.idnumber import LEGACY_PROVINCE_CODES


@dataclass(frozen=True)
class Row:
    """One line of the record page: a field's label and its shown value, or withheld."""

    field: str
    label: str
    value: str
    withheld: bool = False


def _address(address: Address | None) -> str:
    """The address as recorded, and the current ward it belongs to since 01/07/2025."""
    if address is None:
        return ""
    if not address.ward_code:
        return address.text
    current = gettext("current unit: %(ward)s (%(code)s)") % {
        "ward": ward_name(address.ward_code),
        "code": address.ward_code,
    }
    return f"{address.text} — {current}"


def _value(view: CitizenView, name: str) -> str:
    if name == "date_of_birth":
        return vn_date(view.date_of_birth, view.dob_precision)
    if name == "date_of_death":
        return vn_date(view.date_of_death)
    if name == "sex":
        return labels.label(labels.SEX, view.sex)
    if name == "life_status":
        return labels.label(labels.LIFE_STATUS, view.life_status)
    if name == "relationship_to_head":
        return labels.label(labels.RELATIONSHIP, view.relationship_to_head)
    if name == "birth_registration_code":
        code = view.birth_registration_code or ""
        place = LEGACY_PROVINCE_CODES.get(code)
        return f"{code} — {place}" if place else code
    if name in ("origin", "permanent_address", "temporary_address"):
        address = getattr(view, name)
        return _address(address if isinstance(address, Address) else None)
    if name in ("old_id_numbers", "previous_id_numbers"):
        return ", ".join(getattr(view, name) or [])
    value = getattr(view, name)
    return "" if value is None else str(value)


PERSONAL = (
    "id_number",
    "full_name",
    "date_of_birth",
    "sex",
    "nationality",
    "ethnicity",
    "religion",
    "birth_registration_code",
    "origin",
    "permanent_address",
    "temporary_address",
    "life_status",
    "date_of_death",
)
HOUSEHOLD = ("household_number", "relationship_to_head")
NUMBERS = ("old_id_numbers", "previous_id_numbers")


def rows(view: CitizenView, names: tuple[str, ...]) -> list[Row]:
    """Rows for ``names``; a field withheld for the purpose is marked, not left blank."""
    withheld = set(view.fields_withheld)
    out = []
    for name in names:
        label = labels.label(labels.FIELD, name)
        if name in withheld:
            out.append(Row(name, label, "", withheld=True))
        else:
            out.append(Row(name, label, _value(view, name)))
    return out
