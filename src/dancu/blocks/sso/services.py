"""Service functions of the OpenID Connect provider: the citizen's consents, the release of claims
by purpose, and the registration of relying parties.

Rules cited: OpenID Connect Core 1.0 (§3.1.2.4 consent, §5.4 scope claims, §8.1 pairwise
subjects), RFC 6749 §2 (client registration), RFC 7009 (revocation), Decree 69/2024/NĐ-CP and the
Law on Personal Data Protection 2025 (Law 91/2025/QH15) Art. 9 (consent of the data subject).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.sso.claims import CLAIMS, REGISTRY_CLAIMS, SCOPE_CLAIMS
from dancu.blocks.sso.models import Consent, RelyingParty
from dancu.blocks.sso.subjects import account_contacts, id_number_of
from dancu.errors import DomainValidationError, NotFound
from dancu.precompiled import Select, quote

Application = get_application_model()
RELEASE_PURPOSE = "sso.claims_release"


# --------------------------------------------------------------------------- consents
@dataclass(frozen=True)
class ConsentView:
    """One authorisation a citizen gave a relying party, as shown on their page."""

    consent_id: int
    relying_party: str  # Vietnamese name
    relying_party_en: str
    scopes: list[str]
    claims: list[str]  # claim names (``CLAIMS`` has their labels)
    claim_labels_vi: list[str]
    claim_labels_en: list[str]
    granted_at: datetime


def consents_of(user_id: int) -> list[ConsentView]:
    """The relying parties this account authorised and not revoked, newest first."""
    rows = (
        Consent.objects.filter(user_id=user_id, revoked_at__isnull=True)
        .select_related("relying_party")
        .order_by("-granted_at", "-id")
    )
    out = []
    for c in rows:
        claims = c.claims.split()
        rp = c.relying_party
        out.append(
            ConsentView(
                consent_id=c.pk,
                relying_party=rp.name_vi,
                relying_party_en=rp.name_en or rp.name_vi,
                scopes=c.scopes.split(),
                claims=claims,
                claim_labels_vi=[CLAIMS[n].label_vi for n in claims if n in CLAIMS],
                claim_labels_en=[CLAIMS[n].label_en for n in claims if n in CLAIMS],
                granted_at=c.granted_at,
            )
        )
    return out


def revoke_consent(user_id: int, consent_id: int) -> bool:
    """Withdraw consent ``consent_id`` of this account (Law 91/2025/QH15: consent may be withdrawn
    at any time) and revoke the account's tokens for that relying party (RFC 7009 §2.1: revoked
    tokens are refused at once). False if there is no such live consent of this account."""
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .filter(pk=consent_id, user_id=user_id, revoked_at__isnull=True)
            .select_related("relying_party")
            .first()
        )
        if consent is None:
            return False
        consent.revoked_at = timezone.now()
        consent.save(update_fields=["revoked_at"])
        revoke_tokens(user_id, consent.relying_party.application_id)
    return True


def revoke_tokens(user_id: int, application_id: int) -> None:
    """Revoke every refresh and access token of this account at this client."""
    for rt in get_refresh_token_model().objects.filter(
        user_id=user_id, application_id=application_id, revoked__isnull=True
    ):
        rt.revoke()
    for at in get_access_token_model().objects.filter(user_id=user_id, application_id=application_id):
        at.revoke()


_LIVE_CONSENTS = Select(
    lambda: (
        f"SELECT c.{quote('scopes')}, c.{quote('claims')} FROM {quote(Consent._meta.db_table)} c"  # noqa: S608
        f" WHERE c.{quote('user_id')} = %s AND c.{quote('relying_party_id')} = %s"
        f" AND c.{quote('revoked_at')} IS NULL"
    ),
    [("c", Consent._meta.get_field("scopes")), ("c", Consent._meta.get_field("claims"))],
)


def consent_covers(user_id: int, rp: RelyingParty, scopes: list[str], claims: list[str]) -> bool:
    """Whether a live consent of this account to ``rp`` covers these scopes and claims (a request
    for more is asked again)."""
    for granted_scopes, granted_claims in _LIVE_CONSENTS.rows([user_id, rp.pk]):
        if set(scopes) <= set(granted_scopes.split()) and set(claims) <= set(granted_claims.split()):
            return True
    return False


def grant_consent(user_id: int, rp: RelyingParty, scopes: list[str], claims: list[str]) -> Consent:
    """Record the citizen's consent (one live consent per account and relying party: the new one
    replaces the old, with the union of what was granted)."""
    now = timezone.now()
    with transaction.atomic():
        old = list(
            Consent.objects.select_for_update().filter(
                user_id=user_id, relying_party=rp, revoked_at__isnull=True
            )
        )
        all_scopes = set(scopes).union(*(set(c.scopes.split()) for c in old))
        all_claims = set(claims).union(*(set(c.claims.split()) for c in old))
        for c in old:
            c.revoked_at = now
            c.save(update_fields=["revoked_at"])
        return Consent.objects.create(
            user_id=user_id,
            relying_party=rp,
            scopes=" ".join(sorted(all_scopes)),
            claims=" ".join(n for n in CLAIMS if n in all_claims),
            granted_at=now,
        )


# --------------------------------------------------------------------------- access tokens
@dataclass(frozen=True)
class TokenHolder:
    """Whom an access token this provider issued speaks for (``token_holder``): the account and its
    citizen, and the relying party it was issued to (its organisation and its registered minimum
    assurance — every token of that relying party was issued to a log-in at least at that level,
    ``views._required_acr``)."""

    user_id: int | None  # None: a machine's token (client credentials, RFC 6749 §4.4)
    id_number: str | None  # the account's citizen; None for staff and unlinked accounts
    organisation_id: int | None  # the relying party's organisation (``RelyingParty.organisation_id``)
    client_id: str
    min_acr: str
    expires: datetime
    scopes: frozenset[str]
    resource: tuple[str, ...] = ()  # RFC 8707 resource indicators the token is bound to; () = unrestricted


def token_holder(token: str) -> TokenHolder | None:
    """The access token ``token`` as this provider stores it, found by its SHA-256 (RFC 9700 token
    storage: the token itself is not stored); None when there is no such token — never issued, or
    revoked: revocation deletes the access token (RFC 7009, log-out, consent withdrawal, refresh
    rotation, a replayed code). Expiry is the caller's to check (``expires``). One query for the
    token and its relying party, and the account's link to its citizen when there is an account."""
    if not token or len(token) > 512:
        return None
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    row = (
        get_access_token_model()
        .objects.filter(token_checksum=checksum)
        .values_list(
            "user_id",
            "expires",
            "scope",
            "application__client_id",
            "application__relying_party__organisation_id",
            "application__relying_party__min_acr",
            "resource",
        )
        .first()
    )
    if row is None:
        return None
    user_id, expires, scope, client_id, organisation_id, min_acr, resource = row
    return TokenHolder(
        user_id=user_id,
        id_number=id_number_of(user_id) if user_id is not None else None,
        organisation_id=organisation_id,
        client_id=client_id,
        min_acr=min_acr or "",
        expires=expires,
        scopes=frozenset((scope or "").split()),
        resource=tuple(r for r in (resource or ()) if isinstance(r, str)),
    )


# --------------------------------------------------------------------------- claims
def relying_party_of(client_id: str) -> RelyingParty | None:
    return RelyingParty.objects.select_related("application").filter(application__client_id=client_id).first()


def actor_for_relying_party(rp: RelyingParty, organisation: tuple[str, str] | None = None) -> Actor:
    """The actor recorded when claims are released to ``rp``: its organisation with the
    relying-party role of the policy, or a system actor labelled with its name. No jurisdiction
    rule applies: the citizen signed in and consented, wherever they live (``is_system``).
    ``organisation`` is the organisation's (name, kind) when the caller already read it (the
    userinfo fast path reads it with the token); otherwise it is read here."""
    from dancu.blocks.organisations.policy import RELYING_PARTY, purposes_for

    org_name, kind = organisation or ("", "")
    if rp.organisation_id and organisation is None:
        from dancu.blocks.organisations.models import Organisation

        org = Organisation.objects.filter(pk=rp.organisation_id).values("name", "kind").first()
        if org:
            org_name, kind = org["name"], org["kind"]
    allowed = purposes_for(kind, RELYING_PARTY) if kind else frozenset({RELEASE_PURPOSE})
    return Actor(
        user_id=None,
        label=rp.name_vi,
        organisation_id=rp.organisation_id if org_name else None,
        organisation_name=org_name or rp.name_vi,
        organisation_kind=kind,
        role=RELYING_PARTY,
        allowed_purposes=allowed,
        is_system=True,
    )


def _address_text(view: Any) -> str | None:
    addr = getattr(view, "permanent_address", None)
    text = str(addr.text) if addr is not None and addr.text else None
    return text


def _gender(sex: str | None) -> str | None:
    return {"M": "male", "F": "female", "male": "male", "female": "female"}.get(sex or "", sex or None)


def _birthdate(d: date | None, precision: str | None) -> str | None:
    if d is None:
        return None
    if precision and precision != "day":
        return f"{d.year:04d}"  # OpenID Connect Core 1.0 §5.1: the year alone when the day is unknown
    return d.isoformat()


def release_claims(rp: RelyingParty, user: Any, claims: list[str]) -> dict[str, Any]:
    """The values of ``claims`` for the citizen who owns ``user``, for ``rp`` (which must be
    registered for them). Registry claims are read through ``registry.get_by_id_number`` with the
    relying party's purpose (audited there) and the release itself is recorded as an event the
    citizen sees on their page, naming the claims released (not their values).
    """
    return release_claims_of(
        rp,
        claims,
        contacts=lambda: account_contacts(user),
        id_number=lambda: id_number_of(user.pk),
        actor=lambda: actor_for_relying_party(rp),
    )


def release_claims_of(
    rp: RelyingParty,
    claims: list[str],
    *,
    contacts: Callable[[], dict[str, str]],
    id_number: Callable[[], str | None],
    actor: Callable[[], Actor],
) -> dict[str, Any]:
    """:func:`release_claims` with the account's contacts, the citizen's ID number and the
    recorded actor given as functions, called only when a claim needs them — the userinfo fast
    path (``fasthttp.py``) hands over what it read with the token. Same reads, same events."""
    from dancu.blocks.registry import services as registry

    allowed = [c for c in claims if c in rp.claims]
    out: dict[str, Any] = {}
    known = contacts() if "email" in allowed or "phone_number" in allowed else {}
    for c in ("email", "phone_number"):
        if c in allowed and known.get(c):
            out[c] = known[c]
            if c == "email":
                out["email_verified"] = False
    wanted = [c for c in allowed if c in REGISTRY_CLAIMS]
    if not wanted:
        return out
    number = id_number()
    if not number:
        return out
    ctx = AccessContext(actor=actor(), purpose=rp.purpose or RELEASE_PURPOSE)
    view = registry.get_by_id_number(ctx, number)
    values: dict[str, Any] = {
        "name": view.full_name,
        "family_name": view.family_name,
        "middle_name": view.middle_name,
        "given_name": view.given_name,
        "birthdate": _birthdate(view.date_of_birth, view.dob_precision),
        "gender": _gender(view.sex),
        "address": {"formatted": _address_text(view), "country": "VN"} if _address_text(view) else None,
        "id_number": view.id_number,
    }
    released = []
    for c in wanted:
        if values.get(c):
            out[c] = values[c]
            released.append(c)
    audit.record(ctx, RELEASE_PURPOSE, subject_citizen_id=view.citizen_id, detail={"claims": released})
    return out


# --------------------------------------------------------------------------- registration
@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str  # shown once; stored hashed
    relying_party_id: int


VALID_SCOPES = frozenset(SCOPE_CLAIMS)


def _check_uris(field: str, uris: list[str]) -> None:
    from urllib.parse import urlsplit

    from django.conf import settings

    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment or "#" in uri:
            raise DomainValidationError.single(
                field, "invalid_uri", f"{uri!r} is not an absolute URI without fragment"
            )
        loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
        if parts.scheme == "http" and not (loopback or settings.DEBUG or settings.DEMO):
            # RFC 9700 §2.6 / RFC 6749 §3.1.2.1: redirects carry codes; TLS except on loopback.
            raise DomainValidationError.single(field, "https_required", f"{uri!r} must use https")


def register_client(
    *,
    name_vi: str,
    name_en: str = "",
    redirect_uris: list[str] | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    scopes: list[str] | None = None,
    claims: list[str] | None = None,
    min_acr: str = "",
    sector_identifier: str = "",
    first_party: bool = False,
    confidential: bool = True,
    machine: bool = False,
    organisation_id: int | None = None,
    purpose: str = RELEASE_PURPOSE,
    client_id: str | None = None,
    id_token_alg: str = "RS256",  # noqa: S107 (an algorithm name)
) -> RegisteredClient:
    """Register a relying party (RFC 6749 §2; OpenID Connect Core 1.0 §8.1 sector identifier). The
    ID tokens are signed ``id_token_alg``, RS256 (default) or ES256, never ``none``; a machine
    client uses the client credentials grant (RFC 6749 §4.4) and has no redirect URIs. The secret
    is a random 256-bit value, returned once."""
    from urllib.parse import urlsplit

    from dancu.blocks.audit.purposes import get_purpose
    from dancu.blocks.eid.assurance import ACR_ORDER

    scopes = list(scopes or (["openid"] if not machine else []))
    unknown = set(scopes) - VALID_SCOPES
    if unknown:
        raise DomainValidationError.single("scopes", "unknown_scope", f"unknown scopes: {sorted(unknown)}")
    claims = list(claims or [])
    if set(claims) - set(CLAIMS):
        raise DomainValidationError.single(
            "claims", "unknown_claim", f"unknown claims: {sorted(set(claims) - set(CLAIMS))}"
        )
    if min_acr and min_acr not in ACR_ORDER:
        raise DomainValidationError.single("min_acr", "unknown_acr", f"acr must be one of {list(ACR_ORDER)}")
    get_purpose(purpose)
    if id_token_alg not in ("RS256", "ES256"):
        raise DomainValidationError.single(
            "id_token_alg", "unknown_alg", "id_token_alg must be RS256 or ES256"
        )
    redirect_uris = list(redirect_uris or [])
    post_logout_redirect_uris = list(post_logout_redirect_uris or [])
    if not machine and not redirect_uris:
        raise DomainValidationError.single("redirect_uris", "required", "at least one redirect URI")
    _check_uris("redirect_uris", redirect_uris)
    _check_uris("post_logout_redirect_uris", post_logout_redirect_uris)
    sector = sector_identifier or (urlsplit(redirect_uris[0]).hostname or "" if redirect_uris else name_vi)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        app = Application(
            name=name_vi[:255],
            client_type=Application.CLIENT_CONFIDENTIAL
            if confidential or machine
            else Application.CLIENT_PUBLIC,
            authorization_grant_type=(
                Application.GRANT_CLIENT_CREDENTIALS if machine else Application.GRANT_AUTHORIZATION_CODE
            ),
            redirect_uris=" ".join(redirect_uris),
            post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
            algorithm=Application.RS256_ALGORITHM,
            client_secret=secret,
            skip_authorization=False,
        )
        if client_id:
            app.client_id = client_id
        app.save()
        rp = RelyingParty.objects.create(
            application=app,
            name_vi=name_vi,
            name_en=name_en,
            organisation_id=organisation_id,
            allowed_scopes=" ".join(scopes),
            allowed_claims=" ".join(claims),
            purpose=purpose,
            min_acr=min_acr,
            sector_identifier=sector,
            first_party=first_party,
            id_token_alg=id_token_alg,
        )
    return RegisteredClient(client_id=app.client_id, client_secret=secret, relying_party_id=rp.pk)


def rotate_client_secret(client_id: str) -> str:
    """A new random secret for the client (the old one stops working at once); returned once."""
    app = Application.objects.filter(client_id=client_id).first()
    if app is None:
        raise NotFound("no client with that id", field="client_id")
    secret = secrets.token_urlsafe(32)
    app.client_secret = secret
    app.save(update_fields=["client_secret"])
    return secret


@dataclass(frozen=True)
class ClientSummary:
    client_id: str
    name: str
    grant_type: str
    scopes: str
    claims: str
    min_acr: str
    sector_identifier: str
    first_party: bool
    redirect_uris: str


def list_clients() -> list[ClientSummary]:
    return [
        ClientSummary(
            client_id=rp.application.client_id,
            name=rp.name_vi,
            grant_type=rp.application.authorization_grant_type,
            scopes=rp.allowed_scopes,
            claims=rp.allowed_claims,
            min_acr=rp.min_acr,
            sector_identifier=rp.sector_identifier,
            first_party=rp.first_party,
            redirect_uris=rp.application.redirect_uris,
        )
        for rp in RelyingParty.objects.select_related("application").order_by("id")
    ]


def purge_expired() -> dict[str, int]:
    """Remove what can no longer be used: DOT's expired and revoked tokens and grants (its own
    ``clear_expired``, honouring ``REFRESH_TOKEN_EXPIRE_SECONDS``) and the digests of redeemed codes
    older than a refresh token can live — the tokens a replay would revoke are gone by then
    (RFC 6749 §4.1.2)."""
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import clear_expired
    from oauth2_provider.settings import oauth2_settings

    from dancu.blocks.sso.models import RedeemedCode

    clear_expired()
    lifetime = int(oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS or 0) or 30 * 24 * 3600
    cutoff = timezone.now() - timedelta(seconds=lifetime)
    codes, _ = RedeemedCode.objects.filter(redeemed_at__lt=cutoff).delete()
    return {"redeemed_codes": codes}
