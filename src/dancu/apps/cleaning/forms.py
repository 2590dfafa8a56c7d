"""Forms of the data-cleaning pages: the upload and the column mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from dancu.blocks.linkage.files import FIELDS

FIELD_LABELS = {
    "full_name": _("Full name"),
    "date_of_birth": _("Date of birth"),
    "sex": _("Sex"),
    "id_number": _("ID number (12 digits) or old CMND"),
    "address": _("Address"),
}

# The quality report's rows (``linkage.services.REPORT_ROWS``), as an official reads them.
REPORT_LABELS = {
    "matched": _("Matched to a citizen"),
    "corrected": _("Matched, with corrections proposed"),
    "review": _("Uncertain: to review"),
    "unmatched": _("Not found in the population database"),
    "duplicate": _("Duplicate rows of a person"),
    "deceased": _("Deceased"),
    "moved": _("Moved: the file gives a previous permanent residence"),
    "temporary_residence": _("Listed at their registered temporary residence"),
    "address_differs": _("Address the residence database does not know for the person"),
}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Sector file (CSV or XLSX)"))

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        limit = settings.DANCU_CLEANING_MAX_UPLOAD_MB * 1024 * 1024
        if f.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": settings.DANCU_CLEANING_MAX_UPLOAD_MB}
            )
        return f


class MappingForm(forms.Form):
    """One choice of column per canonical field; the full name is required."""

    def __init__(self, columns: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *[(c, c) for c in columns]]
        for name in FIELDS:
            self.fields[name] = forms.ChoiceField(
                label=FIELD_LABELS[name], choices=choices, required=name == "full_name"
            )

    def mapping(self) -> dict[str, str]:
        return {f: self.cleaned_data.get(f) or "" for f in FIELDS}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
