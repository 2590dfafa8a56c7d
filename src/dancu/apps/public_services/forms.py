"""The citizen's form of a service: only the items no registry holds (``catalogue.CITIZEN``),
the documents of its ``upload`` items when asked, plus the idempotency key that makes a double
submission create one dossier."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils.translation import get_language

from dancu.apps.public_services.catalogue import Item, Service


def label(item: Item) -> str:
    return item.label_en if (get_language() or "vi").startswith("en") else item.label_vi


def _field(item: Item) -> forms.Field:
    attrs: dict[str, Any] = {}
    if item.kind == "choice":
        return forms.ChoiceField(label=label(item), choices=[("", "—"), *item.choices], required=False)
    if item.kind == "date":
        attrs["placeholder"] = "dd/mm/yyyy"
        attrs["inputmode"] = "numeric"
    if item.kind in ("cmnd", "id_number"):
        attrs["inputmode"] = "numeric"
        attrs["autocomplete"] = "off"
    widget = (
        forms.Textarea(attrs={"rows": 2, **attrs}) if item.kind == "address" else forms.TextInput(attrs=attrs)
    )
    # Server-side validation is the service's (messages naming the field); the form only carries text.
    return forms.CharField(label=label(item), required=False, max_length=item.max_length * 2, widget=widget)


class DossierForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, service: Service, *args: Any, uploads: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in service.citizen_items():
            field = _field(item)
            field.widget.attrs.setdefault("aria-required", "true" if item.required else "false")
            self.fields[item.key] = field
        # The last resort: a document input for the ``upload`` items (checked by ``uploads``).
        for item in service.upload_items() if uploads else ():
            self.fields[item.key] = forms.FileField(
                label=label(item),
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
            )
        if not self.is_bound:
            self.initial["idempotency_key"] = secrets.token_urlsafe(24)


class ReasonsForm(forms.Form):
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)
