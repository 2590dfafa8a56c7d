"""Django admin for the kiosks of one-stop offices (model 2): register (add form: the office and a
name), issue a new device key for selected kiosks, revoke. The key is shown once with its
enrolment link; only the SHA-256 of the secret is stored. Changes go to Django's admin log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from dancu.apps.desks.services import IssuedKiosk
from dancu.apps.kiosk import services
from dancu.apps.kiosk.models import OfficeKiosk
from dancu.blocks.organisations.models import Organisation
from dancu.errors import DomainValidationError, NotFound

_ISSUED = "_dancu_issued_office_kiosks"


class OfficeKioskAddForm(forms.ModelForm):
    class Meta:
        model = OfficeKiosk
        fields = ("organisation", "name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        organisation.queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            kind__in=sorted(services.OFFICE_KINDS), active=True
        ).order_by("name")
        organisation.help_text = "Công an, UBND cấp xã đang hoạt động / Active ward police or committees"


@admin.register(OfficeKiosk)
class OfficeKioskAdmin(admin.ModelAdmin):
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

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = OfficeKioskAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("organisation", "name") if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Revoke rather than delete: submissions keep the kiosk that made them."""
        return False

    def save_model(self, request: HttpRequest, obj: OfficeKiosk, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = services.register_kiosk(
            obj.organisation.code, obj.name, created_by=request.user.get_username()
        )
        obj.pk = issued.device_id
        obj.refresh_from_db()
        setattr(request, _ISSUED, [(obj, issued)])

    def response_add(
        self, request: HttpRequest, obj: OfficeKiosk, post_url_continue: str | None = None
    ) -> HttpResponse:
        issued = getattr(request, _ISSUED, None)
        return (
            self._show_keys(request, issued)
            if issued
            else super().response_add(request, obj, post_url_continue)
        )

    @admin.action(description="Cấp khoá thiết bị mới / Issue a new device key")
    def issue_key(self, request: HttpRequest, queryset: QuerySet[OfficeKiosk]) -> HttpResponse | None:
        issued = []
        for device in queryset:
            try:
                new = services.reissue_key(device.pk, issued_by=request.user.get_username())
            except (DomainValidationError, NotFound) as exc:
                self.message_user(request, f"{device}: {exc}", messages.ERROR)
                continue
            device.refresh_from_db()
            self.log_change(request, device, "issued a new device key")
            issued.append((device, new))
        return self._show_keys(request, issued) if issued else None

    @admin.action(description="Thu hồi / Revoke")
    def revoke(self, request: HttpRequest, queryset: QuerySet[OfficeKiosk]) -> None:
        now = timezone.now()
        count = 0
        for device in queryset.filter(revoked_at__isnull=True):
            if services.revoke(device.prefix, now=now):
                self.log_change(request, device, "revoked")
                count += 1
        self.message_user(request, f"Đã thu hồi {count} ki-ốt / {count} kiosk(s) revoked", messages.SUCCESS)

    def _show_keys(self, request: HttpRequest, issued: list[tuple[OfficeKiosk, IssuedKiosk]]) -> HttpResponse:
        rows = [
            {
                "device": device,
                "key": new.key,
                "enrol_url": request.build_absolute_uri(reverse("kiosk:enrol")),
            }
            for device, new in issued
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Khoá thiết bị ki-ốt / Kiosk device keys",
            "rows": rows,
            "opts": self.model._meta,
            "changelist_url": reverse("admin:kiosk_officekiosk_changelist"),
        }
        response = TemplateResponse(request, "kiosk/admin_keys.html", context)
        response["Cache-Control"] = "no-store"
        return response
