"""Forms of the guardianship desk: the child's number, and one form per action. Each form checks
the shape of its input only (number of 12 digits, dates, lengths); the rules are the block's
(``registry.guardianship``), which names the field and the rule of a refusal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

ID_NUMBER = RegexValidator(r"^\d{12}$", _("12 digits"), code="format")
DATE = forms.DateInput(attrs={"type": "date"})


def _id(label: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=12, validators=[ID_NUMBER])


class ChildForm(forms.Form):
    child_id_number = _id(_("Child's ID number"))


class _Reasoned(ChildForm):
    """Reason and legal basis come last on every form (``field_order`` puts the rest first)."""

    reason = forms.CharField(label=_("Reason"), max_length=500)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=255)


class GuardianshipForm(_Reasoned):
    guardian_id_number = _id(_("Guardian's ID number"))
    kind = forms.ChoiceField(
        label=_("Kind of guardianship"),
        choices=[
            ("de_jure", _("Guardian by law (Civil Code 2015 Art. 52)")),
            ("appointed", _("Appointed guardian (Civil Code 2015 Art. 54)")),
        ],
    )
    record_number = forms.CharField(label=_("Civil-status registration number"), max_length=80)
    started_on = forms.DateField(label=_("Registered on"), widget=DATE)
    field_order = ["child_id_number", "guardian_id_number", "kind", "record_number", "started_on"]


class EndGuardianshipForm(_Reasoned):
    ended_on = forms.DateField(label=_("Ended on"), widget=DATE)
    field_order = ["child_id_number", "ended_on"]


class _CourtDecision(_Reasoned):
    decision = forms.CharField(label=_("Court decision number"), max_length=80)
    decided_on = forms.DateField(label=_("Decision date"), widget=DATE)
    court = forms.CharField(label=_("Court"), max_length=200)


class RestrictionForm(_CourtDecision):
    parent_id_number = _id(_("Parent's ID number"))
    restricted_from = forms.DateField(label=_("Restricted from"), widget=DATE)
    restricted_until = forms.DateField(label=_("Restricted until (optional)"), widget=DATE, required=False)
    field_order = [
        "child_id_number",
        "parent_id_number",
        "decision",
        "decided_on",
        "court",
        "restricted_from",
    ]


class LiftForm(_CourtDecision):
    restriction_id = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    lifted_on = forms.DateField(label=_("Lifted from"), widget=DATE)
    field_order = ["child_id_number", "restriction_id", "decision", "decided_on", "court", "lifted_on"]
