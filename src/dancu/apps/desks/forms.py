"""Forms of the desks: they parse what a clerk scanned, uploaded or typed into one piece of
evidence for ``identity.services.verify``; the identity block decides the rest.

Each way of presenting a card is its own small form on the page, told apart by ``method``:
``qr_photo`` (a camera photo of the card's QR code), ``qr_text`` (what a USB QR scanner types),
``chip`` (a reader app's JSON of base64 chip files) and ``typed`` (ID number, name, date of birth).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dancu.apps.console.forms import VietnameseDateField
from dancu.apps.desks import services
from dancu.apps.desks.models import NotarisedAct
from dancu.blocks.identity.services import Evidence, QrEvidence, TypedEvidence
from dancu.errors import DomainValidationError

METHODS = ("qr_photo", "qr_text", "chip", "typed")


class EvidenceForm(forms.Form):
    """One way of presenting a card; ``evidence`` is set once the form is valid."""

    method = forms.ChoiceField(choices=[(m, m) for m in METHODS], widget=forms.HiddenInput)
    photo = forms.FileField(label=_("Photo of the card's QR code"), required=False)
    qr_text = forms.CharField(
        label=_("QR code text (USB scanner)"),
        required=False,
        max_length=1000,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        help_text=_("Place the cursor here and scan the QR code on the card."),
    )
    chip = forms.CharField(
        label=_("Chip read (JSON from the reader app)"),
        required=False,
        max_length=services.MAX_CHIP_JSON,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=20)
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=100)
    date_of_birth = VietnameseDateField(label=_("Date of birth"), required=False)

    evidence: Evidence

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("method")
        try:
            if method == "qr_photo":
                photo = data.get("photo")
                if not photo:
                    self.add_error(
                        "photo", ValidationError(_("choose a photo of the QR code"), code="required")
                    )
                else:
                    self.evidence = services.evidence_from_photo(photo.read())
            elif method == "qr_text":
                text = str(data.get("qr_text") or "").strip("\r\n")
                if not text:
                    self.add_error(
                        "qr_text", ValidationError(_("scan the QR code on the card"), code="required")
                    )
                else:
                    self.evidence = QrEvidence(text)
            elif method == "chip":
                text = str(data.get("chip") or "")
                if not text.strip():
                    self.add_error("chip", ValidationError(_("paste the chip read"), code="required"))
                else:
                    self.evidence = services.evidence_from_chip_json(text)
            elif method == "typed":
                self._typed(data)
        except DomainValidationError as exc:
            field = "photo" if method == "qr_photo" else "chip"
            for problem in exc.problems:
                self.add_error(field, ValidationError(problem.message, code=problem.rule))
        return data

    def _typed(self, data: dict[str, Any]) -> None:
        number = "".join(str(data.get("id_number") or "").split())
        name = str(data.get("full_name") or "").strip()
        born = data.get("date_of_birth")
        missing = False
        for field, value in (("id_number", number), ("full_name", name)):
            if not value and not self.has_error(field):
                self.add_error(field, ValidationError(_("this field is required"), code="required"))
                missing = True
        if born is None and not self.has_error("date_of_birth"):
            self.add_error("date_of_birth", ValidationError(_("this field is required"), code="required"))
            missing = True
        if not missing and isinstance(born, date) and not self.errors:
            self.evidence = TypedEvidence(id_number=number, full_name=name, date_of_birth=born)


class KioskForm(EvidenceForm):
    """The kiosk: QR text from its built-in scanner, a camera photo, or its card reader's chip read."""

    lang = forms.ChoiceField(choices=[("vi", "vi"), ("en", "en")], required=False)


class PartyForm(EvidenceForm):
    """A party of a notarised act: its role in the act and its card."""

    role = forms.CharField(
        label=_("Role in the act"), max_length=60, help_text=_("For example: seller, buyer.")
    )


class ActForm(forms.Form):
    reference = forms.CharField(label=_("Act reference"), max_length=40)
    act_type = forms.ChoiceField(label=_("Type of act"), choices=NotarisedAct.ActType.choices)


class DayForm(forms.Form):
    """The day of the encounter list (``?date=dd/mm/yyyy`` or ISO); today when empty."""

    date = VietnameseDateField(label=_("Date"), required=False)
