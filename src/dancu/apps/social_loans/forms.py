"""Forms of the social-policy loans pages: they parse; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class CheckForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=12, min_length=12)
    programme = forms.ChoiceField(label=_("Programme"))

    def __init__(self, programmes: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = programmes  # type: ignore[attr-defined]


class ListCheckForm(forms.Form):
    programme = forms.ChoiceField(label=_("Programme"))

    def __init__(self, programmes: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = programmes  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    job = forms.ChoiceField(label=_("Finished cleaning job"))
    title = forms.CharField(label=_("Title"), max_length=255)
    ward_code = forms.CharField(label=_("Commune or ward code"), max_length=5, min_length=5)
    year = forms.IntegerField(label=_("Year"), min_value=2020, max_value=2100)
    status_column = forms.CharField(label=_("Column holding the household status"), max_length=200)
    head_column = forms.CharField(
        label=_("Column holding the household head's ID number (optional)"), max_length=200, required=False
    )

    def __init__(self, jobs: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["job"].choices = jobs  # type: ignore[attr-defined]


class RulesForm(forms.Form):
    rules = forms.CharField(label=_("Rules (JSON)"), widget=forms.Textarea(attrs={"rows": 18, "cols": 100}))
    note = forms.CharField(label=_("Why this change"), max_length=255)
