"""Self-service devices of an organisation (clinic kiosks, one-stop office kiosks): registration,
key (re-)issue, revocation and authentication, for any model with the fields ``organisation``,
``name``, ``prefix``, ``secret_sha256``, ``created_by``, ``revoked_at`` and ``last_seen_at``.

The key is a ``tokens`` token ``<tag>_<8 hex>_<43 base64url>`` (256-bit secret), shown once; only
the SHA-256 of the secret is stored and a presented key is compared in constant time (OWASP ASVS
4.0 V2.10, V6.2). Re-issue draws a new prefix and secret, so the old key stops at once. Each
application keeps its own model and its own rule on which organisations may hold a device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.tokens import TokenRejected, mark_seen, new_token, presented_row
from dancu.errors import NotFound
from dancu.validation import check_text

SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedDevice:
    """A registered device. ``key`` is the only copy of the secret: show it once."""

    device_id: int
    prefix: str
    key: str


def _prefix_taken(model: Any) -> Callable[[str], bool]:
    return lambda prefix: bool(model.objects.filter(prefix=prefix).exists())


@transaction.atomic
def register_device(
    model: Any,
    tag: str,
    organisation_code: str,
    name: str,
    *,
    check_organisation: Callable[[Organisation], None],
    created_by: str = "",
) -> IssuedDevice:
    """Register a device of ``model`` for the organisation ``organisation_code`` (which
    ``check_organisation`` may refuse with a ``DomainValidationError``); its key is returned once."""
    name = check_text("name", name, max_length=100, required=True).strip()
    organisation = Organisation.objects.filter(code=organisation_code).first()
    if organisation is None:
        raise NotFound(f"no organisation with code {organisation_code!r}", field="organisation")
    check_organisation(organisation)
    new = new_token(tag, _prefix_taken(model))
    device = model.objects.create(
        organisation=organisation,
        name=name,
        prefix=new.prefix,
        secret_sha256=new.secret_sha256,
        created_by=created_by[:150],
    )
    return IssuedDevice(device_id=device.pk, prefix=new.prefix, key=new.token)


@transaction.atomic
def reissue_device_key(
    model: Any,
    tag: str,
    device_id: int,
    *,
    check_organisation: Callable[[Organisation], None],
    issued_by: str = "",
) -> IssuedDevice:
    """A new key (new prefix and secret: the old key stops at once); the device is no longer
    revoked. Its organisation must still pass ``check_organisation``."""
    device = model.objects.select_for_update().select_related("organisation").filter(pk=device_id).first()
    if device is None:
        raise NotFound("no such kiosk", field="kiosk")
    check_organisation(device.organisation)
    new = new_token(tag, _prefix_taken(model))
    device.prefix, device.secret_sha256 = new.prefix, new.secret_sha256
    device.revoked_at = device.last_seen_at = None
    if issued_by:
        device.created_by = issued_by[:150]
    device.save(update_fields=["prefix", "secret_sha256", "revoked_at", "last_seen_at", "created_by"])
    return IssuedDevice(device_id=device.pk, prefix=new.prefix, key=new.token)


def revoke_device(model: Any, prefix: str, *, now: datetime | None = None) -> bool:
    """Revoke the device with this prefix; False when there is no such unrevoked device."""
    return bool(
        model.objects.filter(prefix=prefix, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    )


def authenticate_device(
    model: Any,
    tag: str,
    key: str | None,
    *,
    kinds: frozenset[str],
    rejected: type[TokenRejected],
    inactive_message: str,
    now: datetime | None = None,
) -> Any:
    """The device of ``model`` presenting ``key``, whose organisation is active and of one of
    ``kinds``; else ``rejected`` (rule ``missing``, ``invalid``, ``revoked`` or
    ``organisation_inactive``). Its ``last_seen_at`` is kept to ``SEEN_RESOLUTION``."""
    if not key:
        raise rejected("missing", "This page is for registered kiosks only.")
    queryset = model.objects.select_related("organisation")
    device = presented_row(queryset, tag, key, rejected, noun="kiosk key", revoked_noun="kiosk")
    org = device.organisation
    if not org.active or org.kind not in kinds:
        raise rejected("organisation_inactive", inactive_message)
    mark_seen(model.objects.filter(pk=device.pk), "last_seen_at", now or timezone.now(), SEEN_RESOLUTION)
    return device
