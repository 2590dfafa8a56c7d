"""Template filters and tags shared by the platform's pages.

Dates follow Vietnamese usage (dd/mm/yyyy) and honour the precision the registry records for
the date of birth: month precision shows "03/1985", year precision "1985" (a birth registered
with only the year known must not be shown with an invented day).
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone

from dancu.apps.web import labels
from dancu.apps.web.session import current_membership
from dancu.blocks.adminunits.services import ward_label
from dancu.blocks.organisations.models import Membership
from dancu.errors import NotFound

register = template.Library()


@register.filter
def vn_date(value: date | None, precision: str | None = "day") -> str:
    """``date`` as dd/mm/yyyy, mm/yyyy (precision "month") or yyyy (precision "year")."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.month:02d}/{value.year:04d}"
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _local(value: datetime, pattern: str) -> str:
    """``value`` in the platform's time zone (Asia/Ho_Chi_Minh) when aware, as ``pattern``."""
    return format(timezone.localtime(value) if timezone.is_aware(value) else value, pattern)


@register.filter
def vn_datetime(value: datetime | None) -> str:
    """An instant as dd/mm/yyyy HH:MM in the platform's time zone (Asia/Ho_Chi_Minh)."""
    return "" if value is None else _local(value, "%d/%m/%Y %H:%M")


@register.filter
def vn_day_time(value: datetime | None) -> str:
    """An instant as dd/mm HH:MM (no year: a deadline within days) in the platform's time zone."""
    return "" if value is None else _local(value, "%d/%m %H:%M")


_TABLES = {
    "sex": labels.SEX,
    "life_status": labels.LIFE_STATUS,
    "relationship": labels.RELATIONSHIP,
    "card_kind": labels.CARD_KIND,
    "card_status": labels.CARD_STATUS,
    "revision_action": labels.REVISION_ACTION,
    "audit_action": labels.AUDIT_ACTION,
    "audit_result": labels.AUDIT_RESULT,
    "field": labels.FIELD,
    "cleaning_status": labels.CLEANING_STATUS,
    "cleaning_stage": labels.CLEANING_STAGE,
    "cleaning_review": labels.CLEANING_REVIEW,
    "linkage_field": labels.LINKAGE_FIELD,
}


@register.filter
def label(code: str | None, table: str) -> str:
    """``{{ view.sex|label:"sex" }}`` → "Nam" (vi) or "Male" (en); unknown codes unchanged."""
    return labels.label(_TABLES[table], code)


@register.filter
def purpose_name(code: str) -> str:
    """The purpose's name in the page's language."""
    return labels.purpose_name(code)


@register.filter
def changed_fields(changes: dict[str, object]) -> list[str]:
    """The labels of the fields a revision changed (derived values folded into their source)."""
    return labels.changed_fields(changes)


@register.filter
def ward_name(code: str | None) -> str:
    """A current ward's name ("Phường Tây Hồ, Thành phố Hà Nội"); an unknown code is shown as is."""
    if not code:
        return ""
    try:
        return ward_label(code)
    except NotFound:
        return code


@register.simple_tag(takes_context=True)
def current_organisation(context: template.Context) -> Membership | None:
    """The membership the logged-in user acts through (shown in the page header)."""
    request = context.get("request")
    if request is None or not getattr(request.user, "is_authenticated", False):
        return None
    return current_membership(request)
