"""Forms of the exchange administration pages (input parsing only; rules live in the block)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dancu.blocks.audit.purposes import PURPOSES
from dancu.blocks.exchange.identifiers import MEMBER_CLASSES
from dancu.blocks.exchange.providers import CITIZEN_FIELDS, HOUSEHOLD_FIELDS, VERIFY_FIELDS

_ALL_FIELDS = sorted(set(CITIZEN_FIELDS) | set(HOUSEHOLD_FIELDS) | set(VERIFY_FIELDS))


class MemberForm(forms.Form):
    member_class = forms.ChoiceField(label=_("Member class"), choices=[(c, c) for c in MEMBER_CLASSES])
    member_code = forms.CharField(label=_("Member code"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=255)
    organisation_code = forms.CharField(
        label=_("Organisation code (optional)"), max_length=40, required=False
    )


class SubsystemForm(forms.Form):
    member = forms.TypedChoiceField(label=_("Member"), coerce=int)
    code = forms.CharField(label=_("Subsystem code"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=255)

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = members  # type: ignore[attr-defined]


class GrantRequestForm(forms.Form):
    client = forms.TypedChoiceField(label=_("Client subsystem"), coerce=int)
    service = forms.TypedChoiceField(label=_("Service"), coerce=int)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=[(c, c) for c in sorted(PURPOSES)])
    field_names = forms.MultipleChoiceField(
        label=_("Fields"), choices=[(f, f) for f in _ALL_FIELDS], widget=forms.CheckboxSelectMultiple
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=255)
    valid_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=1825, initial=365)

    def __init__(
        self, *args: Any, clients: list[tuple[int, str]], services: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = clients  # type: ignore[attr-defined]
        self.fields["service"].choices = services  # type: ignore[attr-defined]


class SubscriptionForm(forms.Form):
    """Subscribe one of the member's subsystems to a service's change notifications; an empty
    callback URL means the subsystem pulls them."""

    client = forms.TypedChoiceField(label=_("Client subsystem"), coerce=int)
    service = forms.TypedChoiceField(label=_("Service"), coerce=int)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=[(c, c) for c in sorted(PURPOSES)])
    callback_url = forms.URLField(
        label=_("Webhook URL (empty: pull)"), max_length=500, required=False, assume_scheme="https"
    )

    def __init__(
        self, *args: Any, clients: list[tuple[int, str]], services: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = clients  # type: ignore[attr-defined]
        self.fields["service"].choices = services  # type: ignore[attr-defined]


class LogSearchForm(forms.Form):
    service_id = forms.CharField(label=_("Service"), max_length=400, required=False)
    client_id = forms.CharField(label=_("Client"), max_length=300, required=False)
    request_id = forms.CharField(label=_("Request id"), max_length=100, required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", "—"), ("ok", "ok"), ("provider_error", "provider_error"), ("refused", "refused")],
    )


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("Review note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class TryCallForm(forms.Form):
    """A call through the gateway made from the browser, as one of the member's systems (its
    credential pasted), for the official who is logged in."""

    client = forms.ChoiceField(label=_("Client subsystem"))
    credential = forms.CharField(
        label=_("Client credential"), max_length=200, widget=forms.PasswordInput(render_value=True)
    )
    service = forms.ChoiceField(label=_("Service"))
    id_number = forms.CharField(label=_("ID number"), max_length=12)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=[(c, c) for c in sorted(PURPOSES)])
    case_reference = forms.CharField(label=_("Case reference"), max_length=100, required=False)

    def __init__(self, *args: Any, clients: list[str], services: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = [(c, c) for c in clients]  # type: ignore[attr-defined]
        self.fields["service"].choices = [(s, s) for s in services]  # type: ignore[attr-defined]
