"""Forms of the driving-school pages: they parse what a clerk gave (a QR photo, the text a QR
scanner typed, a chip read as JSON, the card's MRZ, or data typed from the card) into the
identity block's evidence; ``services`` decides the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dancu.apps.desks.forms import evidence_from_mrz, mrz_field
from dancu.apps.driving.models import LICENCE_CLASSES, SessionCheck
from dancu.blocks.identity.qr import read_qr
from dancu.blocks.identity.services import ChipEvidence, Evidence, QrEvidence, TypedEvidence
from dancu.errors import DomainValidationError
from dancu.validation import loads_json

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CHIP_JSON = 200_000


def _date_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.TextInput(
            attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "maxlength": "10"}
        ),
        error_messages={"invalid": _("enter the date as dd/mm/yyyy, for example 02/03/1985")},
    )


class EvidenceForm(forms.Form):
    """The card, in one of four ways; ``self.evidence`` is set once the form is valid."""

    METHODS = [
        ("qr_photo", _("Photo of the card's QR code")),
        ("qr_text", _("QR text from a scanner")),
        ("chip", _("Chip read (JSON from the NFC reader)")),
        ("mrz", _("MRZ (3 lines from an MRZ reader)")),
        ("typed", _("Typed from the card")),
    ]

    method = forms.ChoiceField(label=_("How the card is read"), choices=METHODS, widget=forms.RadioSelect)
    qr_photo = forms.FileField(label=_("QR photo"), required=False)
    qr_text = forms.CharField(
        label=_("QR text"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    chip_json = forms.CharField(
        label=_("Chip read"),
        required=False,
        max_length=MAX_CHIP_JSON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The page's Active Authentication challenge (``services.chip_challenge``), sent back with the read.
    challenge_id = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    mrz = mrz_field()
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=20)
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=100)
    date_of_birth = _date_field(_("Date of birth"), required=False)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", "—"), ("M", _("Male")), ("F", _("Female"))]
    )
    card_issued_on = _date_field(_("Card issue date"), required=False)

    evidence: Evidence

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("method")
        if method == "qr_photo":
            self._from_photo(data.get("qr_photo"))
        elif method == "qr_text":
            text = str(data.get("qr_text") or "").strip()
            if not text:
                self.add_error(
                    "qr_text", ValidationError(_("paste the text the scanner read"), code="required")
                )
            else:
                self.evidence = QrEvidence(text)
        elif method == "chip":
            self._from_chip(str(data.get("chip_json") or ""), str(data.get("challenge_id") or ""))
        elif method == "mrz":
            evidence_from_mrz(self, "mrz", str(data.get("mrz") or ""))
        elif method == "typed":
            self._from_typed(data)
        return data

    def _from_photo(self, upload: Any) -> None:
        if upload is None:
            self.add_error("qr_photo", ValidationError(_("choose a photo of the QR code"), code="required"))
            return
        if upload.size > MAX_PHOTO_BYTES:
            self.add_error("qr_photo", ValidationError(_("the photo is larger than 10 MB"), code="too_large"))
            return
        try:
            texts = read_qr(upload.read()).texts
        except DomainValidationError as exc:
            message = (
                _("no card QR code could be read from the photo")
                if exc.problems[0].rule == "no_qr"
                else (_("the file is not a readable PNG or JPEG image"))
            )
            self.add_error("qr_photo", ValidationError(message, code=exc.problems[0].rule))
            return
        self.evidence = QrEvidence(texts[0])

    def _from_chip(self, text: str, challenge_id: str) -> None:
        """The reader app's JSON of base64 files; with a chip that offers Active Authentication,
        also ``"active_auth"``, its answer to the page's challenge (ICAO 9303 part 11 §6.1; a
        ``"challenge"`` echo is dropped: the server keeps its own copy)."""
        try:
            files = loads_json(text, max_depth=1)
        except ValueError:  # not JSON, or nested deeper than an object of strings
            files = None
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            message = _('the chip read must be a JSON object of base64 files: {"sod": …, "dg1": …}')
            self.add_error("chip_json", ValidationError(message, code="format"))
            return
        answer = files.pop("active_auth", "")
        files.pop("challenge", None)
        self.evidence = ChipEvidence(files, challenge_id=challenge_id, active_auth=answer)

    def _from_typed(self, data: dict[str, Any]) -> None:
        missing = [name for name in ("id_number", "full_name", "date_of_birth") if not data.get(name)]
        for name in missing:
            if not self.has_error(name):
                self.add_error(
                    name, ValidationError(_("required when typing from the card"), code="required")
                )
        if missing:
            return
        self.evidence = TypedEvidence(
            id_number="".join(str(data["id_number"]).split()),
            full_name=str(data["full_name"]),
            date_of_birth=data["date_of_birth"],
            sex=data.get("sex") or None,
            card_issued_on=data.get("card_issued_on"),
        )


class EnrolForm(EvidenceForm):
    licence_class = forms.ChoiceField(label=_("Licence class"), choices=[(c, c) for c in LICENCE_CLASSES])
    course_start = _date_field(_("Course starts"))
    course_end = _date_field(_("Course ends"))


KIND_LABELS: dict[str, Any] = {
    SessionCheck.Kind.THEORY: _("Theory"),
    SessionCheck.Kind.SIMULATOR: _("Simulator"),
    SessionCheck.Kind.ON_ROAD: _("On-road"),
    SessionCheck.Kind.TEST: _("Test"),
}


class CheckForm(EvidenceForm):
    kind = forms.ChoiceField(label=_("Session"))
    instructor = forms.CharField(label=_("Instructor"), required=False, max_length=100)

    def __init__(self, *args: Any, kinds: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, KIND_LABELS[k]) for k in kinds]  # type: ignore[attr-defined]


class RosterForm(forms.Form):
    id_number = forms.CharField(
        label=_("ID number"), max_length=20, help_text=_("The 12-digit ID number on the test roster.")
    )
    licence_class = forms.ChoiceField(label=_("Licence class"), choices=[(c, c) for c in LICENCE_CLASSES])

    def clean_id_number(self) -> str:
        return "".join(str(self.cleaned_data.get("id_number", "")).split())
