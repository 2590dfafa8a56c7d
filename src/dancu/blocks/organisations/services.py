"""Organisation service functions: create organisations, add staff, build the acting ``Actor``."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dancu.blocks.audit.context import Actor
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.policy import purposes_for
from dancu.errors import AccessDenied, DomainValidationError


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
        role=m.role,
        allowed_purposes=purposes_for(org.kind, m.role),
        jurisdiction_province_code=org.jurisdiction_province_code or None,
        jurisdiction_ward_code=org.jurisdiction_ward_code or None,
    )
