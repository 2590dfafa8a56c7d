"""Who the signed-in account is, for the claims: pairwise subject identifiers and the link from a
Django user to a citizen of the registry."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


def _pairwise_key() -> bytes:
    configured = getattr(settings, "DANCU_OIDC_PAIRWISE_SECRET", "")
    secret = configured or settings.SECRET_KEY
    return hmac.new(secret.encode(), b"dancu.sso.pairwise.v1", hashlib.sha256).digest()


def pairwise_sub(sector_identifier: str, user_id: int) -> str:
    """The subject identifier of account ``user_id`` at relying parties of ``sector_identifier``
    (OpenID Connect Core 1.0 §8.1): HMAC-SHA-256 keyed with a provider secret over the sector and
    the account. Stable for a sector, different across sectors, never the database id, and not
    reversible without the key."""
    msg = f"{sector_identifier}\x00{user_id}".encode()
    digest = hmac.new(_pairwise_key(), msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def id_number_via_eid(user_id: int) -> str | None:
    """The 12-digit ID number of the citizen who owns account ``user_id`` (the account block's
    link, ``eid.services.id_number_of_user``); None for accounts not linked to a citizen (staff)."""
    from dancu.blocks.eid import services as eid

    return eid.id_number_of_user(user_id)


def _resolver() -> Callable[[int], str | None]:
    path = (
        getattr(settings, "DANCU_OIDC_CITIZEN_RESOLVER", "") or "dancu.blocks.sso.subjects.id_number_via_eid"
    )
    fn: Callable[[int], str | None] = import_string(path)
    return fn


def id_number_of(user_id: int) -> str | None:
    """The citizen's ID number for this account (through the configured resolver)."""
    return _resolver()(user_id)


def account_contacts(user: Any) -> dict[str, str]:
    """E-mail and phone of the account (not the registry): the account block's verified contacts,
    else the user's e-mail."""
    from dancu.blocks.eid import services as eid

    out = {k: str(v) for k, v in (eid.contacts_of_user(user.pk) or {}).items() if v}
    email = str(getattr(user, "email", None) or "")
    if "email" not in out and email:
        out["email"] = email
    return out
