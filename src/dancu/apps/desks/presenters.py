"""What the desk pages show: reasons in the page's language, released fields with labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from dancu.apps.web.labels import FIELD, SEX
from dancu.blocks.registry.matching import Reason

EXTRA_FIELDS: dict[str, Promise] = {
    "health_insurance_number": _("Health insurance number"),
    "card_number": _("Card number"),
    "card_issued_on": _("Card issued on"),
    "face_available": _("Portrait on the chip"),
}
ORDER = (
    "full_name",
    "date_of_birth",
    "sex",
    "nationality",
    "permanent_address",
    "card_number",
    "card_issued_on",
    "health_insurance_number",
)

DECISIONS: dict[str, Promise] = {
    "match": _("Verified: the card matches the population registry"),
    "no_match": _("Not verified: the details do not match the registry"),
    "card_not_valid": _("Not verified: the card is not valid"),
    "deceased": _("Not verified: the registry records the holder as deceased"),
    "invalid_evidence": _("Not verified: the card or its data could not be read or checked"),
}


def english() -> bool:
    return (get_language() or "vi").startswith("en")


def reasons(items: Iterable[Reason]) -> list[dict[str, str]]:
    """Each reason's fixed message in the page's language (Vietnamese unless English)."""
    en = english()
    return [
        {
            "code": r.code,
            "message": r.message_en if en else r.message_vi,
            "field": r.field,
            "detail": r.detail,
        }
        for r in items
    ]


def _value(name: str, value: object) -> str:
    if value is None:
        return ""
    if name == "sex" and isinstance(value, str):
        return str(SEX.get(value, value))
    if name in ("date_of_birth", "card_issued_on") and isinstance(value, str):
        parts = value.split("-")  # ISO to the registry's precision: yyyy, yyyy-mm or yyyy-mm-dd
        return "/".join(reversed(parts))
    return str(value)


def released(data: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The released fields, labelled, in a fixed order (health insurance is shown separately)."""
    if not data:
        return []
    names = [n for n in ORDER if n in data] + sorted(n for n in data if n not in ORDER)
    return [
        {"name": n, "label": str(EXTRA_FIELDS.get(n) or FIELD.get(n) or n), "value": _value(n, data[n])}
        for n in names
        if n != "health_insurance_number"
    ]


def qr_svg_data_uri(text: str) -> str:
    """A QR code of ``text`` (error correction level M, segno) as an SVG ``data:`` URI for an
    ``<img>``: printed on the receipt, it links to the public check page."""
    import segno

    return str(segno.make_qr(text, error="m", boost_error=False).svg_data_uri(scale=3, border=4))
