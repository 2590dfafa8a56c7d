"""Forms of the desks: they parse what a clerk scanned, uploaded or typed into one piece of
evidence for ``identity.services.verify``; the identity block decides the rest.

Each way of presenting a card is its own small form on the page, told apart by ``method``:
``qr_photo`` (a camera photo of the card's QR code), ``qr_text`` (what a USB QR scanner types),
``chip`` (a reader app's JSON of base64 chip files), ``mrz`` (the three lines of the card's
machine-readable zone, from an OCR/MRZ reader or typed) and ``typed`` (ID number, name, date of
birth).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.apps.console.forms import VietnameseDateField
from dancu.apps.desks import services
from dancu.apps.desks.models import NotarisedAct
from dancu.blocks.identity.services import Evidence, QrEvidence, TypedEvidence, card_mrz_evidence
from dancu.errors import DomainValidationError, FieldProblem

METHODS = ("qr_photo", "qr_text", "chip", "mrz", "typed")

# The parts of a TD1 MRZ, as the identity block names them in its problems (``mrz.parse_td1``).
MRZ_PARTS: dict[str, Any] = {
    "mrz": _("MRZ"),
    "mrz.line1": _("line 1"),
    "mrz.line2": _("line 2"),
    "mrz.line3": _("line 3"),
    "mrz.line1.document_code": _("document code (line 1)"),
    "mrz.line1.issuing_state": _("issuing state (line 1)"),
    "mrz.issuing_state": _("issuing state (line 1)"),
    "mrz.line1.document_number": _("document number (line 1)"),
    "mrz.line1.optional_data": _("ID number in the optional data (line 1)"),
    "mrz.line2.date_of_birth": _("date of birth (line 2)"),
    "mrz.line2.sex": _("sex (line 2)"),
    "mrz.line2.date_of_expiry": _("date of expiry (line 2)"),
    "mrz.line2.nationality": _("nationality (line 2)"),
    "mrz.line2.optional_data": _("optional data (line 2)"),
    "mrz.line2.composite_check_digit": _("composite check digit (line 2)"),
    "mrz.line3.name": _("name (line 3)"),
}
MRZ_RULES: dict[str, Any] = {
    "check_digit": _("wrong check digit"),
    "format": _("not three lines of 30 characters"),
    "characters": _("characters other than A–Z, 0–9 and <"),
    "date": _("not a date"),
}


def mrz_errors(problems: list[FieldProblem]) -> list[ValidationError]:
    """Form errors for the problems of an MRZ: the part of the MRZ in the page's language, what
    is wrong with it, and the identity block's exact finding (expected and found check digit)."""
    out = []
    for p in problems:
        part = MRZ_PARTS.get(p.field, p.field)
        rule = MRZ_RULES.get(p.rule)
        text = f"{part}: {rule} — {p.message}" if rule else f"{part}: {p.message}"
        out.append(ValidationError(text, code=p.rule))
    return out


def mrz_field() -> forms.CharField:
    """The MRZ input: three lines of 30 characters, pasted from an MRZ reader or typed."""
    return forms.CharField(
        label=_("MRZ (3 lines on the back of the card)"),
        required=False,
        max_length=400,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "cols": 32,
                "spellcheck": "false",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "class": "mono",
                "placeholder": "IDVNM…\n…VNM…\n…<<…",
            }
        ),
        help_text=_(
            "Scan the MRZ with the reader, or type the three lines as printed (the letter < included)."
        ),
    )


def evidence_from_mrz(form: forms.Form, field: str, text: str) -> None:
    """Set ``form.evidence`` from the MRZ in ``field``, or add its errors to the field."""
    if not text.strip():
        form.add_error(field, ValidationError(_("scan or type the three MRZ lines"), code="required"))
        return
    try:
        form.evidence = card_mrz_evidence(text, on=timezone.localdate())  # type: ignore[attr-defined]
    except DomainValidationError as exc:
        for error in mrz_errors(exc.problems):
            form.add_error(field, error)


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
    # The page's Active Authentication challenge (``services.chip_challenge``), sent back with the read.
    challenge_id = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    mrz = mrz_field()
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
                    self.evidence = services.evidence_from_chip_json(
                        text, challenge_id=str(data.get("challenge_id") or "")
                    )
            elif method == "mrz":
                evidence_from_mrz(self, "mrz", str(data.get("mrz") or ""))
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


STATUS_LABELS: dict[str, Any] = {
    "waiting": _("Waiting"),
    "in_consultation": _("In consultation"),
    "done": _("Done"),
    "cancelled": _("Cancelled"),
}


class DayForm(forms.Form):
    """The day of the encounter list (``?date=dd/mm/yyyy`` or ISO; today when empty) and the
    status shown (``?status=waiting``; every status when empty)."""

    date = VietnameseDateField(label=_("Date"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *STATUS_LABELS.items()],
    )


class StatusForm(forms.Form):
    """A change of an encounter's status; ``next`` is the list to go back to."""

    status = forms.ChoiceField(choices=list(STATUS_LABELS.items()))
    next = forms.CharField(required=False, max_length=300)


class ReceiptCheckForm(forms.Form):
    """A printed receipt to check: its reference and signature (``?r=…&s=…``, as its QR code
    links), typed or pasted."""

    r = forms.CharField(
        label=_("Receipt reference"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
        help_text=_("As printed after “Receipt”, for example 3f1c2a9e-…"),
    )
    s = forms.CharField(
        label=_("Signature"),
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text=_("The signature printed on the receipt (letters and digits; line breaks are ignored)."),
    )


class ReceiptPhotoForm(forms.Form):
    """A photo of the receipt's QR code."""

    photo = forms.FileField(label=_("Photo of the receipt's QR code"))
