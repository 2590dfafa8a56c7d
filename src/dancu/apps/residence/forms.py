"""Forms of the residence pages: they parse what the clerk scanned or typed into a
``services.CheckIn``; the services decide the rest."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dancu.apps.console.forms import VietnameseDateField
from dancu.apps.residence import services
from dancu.blocks.identity.qr import read_qr
from dancu.blocks.identity.services import Evidence, MrzEvidence, QrEvidence, TypedEvidence
from dancu.errors import DomainValidationError

METHODS = ("qr_text", "qr_photo", "mrz", "typed", "passport")
EVIDENCE_FIELDS = frozenset({"method", "qr_text", "photo", "mrz", "id_number", "full_name", "date_of_birth"})
DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
MAX_PHOTO_BYTES = 10 * 1024 * 1024
_CHILD = re.compile(r"^\s*(?P<name>[^;]+?)\s*;\s*(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})\s*$")


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_FORMATS,
        widget=forms.TextInput(attrs={"placeholder": "dd/mm/yyyy hh:mm", "autocomplete": "off"}),
    )


def guest_from(form: forms.Form, data: dict[str, Any]) -> services.Guest | None:
    """The guest whose card (or passport) the form's evidence fields carry; errors on the form."""
    method = data.get("method")
    if method == "qr_text":
        text = str(data.get("qr_text") or "").strip("\r\n")
        if text:
            return services.CitizenGuest(QrEvidence(text))
        form.add_error("qr_text", ValidationError(_("scan the QR code on the card"), code="required"))
    elif method == "qr_photo":
        photo = data.get("photo")
        if not photo:
            form.add_error("photo", ValidationError(_("choose a photo of the QR code"), code="required"))
        elif photo.size > MAX_PHOTO_BYTES:
            form.add_error("photo", ValidationError(_("the photo must be at most 10 MB"), code="too_large"))
        else:
            try:
                return services.CitizenGuest(QrEvidence(read_qr(photo.read()).texts[0]))
            except DomainValidationError as exc:
                for p in exc.problems:
                    form.add_error("photo", ValidationError(p.message, code=p.rule))
    elif method == "mrz" or method == "passport":
        text = str(data.get("mrz") or "")
        if not text.strip():
            form.add_error("mrz", ValidationError(_("scan or type the MRZ lines"), code="required"))
        elif method == "passport":
            return services.ForeignGuest(text)
        else:
            evidence: Evidence = MrzEvidence(text.strip().upper())
            return services.CitizenGuest(evidence)
    elif method == "typed":
        number = "".join(str(data.get("id_number") or "").split())
        name = str(data.get("full_name") or "").strip()
        born = data.get("date_of_birth")
        for field, value in (("id_number", number), ("full_name", name), ("date_of_birth", born)):
            if not value and not form.has_error(field):
                form.add_error(field, ValidationError(_("this field is required"), code="required"))
        if number and name and isinstance(born, date):
            return services.CitizenGuest(TypedEvidence(id_number=number, full_name=name, date_of_birth=born))
    return None


class CheckInForm(forms.Form):
    """The main guest's card (one method), more guests' card QR texts, children without cards,
    and the stay."""

    method = forms.ChoiceField(
        label=_("How the card is presented"),
        choices=[
            ("qr_text", _("Card or VNeID QR (scanner)")),
            ("qr_photo", _("Photo of the QR code")),
            ("mrz", _("Card MRZ (TD1)")),
            ("typed", _("Typed from the card")),
            ("passport", _("Foreign passport MRZ (TD3)")),
        ],
        initial="qr_text",
    )
    qr_text = forms.CharField(
        label=_("QR code text (USB scanner)"),
        required=False,
        max_length=1000,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    photo = forms.FileField(label=_("Photo of the card's QR code"), required=False)
    mrz = forms.CharField(
        label=_("MRZ lines"),
        required=False,
        max_length=400,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
    )
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=20)
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=100)
    date_of_birth = VietnameseDateField(label=_("Date of birth"), required=False)
    more_qr = forms.CharField(
        label=_("More guests: one card QR per line"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
    )
    children = forms.CharField(
        label=_("Children without a card: one per line, “Full name; dd/mm/yyyy”"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("They stay with the first guest."),
    )
    room = forms.CharField(label=_("Room"), max_length=20)
    arrival = _datetime_field(_("Arrival"))
    expected_departure = _datetime_field(_("Expected departure"))
    reason = forms.CharField(label=_("Reason for the stay"), required=False, max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    check_in: services.CheckIn
    first_guest: services.Guest | None = None

    def _first_guest(self, data: dict[str, Any]) -> services.Guest | None:
        return guest_from(self, data)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first = self._first_guest(data)
        self.first_guest = first
        guests: list[services.Guest] = [first] if first is not None else []
        for line in str(data.get("more_qr") or "").splitlines():
            if line.strip():
                guests.append(services.CitizenGuest(QrEvidence(line.strip())))
        for line in str(data.get("children") or "").splitlines():
            if not line.strip():
                continue
            m = _CHILD.match(line)
            try:
                born = date(int(m["year"]), int(m["month"]), int(m["day"])) if m else None
            except ValueError:
                born = None
            if m is None or born is None:
                self.add_error(
                    "children",
                    ValidationError(_("write each child as “Full name; dd/mm/yyyy”"), code="format"),
                )
                continue
            guests.append(services.ChildGuest(full_name=m["name"], date_of_birth=born, guardian=0))
        arrival, departure = data.get("arrival"), data.get("expected_departure")
        if (
            first is not None
            and isinstance(arrival, datetime)
            and isinstance(departure, datetime)
            and not self.errors
        ):
            self.check_in = services.CheckIn(
                guests=tuple(guests),
                room=str(data.get("room") or ""),
                arrival=arrival,
                expected_departure=departure,
                reason=str(data.get("reason") or ""),
            )
        return data


class RoomForm(forms.Form):
    room = forms.CharField(label=_("New room"), max_length=20)


class ExtendForm(forms.Form):
    expected_departure = _datetime_field(_("New expected departure"))


class SearchForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=12)
    passport_number = forms.CharField(label=_("Passport number"), required=False, max_length=20)
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=100)
    case_reference = forms.CharField(label=_("Case or task reference"), max_length=100)


class WardForm(forms.Form):
    ward = forms.CharField(label=_("Ward code"), required=False, max_length=5)


SCAN_METHODS = [
    ("qr_text", _("Card or VNeID QR (scanner)")),
    ("mrz", _("Card MRZ (TD1)")),
    ("typed", _("Typed from the card")),
    ("passport", _("Foreign passport MRZ (TD3)")),
]


class ScanForm(forms.Form):
    """One person's card (scanner QR, MRZ, typed) or a foreign passport."""

    method = forms.ChoiceField(label=_("How the card is presented"), choices=SCAN_METHODS, initial="qr_text")
    qr_text = forms.CharField(
        label=_("QR code text (USB scanner)"),
        required=False,
        max_length=1000,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    mrz = forms.CharField(
        label=_("MRZ lines"),
        required=False,
        max_length=400,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
    )
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=20)
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=100)
    date_of_birth = VietnameseDateField(label=_("Date of birth"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    guest: services.Guest | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.guest = guest_from(self, data)
        return data


class BoardForm(ScanForm):
    seat = forms.CharField(label=_("Seat"), max_length=20)


class AdmitForm(ScanForm):
    bed = forms.CharField(label=_("Ward and bed"), max_length=20)
    admitted_at = _datetime_field(_("Admitted at"))
    expected_discharge = _datetime_field(_("Expected discharge"))


class CarerForm(ScanForm):
    pass


class TripForm(forms.Form):
    route = forms.CharField(label=_("Route"), max_length=200)
    vehicle_plate = forms.CharField(label=_("Vehicle plate"), max_length=20)
    departure_address = forms.CharField(label=_("Departure address"), max_length=500)
    departure_at = _datetime_field(_("Departure"))
    arrival_at = _datetime_field(_("Arrival"))
    seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=100)


class StatisticsForm(forms.Form):
    sector = forms.ChoiceField(
        label=_("Sector"),
        choices=[
            ("tourism", _("Tourism accommodation")),
            ("health", _("Hospitals")),
            ("industrial", _("Industrial-zone dormitories")),
            ("housing", _("Rented housing")),
        ],
        initial="tourism",
    )
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[("day", _("day")), ("week", _("week")), ("month", _("month"))],
        initial="day",
    )
    start = VietnameseDateField(label=_("From"))
    end = VietnameseDateField(label=_("To"))
    ward = forms.CharField(label=_("Ward code"), required=False, max_length=5)
