"""Forms of the staff console: they parse what an official typed, the registry's service
functions decide the rest (format of ID numbers, jurisdiction, purpose policy).

Dates are accepted as Vietnamese users type them (``02/03/1985``, also ``2/3/1985``) and in ISO
form (``1985-03-02``). The purpose is required: every access to a citizen's data names why
(Law 91/2025/QH15 on Personal Data Protection, purpose limitation).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dancu.blocks.audit.purposes import PURPOSES

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_vietnamese_date(text: str) -> date:
    """``dd/mm/yyyy`` (day first, as written in Vietnam) or ``yyyy-mm-dd``; raises ``ValueError``."""
    text = text.strip()
    if m := _DMY.match(text):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO.match(text):
        year, month, day = (int(g) for g in m.groups())
    else:
        raise ValueError("format")
    return date(year, month, day)


class VietnameseDateField(forms.Field):
    """A date typed as dd/mm/yyyy or yyyy-mm-dd (not a browser date picker: officials type fast)."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "10", "placeholder": "dd/mm/yyyy"})
    default_error_messages = {
        "format": _("enter the date as dd/mm/yyyy, for example 02/03/1985"),
        "no_such_day": _("there is no such day in the calendar"),
    }

    def to_python(self, value: Any) -> date | None:
        """The typed text as a date (None when empty); the rule broken is the error's code."""
        text = str(value or "").strip()
        if not text:
            return None
        if not (_DMY.match(text) or _ISO.match(text)):
            raise ValidationError(self.error_messages["format"], code="format")
        try:
            return parse_vietnamese_date(text)
        except ValueError:
            raise ValidationError(self.error_messages["no_such_day"], code="no_such_day") from None


class PurposeField(forms.CharField):
    """A purpose code from ``dancu.blocks.audit.purposes``.

    The select offers only the purposes the actor may use, but any known code is accepted here:
    whether the actor may use it is the registry's decision, which records a denial in the audit
    log (an unknown code is simply invalid input).
    """

    default_error_messages = {
        "required": _("choose the purpose of this access"),
        "unknown_purpose": _("unknown purpose code"),
    }

    def __init__(self, *, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(widget=forms.Select(choices=[("", _("— choose a purpose —")), *choices]), **kwargs)

    def validate(self, value: Any) -> None:
        """Required, and one of the purpose codes the platform knows."""
        super().validate(value)
        if value and value not in PURPOSES:
            raise ValidationError(self.error_messages["unknown_purpose"], code="unknown_purpose")


class PurposeMixin(forms.Form):
    """The purpose and the optional case reference that every opening of a record carries."""

    case_reference = forms.CharField(
        label=_("Case reference"),
        required=False,
        max_length=100,
        help_text=_("Optional: the dossier or case number this access serves."),
    )

    def __init__(self, *args: Any, purposes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"] = PurposeField(label=_("Purpose"), choices=purposes)
        # Purpose first, then the case reference, wherever the mixin is used.
        order = ["purpose", "case_reference"]
        self.order_fields([name for name in self.fields if name not in order] + order)


class SearchForm(PurposeMixin):
    """Find citizens: by name (and date of birth), by 12-digit ID number, or by old CMND number."""

    name = forms.CharField(
        label=_("Full name"),
        required=False,
        max_length=100,
        help_text=_("With or without diacritics: “nguyen van an” finds “Nguyễn Văn An”."),
    )
    date_of_birth = VietnameseDateField(
        label=_("Date of birth"),
        required=False,
        help_text=_("dd/mm/yyyy, optional; with it the name may be just its beginning."),
    )
    id_number = forms.CharField(
        label=_("ID number"),
        required=False,
        max_length=20,
        help_text=_("The 12-digit personal identification number."),
    )
    old_id_number = forms.CharField(
        label=_("Old ID number (CMND)"),
        required=False,
        max_length=20,
        help_text=_("The 9-digit number of an old identity card."),
    )

    def clean_id_number(self) -> str:
        """Spaces typed between digit groups ("0010 8501 2345") are dropped."""
        return "".join(str(self.cleaned_data.get("id_number", "")).split())

    def clean_old_id_number(self) -> str:
        """Spaces typed between digit groups are dropped."""
        return "".join(str(self.cleaned_data.get("old_id_number", "")).split())

    def clean(self) -> dict[str, Any]:
        """Exactly one way to look up: a name (with an optional date of birth), a number or an old number."""
        data = super().clean() or {}
        if data.get("date_of_birth") and not data.get("name") and not self.has_error("name"):
            message = _("a date of birth narrows a search by name; give the name too")
            self.add_error("date_of_birth", ValidationError(message, code="needs_name"))
            return data
        given = [key for key in ("name", "id_number", "old_id_number") if data.get(key)]
        if not given and not self.has_error("name") and not self.has_error("date_of_birth"):
            raise ValidationError(_("give a name, an ID number or an old ID number"), code="one_lookup")
        if len(given) > 1:
            raise ValidationError(_("give only one of: name, ID number, old ID number"), code="one_lookup")
        return data


class RecordQueryForm(PurposeMixin):
    """The query string of a record page: ``?purpose=registry.lookup&case_reference=…``."""


class OrganisationForm(forms.Form):
    """Pick the organisation to act for, among the user's memberships."""

    organisation = forms.TypedChoiceField(label=_("Organisation"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = choices  # type: ignore[attr-defined]


class AlertForm(forms.Form):
    """Place a citizen on the unit's alert list (``alerts.services.add_alert`` decides the rest)."""

    KINDS = (
        ("wanted", _("Wanted")),
        ("missing", _("Missing person")),
        ("under_supervision", _("Under supervision")),
        ("other", _("Other")),
    )

    id_number = forms.CharField(
        label=_("ID number"),
        max_length=20,
        help_text=_("The 12-digit personal identification number."),
    )
    kind = forms.ChoiceField(label=_("Kind of alert"), choices=KINDS)
    reference = forms.CharField(
        label=_("Case or decision number"),
        max_length=100,
        help_text=_("The case file or the decision this alert rests on."),
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=255)
    valid_until = VietnameseDateField(
        label=_("Valid until"),
        required=False,
        help_text=_("dd/mm/yyyy, optional: the alert ends at the end of that day."),
    )

    def clean_id_number(self) -> str:
        """Spaces typed between digit groups are dropped."""
        return "".join(str(self.cleaned_data.get("id_number", "")).split())


class CloseAlertForm(forms.Form):
    """Close one entry of the list, saying why."""

    entry_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label=_("Reason for closing"), max_length=500)


class SeenHitForm(forms.Form):
    """Mark one hit as taken in hand."""

    hit_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
