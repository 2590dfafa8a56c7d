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
    """The 12-digit ID number of the citizen who owns account ``user_id``, asked of the account
    block (``dancu.blocks.eid.services``) if it offers one of the functions below; None when the
    account is not linked to a citizen (staff accounts) or the account block is not there yet."""
    try:
        from dancu.blocks.eid import services as eid
    except ImportError:
        return None
    for name in ("id_number_of_user", "id_number_for_user", "id_number_of"):
        fn = getattr(eid, name, None)
        if callable(fn):
            value = fn(user_id)
            return str(value) if value else None
    return None


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
    """E-mail and phone of the account (not the registry): from the account block if it offers
    ``contacts_of_user(user_id) -> {"email": ..., "phone_number": ...}``, else the user's e-mail."""
    out: dict[str, str] = {}
    try:
        from dancu.blocks.eid import services as eid

        fn = getattr(eid, "contacts_of_user", None)
        if callable(fn):
            out.update({k: str(v) for k, v in (fn(user.pk) or {}).items() if v})
    except ImportError:
        pass
    email = str(getattr(user, "email", None) or "")
    if "email" not in out and email:
        out["email"] = email
    return out
