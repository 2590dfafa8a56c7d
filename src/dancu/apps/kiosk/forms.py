"""Kiosk forms: the card (QR from the scanner or camera, chip from the reader — never typed data)
and the dossier form of a kiosk service (the portal's form, with registry choices where the
registry holds the answer)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dancu.apps.desks.forms import EvidenceForm
from dancu.apps.public_services.catalogue import Service
from dancu.apps.public_services.forms import DossierForm
from dancu.apps.public_services.services import Prefilled

KIOSK_METHODS = ("qr_text", "qr_photo", "chip")


class CardForm(EvidenceForm):
    """The desks' evidence form limited to what a kiosk reads off the card: no typed identity,
    no MRZ typed by hand (the citizen has no keyboard for personal data)."""

    def clean(self) -> dict[str, Any]:
        if self.data.get("method") not in KIOSK_METHODS:
            raise ValidationError("the kiosk reads the card's QR code or chip", code="method")
        return super().clean()


class CodeForm(forms.Form):
    """The one-time code sent to the holder's phone after a QR (ADR 0013, 3): six digits tapped on
    the kiosk's keypad — a code, not personal data."""

    code = forms.RegexField(
        regex=r"^[0-9]{6}$",
        max_length=6,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "inputmode": "none",
                "autocomplete": "one-time-code",
                "maxlength": "6",
                "pattern": "[0-9]{6}",
                "id": "kiosk-code",
                "data-testid": "kiosk-code",
                "aria-describedby": "kiosk-code-help",
            }
        ),
    )


class KioskDossierForm(DossierForm):
    """The portal's dossier form. An old CMND number the registry already links to the citizen is
    chosen with one touch instead of typed."""

    def __init__(self, service: Service, prefilled: list[Prefilled], *args: Any, **kwargs: Any) -> None:
        super().__init__(service, *args, **kwargs)
        old = next((p.value for p in prefilled if p.key == "old_id_numbers"), "")
        numbers = [n.strip() for n in old.split(",") if n.strip()]
        for item in service.citizen_items():
            if item.kind == "cmnd" and numbers:
                field = forms.ChoiceField(
                    label=self.fields[item.key].label,
                    choices=[(n, n) for n in numbers],
                    widget=forms.RadioSelect,
                    required=False,
                )
                self.fields[item.key] = field
                if not self.is_bound:
                    self.initial[item.key] = numbers[0]
