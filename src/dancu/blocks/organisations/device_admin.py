"""Django admin of self-service devices (``devices``): register (add form: the organisation and a
name), issue a new device key for selected devices, revoke. A key is shown once, on the page that
follows, with the link that enrols the device's browser; only the SHA-256 of its secret is stored,
never shown, and the page is not cached (OWASP ASVS 4.0 V8.2.1). Devices are revoked, never deleted:
the records they made keep them. Changes go to Django's admin log (who issued or revoked which
device, when). Each application subclasses these with its model, organisation kinds and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from dancu.blocks.organisations.devices import IssuedDevice
from dancu.blocks.organisations.models import Organisation
from dancu.errors import DomainValidationError, NotFound


class DeviceAddForm(forms.ModelForm):
    """A new device: an active organisation of ``organisation_kinds`` and a name; the key is issued
    when it is saved. Subclasses give ``Meta.model`` (fields ``organisation`` and ``name``)."""

    organisation_kinds: frozenset[str] = frozenset()
    organisation_help = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        organisation.queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            kind__in=sorted(self.organisation_kinds), active=True
        ).order_by("name")
        organisation.help_text = self.organisation_help


class DeviceAdmin(admin.ModelAdmin):
    """Subclasses set ``add_form``, ``enrol_url_name``, ``organisation_header`` and implement
    ``register_device``, ``reissue_device`` and ``revoke_device`` with their services."""

    add_form: type[DeviceAddForm]
    enrol_url_name = ""
    organisation_header = "Cơ quan / Organisation"
    keys_template = "organisations/admin_device_keys.html"
    keys_title = "Khoá thiết bị ki-ốt / Kiosk device keys"
    revoked_message = "Đã thu hồi {count} ki-ốt / {count} kiosk(s) revoked"

    list_display = (
        "prefix",
        "name",
        "organisation",
        "created_at",
        "created_by",
        "last_seen_at",
        "revoked_at",
    )
    list_filter = ("organisation__kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "organisation__code", "organisation__name")
    list_select_related = ("organisation",)
    fields = ("prefix", "name", "organisation", "created_at", "created_by", "last_seen_at", "revoked_at")
    readonly_fields = ("prefix", "organisation", "created_at", "created_by", "last_seen_at", "revoked_at")
    actions = ("issue_key", "revoke")

    # ------------------------------------------------------------------ the application's services
    # Each application's admin subclass names its own service functions here (the hospital kiosks
    # of ``apps/desks``, the office kiosks of ``apps/kiosk``); a block cannot import them.
    def register_device(self, organisation_code: str, name: str, *, created_by: str) -> IssuedDevice:
        raise NotImplementedError

    def reissue_device(self, device_id: int, *, issued_by: str) -> IssuedDevice:
        raise NotImplementedError

    def revoke_device(self, prefix: str, *, now: datetime) -> bool:
        raise NotImplementedError

    # ------------------------------------------------------------------ forms
    @property
    def _issued_attr(self) -> str:
        return f"_dancu_issued_{self.opts.app_label}_{self.opts.model_name}"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("organisation", "name") if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Revoke rather than delete: the records a device made keep it."""
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:  # only the name can change here
            super().save_model(request, obj, form, change)
            return
        issued = self.register_device(obj.organisation.code, obj.name, created_by=request.user.get_username())
        obj.pk = issued.device_id
        obj.refresh_from_db()
        setattr(request, self._issued_attr, [(obj, issued)])

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        issued = getattr(request, self._issued_attr, None)
        if issued:
            return self._show_keys(request, issued)
        return super().response_add(request, obj, post_url_continue)

    # ------------------------------------------------------------------ actions
    @admin.action(description="Cấp khoá thiết bị mới / Issue a new device key")
    def issue_key(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        issued = []
        for device in queryset.select_related("organisation"):
            try:
                new = self.reissue_device(device.pk, issued_by=request.user.get_username())
            except (DomainValidationError, NotFound) as exc:
                self.message_user(request, f"{device}: {exc}", messages.ERROR)
                continue
            device.refresh_from_db()
            self.log_change(request, device, "issued a new device key")
            issued.append((device, new))
        return self._show_keys(request, issued) if issued else None

    @admin.action(description="Thu hồi / Revoke")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        now = timezone.now()
        count = 0
        for device in queryset.filter(revoked_at__isnull=True):
            if self.revoke_device(device.prefix, now=now):
                self.log_change(request, device, "revoked")
                count += 1
        self.message_user(request, self.revoked_message.format(count=count), messages.SUCCESS)

    def _show_keys(self, request: HttpRequest, issued: list[tuple[Any, IssuedDevice]]) -> HttpResponse:
        """The keys, once: the page is not cached and nothing of the secret is kept."""
        enrol_url = request.build_absolute_uri(reverse(self.enrol_url_name))
        rows = [{"device": device, "key": new.key, "enrol_url": enrol_url} for device, new in issued]
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": self.keys_title,
            "rows": rows,
            "organisation_header": self.organisation_header,
            "opts": opts,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        response = TemplateResponse(request, self.keys_template, context)
        response["Cache-Control"] = "no-store"
        return response
