"""Forms of the eID desk: a chip read (the reader app's JSON, pasted or uploaded) and a live photo."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dancu.validation import loads_json


def _aa_answer(raw: str) -> bytes | None:
    """The chip's Active Authentication answer as the reader returned it (standard base64)."""
    if not raw.strip():
        return None
    try:
        answer = base64.b64decode("".join(raw.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("the reader's Active Authentication answer is not base64")) from None
    # r ‖ s of P-256 … P-521 (BSI TR-03111 §5.2.1), or an RSA answer of up to 4096 bits (ISO/IEC 9796-2)
    if not 16 <= len(answer) <= 512:
        raise ValidationError(_("the reader's Active Authentication answer has the wrong length"))
    return answer


AA_LABEL = _("Active Authentication answer (base64, from the reader, to the challenge shown)")


class AnswerInput(forms.TextInput):
    """The answer belongs to the challenge of the page it was read for, used by the submission: a
    page shown again after a refusal carries a new challenge, so the old answer is not put back
    (resubmitted, it would fail ``aa.signature`` and be audited like a cloned chip)."""

    def format_value(self, value: Any) -> str | None:
        return None


class ActivationForm(forms.Form):
    chip_json = forms.CharField(
        label=_("Chip read (JSON from the reader app)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    chip_file = forms.FileField(label=_("or the reader app's JSON file"), required=False)
    chip_aa = forms.CharField(label=AA_LABEL, max_length=700, required=False, widget=AnswerInput)
    live_photo = forms.FileField(label=_("Live photo of the holder"))
    phone = forms.CharField(
        label=_("Mobile phone (new account, or an account taken over at 14)"), max_length=15, required=False
    )
    email = forms.EmailField(label=_("E-mail (new account, optional)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = data.get("chip_json") or ""
        upload = data.get("chip_file")
        if upload:
            raw = upload.read().decode("utf-8", errors="replace")
        try:
            files = loads_json(raw, max_depth=1) if raw.strip() else None
        except ValueError:  # not JSON, or nested deeper than an object of strings
            files = None
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise ValidationError(
                {
                    "chip_json": _(
                        "paste the reader app's JSON: an object of base64 chip files (sod, dg1, dg2, dg13…)"
                    )
                }
            )
        data["chip_files"] = files
        return data

    def clean_chip_aa(self) -> bytes | None:
        return _aa_answer(self.cleaned_data.get("chip_aa") or "")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(label=_("Reason (for a rejection)"), max_length=300, required=False)


class ForeignerActivationForm(forms.Form):
    """A foreign resident at the desk: the passport's MRZ (typed or from the reader), the
    residence card's number, and the officer's confirmation of the face (``foreigners.py``)."""

    passport_mrz = forms.CharField(
        label=_("Passport machine-readable zone (2 lines)"),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 46, "spellcheck": "false"}),
        max_length=200,
    )
    card_number = forms.CharField(label=_("Residence card number"), max_length=20)
    face_confirmed = forms.BooleanField(
        label=_("I compared the holder's face with the passport's photo page and the residence card"),
        required=False,
    )
    chip_json = forms.CharField(
        label=_("Passport chip read (JSON from the reader app; empty if the chip cannot be read)"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        required=False,
        max_length=400_000,
    )
    chip_aa = forms.CharField(label=AA_LABEL, max_length=700, required=False, widget=AnswerInput)
    live_photo = forms.FileField(
        label=_("Live photo of the holder (optional: compared with the chip's portrait)"), required=False
    )
    # ADR 0017 §10: for a state with a trusted CSCA the chip is required unless this is recorded.
    chip_unreadable = forms.BooleanField(
        label=_("The chip cannot be read: record this as the reason for an activation without it"),
        required=False,
    )

    def clean_chip_aa(self) -> bytes | None:
        return _aa_answer(self.cleaned_data.get("chip_aa") or "")

    def clean_chip_json(self) -> dict[str, Any] | None:
        """``None`` when no chip was read, else the reader's object of base64 files (ADR 0017 §10)."""
        raw = self.cleaned_data.get("chip_json") or ""
        if not raw.strip():
            return None
        try:
            files = loads_json(raw, max_depth=1)
        except ValueError:  # not JSON, or nested deeper than an object of strings
            files = None
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise ValidationError(
                _("paste the reader app's JSON: an object of base64 chip files (sod, dg1, dg2…)")
            )
        return files
