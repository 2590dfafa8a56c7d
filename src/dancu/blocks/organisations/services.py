"""Organisation service functions: create organisations, add staff, build the acting ``Actor``,
issue and check the API keys of machine clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dancu.blocks.audit.context import Actor
from dancu.blocks.organisations.models import ApiKey, Membership, Organisation
from dancu.blocks.organisations.policy import INTEGRATION, purposes_for
from dancu.blocks.organisations.tokens import TokenRejected, mark_seen, new_token, parse_token, secret_matches
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


def _key_statement() -> str:
    """The one statement ``authenticate_api_key`` runs: the key by its prefix, with its
    organisation; ``fresh`` says whether ``last_used_at`` is within the resolution. Plain SQL that
    runs on SQLite and PostgreSQL (``%s`` placeholders through Django's cursor), written once
    instead of compiled by the ORM on every request (ADR 0018, fifth step)."""
    columns = (
        "SELECT k.id, k.prefix, k.name, k.secret_sha256, k.revoked_at IS NOT NULL,"
        " k.last_used_at IS NOT NULL AND k.last_used_at >= %s,"
        " o.id, o.name, o.kind, o.jurisdiction_province_code, o.jurisdiction_ward_code, o.active"
    )
    key, org = ApiKey._meta.db_table, Organisation._meta.db_table  # model names, not input
    return columns + f" FROM {key} k JOIN {org} o ON o.id = k.organisation_id WHERE k.prefix = %s"


def authenticate_api_key(token: str, *, now: datetime | None = None) -> ApiClient:
    """The client presenting ``token``, or ``ApiKeyRejected`` (rule ``invalid``, ``revoked`` or
    ``organisation_inactive``). The secret is compared in constant time.

    One statement a request, read from the database each time (a revoked key, a deactivated
    organisation is refused on the very next request); the same rules, in the same order and with
    the same messages, as ``tokens.presented_row`` applies to other tokens."""
    parsed = parse_token(KEY_TAG, token)
    if parsed is None:
        raise ApiKeyRejected("invalid", "The API key is malformed: expected dk_<prefix>_<secret>.")
    prefix, secret = parsed
    moment = now or timezone.now()
    stale = moment - LAST_USED_RESOLUTION
    with connection.cursor() as cursor:
        cursor.execute(_key_statement(), [connection.ops.adapt_datetimefield_value(stale), prefix])
        row = cursor.fetchone()
    if row is None or not secret_matches(row[3], secret):
        raise ApiKeyRejected("invalid", "The API key is not valid.")
    key_id, key_prefix, key_name, _, revoked, fresh, org_id, org_name, kind, province, ward, active = row
    if revoked:
        raise ApiKeyRejected("revoked", "The API key has been revoked.")
    if not active:
        raise ApiKeyRejected("organisation_inactive", "The API key's organisation is not active.")
    if not fresh:  # skip the write when ``last_used_at`` is fresh
        mark_seen(ApiKey.objects.filter(pk=key_id), "last_used_at", moment, LAST_USED_RESOLUTION)
    actor = _machine_actor(
        org_id, org_name, kind, province, ward, f"api-key {key_prefix} ({key_name})", INTEGRATION
    )
    return ApiClient(key_id=key_id, prefix=key_prefix, name=key_name, actor=actor)


def actor_for_api_key(key: ApiKey) -> Actor:
    """The key acts for its organisation with the role ``integration``; the purposes come from
    the policy table (``policy.POLICY``), like those of staff."""
    return machine_actor(key.organisation, f"api-key {key.prefix} ({key.name})", INTEGRATION)


def machine_actor(org: Organisation, label: str, role: str) -> Actor:
    """A machine client (API key, kiosk) acting for ``org`` with ``role``: the purposes and the
    jurisdiction are those the policy table (``policy.POLICY``) gives that role in ``org``."""
    return _machine_actor(
        org.pk,
        org.name,
        org.kind,
        org.jurisdiction_province_code,
        org.jurisdiction_ward_code,
        label,
        role,
    )


def _machine_actor(
    org_id: int, name: str, kind: str, province_code: str, ward_code: str, label: str, role: str
) -> Actor:
    return Actor(
        user_id=None,
        label=label[:150],
        organisation_id=org_id,
        organisation_name=name,
        organisation_kind=kind,
        role=role,
        allowed_purposes=purposes_for(kind, role),
        jurisdiction_province_code=province_code or None,
        jurisdiction_ward_code=ward_code or None,
    )
