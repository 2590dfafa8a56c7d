"""Forms of the citizen pages: they parse input; the eID block decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dancu.apps.console.forms import VietnameseDateField

CODE_ATTRS = {"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6", "pattern": "[0-9]*"}


class ApplicantForm(forms.Form):
    """What every online applicant gives after their identity: contacts, a face photo and a
    password typed twice."""

    phone = forms.CharField(label=_("Mobile phone"), max_length=15)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    photo = forms.FileField(label=_("Face photo"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class RegisterForm(ApplicantForm):
    id_number = forms.CharField(label=_("Personal ID number (12 digits)"), max_length=12, min_length=12)
    full_name = forms.CharField(label=_("Full name (as on the card)"), max_length=100)
    date_of_birth = VietnameseDateField(label=_("Date of birth (dd/mm/yyyy)"))

    field_order = ["id_number", "full_name", "date_of_birth"]


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("ID number (citizens) or user name (staff)"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=8, widget=forms.TextInput(attrs=CODE_ATTRS))


class RecoverStartForm(forms.Form):
    id_number = forms.CharField(label=_("Personal ID number (12 digits)"), max_length=12)


class RecoverFinishForm(forms.Form):
    id_number = forms.CharField(label=_("Personal ID number (12 digits)"), max_length=12)
    code = forms.CharField(label=_("Code"), max_length=8, widget=forms.TextInput(attrs=CODE_ATTRS))
    password = forms.CharField(label=_("New password"), widget=forms.PasswordInput, strip=False)


class EnterpriseForm(forms.Form):
    name = forms.CharField(label=_("Enterprise name"), max_length=200)
    enterprise_code = forms.CharField(label=_("Enterprise code (tax code)"), max_length=14)
    head_office = forms.CharField(label=_("Head office address"), max_length=300)
    organisation_code = forms.CharField(
        label=_("Platform organisation code (optional)"), max_length=40, required=False
    )


class StaffForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=40)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)


class ChildForm(forms.Form):
    """A parent or guardian declares the child (Decree 69/2024 Art. 7; ``blocks/eid/family.py``)."""

    id_number = forms.CharField(
        label=_("Child's personal ID number (12 digits)"), max_length=12, min_length=12
    )
    full_name = forms.CharField(label=_("Child's full name (as on the card)"), max_length=100)
    date_of_birth = VietnameseDateField(label=_("Child's date of birth (dd/mm/yyyy)"))
    card_issued_on = VietnameseDateField(label=_("Issue date of the child's identity card (dd/mm/yyyy)"))
    photo = forms.FileField(label=_("Child's face photo (from 6 years)"), required=False)


class ClaimForm(ApplicantForm):
    """The holder at 14 takes the account a parent or guardian managed (``family.claim_own_account``):
    their card's data, then what every applicant gives."""

    id_number = forms.CharField(label=_("Personal ID number (12 digits)"), max_length=12, min_length=12)
    full_name = forms.CharField(label=_("Full name (as on the card)"), max_length=100)
    date_of_birth = VietnameseDateField(label=_("Date of birth (dd/mm/yyyy)"))
    card_issued_on = VietnameseDateField(label=_("Issue date of your identity card (dd/mm/yyyy)"))

    field_order = ["id_number", "full_name", "date_of_birth", "card_issued_on"]


class ForeignerRegisterForm(ApplicantForm):
    """A foreign resident's level-1 application (``blocks/eid/foreigners.py``)."""

    passport_mrz = forms.CharField(
        label=_("Passport machine-readable zone (the 2 lines at the bottom of the photo page)"),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 46, "spellcheck": "false"}),
        max_length=200,
    )
    card_number = forms.CharField(label=_("Residence card number"), max_length=20)

    field_order = ["passport_mrz", "card_number"]
