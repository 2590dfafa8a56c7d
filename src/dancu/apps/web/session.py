"""Which organisation a logged-in staff member is acting for, kept in their session.

A person may belong to several organisations (e.g. a ward police officer who also serves on the
people's committee); every access is made for exactly one of them, chosen in the console. With
a single membership that one is used. The organisation is re-checked against the current
memberships on every request, so a membership revoked by an administrator takes effect at once.
"""

from __future__ import annotations

from django.http import HttpRequest

from dancu.blocks.organisations.models import Membership
from dancu.blocks.organisations.services import memberships_of

ORGANISATION_SESSION_KEY = "dancu.organisation_id"


def chosen_organisation_id(request: HttpRequest) -> int | None:
    """The organisation id stored in the session, or None."""
    raw = request.session.get(ORGANISATION_SESSION_KEY)
    return raw if isinstance(raw, int) else None


def choose_organisation(request: HttpRequest, organisation_id: int) -> None:
    """Remember the organisation the user acts for (the caller has checked the membership)."""
    request.session[ORGANISATION_SESSION_KEY] = organisation_id


def forget_organisation(request: HttpRequest) -> None:
    """Drop the stored choice (e.g. after the membership was revoked)."""
    request.session.pop(ORGANISATION_SESSION_KEY, None)


def current_membership(request: HttpRequest) -> Membership | None:
    """The active membership the user acts through now: the chosen one, or the only one."""
    memberships = memberships_of(request.user)
    chosen = chosen_organisation_id(request)
    for membership in memberships:
        if membership.organisation_id == chosen:
            return membership
    return memberships[0] if len(memberships) == 1 else None
