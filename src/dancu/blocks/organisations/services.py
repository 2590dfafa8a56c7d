"""Organisation service functions: create organisations, add staff, build the acting ``Actor``,
issue and check the API keys of machine clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dancu.blocks.audit.context import Actor
from dancu.blocks.organisations.models import ApiKey, Membership, Organisation
from dancu.blocks.organisations.policy import INTEGRATION, purposes_for
from dancu.blocks.organisations.tokens import TokenRejected, mark_seen, new_token, presented_row
from dancu.errors import AccessDenied, DomainValidationError
from dancu.validation import check_text


@transaction.atomic
def create_organisation(
    *,
    code: str,
    name: str,
    kind: str,
    jurisdiction_province_code: str = "",
    jurisdiction_ward_code: str = "",
    parent: Organisation | None = None,
) -> Organisation:
    if kind not in Organisation.Kind.values:
        raise DomainValidationError.single("kind", "choice", f"unknown organisation kind {kind!r}")
    if Organisation.objects.filter(code=code).exists():
        raise DomainValidationError.single("code", "unique", f"an organisation with code {code!r} exists")
    return Organisation.objects.create(
        code=code,
        name=name,
        kind=kind,
        jurisdiction_province_code=jurisdiction_province_code,
        jurisdiction_ward_code=jurisdiction_ward_code,
        parent=parent,
    )


@transaction.atomic
def add_member(user: Any, organisation: Organisation, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise DomainValidationError.single("role", "choice", f"unknown role {role!r}")
    membership, _ = Membership.objects.update_or_create(
        user=user, organisation=organisation, defaults={"role": role, "active": True}
    )
    return membership


def memberships_of(user: Any) -> list[Membership]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user, active=True, organisation__active=True)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def actor_for(user: Any, organisation_id: int | None = None) -> Actor:
    """The ``Actor`` for a logged-in staff member acting for one of their organisations.

    Without ``organisation_id`` the first active membership is used. A user with no active
    membership gets an actor with no purposes: every access is then denied and audited.
    """
    members = memberships_of(user)
    if organisation_id is not None:
        members = [m for m in members if m.organisation_id == organisation_id]
        if not members:
            raise AccessDenied(
                "you are not a member of that organisation", field="organisation", rule="membership"
            )
    label = getattr(user, "username", "") or "anonymous"
    if not members:
        return Actor(user_id=getattr(user, "pk", None), label=label)
    m = members[0]
    org = m.organisation
    return Actor(
        user_id=user.pk,
        label=label,
        organisation_id=org.pk,
        organisation_name=org.name,
        organisation_kind=org.kind,
        role=m.role,
        allowed_purposes=purposes_for(org.kind, m.role),
        jurisdiction_province_code=org.jurisdiction_province_code or None,
        jurisdiction_ward_code=org.jurisdiction_ward_code or None,
    )


def colleagues_of(organisation_id: int) -> list[Actor]:
    """Every active member of an active organisation, as the actor they act as for it (e.g. the
    officials a supervisor may assign work to). Names and roles only — no personal data."""
    members = (
        Membership.objects.filter(
            organisation_id=organisation_id, active=True, organisation__active=True, user__is_active=True
        )
        .select_related("user", "organisation")
        .order_by("user__username")
    )
    out = []
    for m in members:
        org = m.organisation
        out.append(
            Actor(
                user_id=m.user_id,
                label=m.user.username,
                organisation_id=org.pk,
                organisation_name=org.name,
                organisation_kind=org.kind,
                role=m.role,
                allowed_purposes=purposes_for(org.kind, m.role),
                jurisdiction_province_code=org.jurisdiction_province_code or None,
                jurisdiction_ward_code=org.jurisdiction_ward_code or None,
            )
        )
    return out


# --------------------------------------------------------------------------- API keys
KEY_TAG = "dk"  # the token is KEY_TAG_<prefix>_<secret>
LAST_USED_RESOLUTION = timedelta(minutes=1)  # ``last_used_at`` is written at most once a minute


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key. ``token`` is the only copy of the secret: show it once, it is not stored."""

    key_id: int
    prefix: str
    token: str


@dataclass(frozen=True)
class ApiClient:
    """An authenticated API key and the actor it acts as."""

    key_id: int
    prefix: str
    name: str
    actor: Actor


class ApiKeyRejected(TokenRejected):
    """The token is malformed, unknown, revoked, or its organisation is inactive (``rule``)."""


@transaction.atomic
def issue_api_key(organisation: Organisation, name: str, *, created_by: str = "") -> IssuedApiKey:
    """A new key ``dk_<8 hex>_<43 base64url>`` (256-bit secret) for ``organisation``."""
    name = check_text("name", name, max_length=100, required=True).strip()
    if not organisation.active:
        raise DomainValidationError.single("organisation", "inactive", "the organisation is not active")
    new = new_token(KEY_TAG, lambda prefix: ApiKey.objects.filter(prefix=prefix).exists())
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name,
        prefix=new.prefix,
        secret_sha256=new.secret_sha256,
        created_by=created_by[:150],
    )
    return IssuedApiKey(key_id=key.pk, prefix=new.prefix, token=new.token)


def revoke_api_key(prefix: str, *, now: datetime | None = None) -> bool:
    """Revoke the key with this prefix; False when there is no such unrevoked key."""
    return bool(
        ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    )


def api_keys_of(organisation: Organisation) -> list[ApiKey]:
    return list(ApiKey.objects.filter(organisation=organisation).order_by("created_at", "id"))


def authenticate_api_key(token: str, *, now: datetime | None = None) -> ApiClient:
    """The client presenting ``token``, or ``ApiKeyRejected`` (rule ``invalid``, ``revoked`` or
    ``organisation_inactive``). The secret is compared in constant time."""
    key = presented_row(
        ApiKey.objects.select_related("organisation"),
        KEY_TAG,
        token,
        ApiKeyRejected,
        noun="API key",
        malformed="The API key is malformed: expected dk_<prefix>_<secret>.",
    )
    if not key.organisation.active:
        raise ApiKeyRejected("organisation_inactive", "The API key's organisation is not active.")
    moment = now or timezone.now()
    if key.last_used_at is None or key.last_used_at < moment - LAST_USED_RESOLUTION:  # skip when fresh
        mark_seen(ApiKey.objects.filter(pk=key.pk), "last_used_at", moment, LAST_USED_RESOLUTION)
    return ApiClient(key_id=key.pk, prefix=key.prefix, name=key.name, actor=actor_for_api_key(key))


def actor_for_api_key(key: ApiKey) -> Actor:
    """The key acts for its organisation with the role ``integration``; the purposes come from
    the policy table (``policy.POLICY``), like those of staff."""
    return machine_actor(key.organisation, f"api-key {key.prefix} ({key.name})", INTEGRATION)


def machine_actor(org: Organisation, label: str, role: str) -> Actor:
    """A machine client (API key, kiosk) acting for ``org`` with ``role``: the purposes and the
    jurisdiction are those the policy table (``policy.POLICY``) gives that role in ``org``."""
    return Actor(
        user_id=None,
        label=label[:150],
        organisation_id=org.pk,
        organisation_name=org.name,
        organisation_kind=org.kind,
        role=role,
        allowed_purposes=purposes_for(org.kind, role),
        jurisdiction_province_code=org.jurisdiction_province_code or None,
        jurisdiction_ward_code=org.jurisdiction_ward_code or None,
    )
