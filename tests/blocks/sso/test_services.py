"""Consents, pairwise subjects, claims by purpose and audit, key rotation, registration commands."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import call_command
from joserfc import jwt

from dancu.blocks.sso import keys
from dancu.blocks.sso.subjects import pairwise_sub

from .conftest import browser, id_token, run_flow, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_pairwise_sub_differs_per_sector_and_is_stable() -> None:
    a1, a2, b1 = (
        pairwise_sub("portal.example", 7),
        pairwise_sub("portal.example", 7),
        pairwise_sub("app.example", 7),
    )
    assert a1 == a2 and a1 != b1 and a1 != "7" and len(a1) == 43


def test_two_relying_parties_see_different_subjects(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    portal, app = register_rp(), register_rp("Ứng dụng công dân", host="app.example")
    b = browser(oidc, session_cookie(citizen_user))
    subs = [
        id_token(oidc, run_flow(oidc, c, b).token["id_token"]).claims["sub"] for c in (portal, app, portal)
    ]
    assert subs[0] != subs[1] and subs[0] == subs[2]


def test_consents_listed_and_revoked_with_tokens(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    from dancu.blocks.sso.services import consents_of, revoke_consent

    portal = register_rp()
    b = browser(oidc, session_cookie(citizen_user))
    flow = run_flow(oidc, portal, b, scope="openid profile")
    [c] = consents_of(citizen_user.pk)
    assert (
        c.relying_party == "Cổng dịch vụ công thành phố"
        and "birthdate" in c.claims
        and "Ngày sinh" in c.claim_labels_vi
    )
    assert revoke_consent(citizen_user.pk + 1, c.consent_id) is False  # not someone else's
    assert revoke_consent(citizen_user.pk, c.consent_id) is True
    assert consents_of(citizen_user.pk) == []
    assert flow.session.get(oidc + "/oidc/userinfo").status_code == 401
    r = requests.post(
        oidc + "/oidc/token",
        data={"grant_type": "refresh_token", "refresh_token": flow.token["refresh_token"]},
        auth=(portal.client_id, portal.client_secret),
        timeout=10,
    )
    assert r.status_code == 400
    # Consent is asked again.
    from .conftest import authorize_url

    assert b.get(authorize_url(oidc, portal), allow_redirects=False).status_code == 200


def test_first_party_skips_consent(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    from .conftest import authorize_url

    c = register_rp("Bảng điều khiển cán bộ", host="console.example", first_party=True)
    b = browser(oidc, session_cookie(citizen_user))
    r = b.get(authorize_url(oidc, c), allow_redirects=False)
    assert r.status_code == 302 and "code=" in r.headers["Location"]


def test_claims_are_released_by_purpose_and_audited(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    from dancu.blocks.audit.models import AuditEvent
    from dancu.blocks.audit.services import events_for_citizen

    c = register_rp(claims=["name", "birthdate"])  # registered for less than profile holds
    b = browser(oidc, session_cookie(citizen_user))
    flow = run_flow(oidc, c, b, scope="openid profile")
    info = flow.session.get(oidc + "/oidc/userinfo").json()
    assert set(info) == {"sub", "name", "birthdate"}
    ev = AuditEvent.objects.filter(action="sso.claims_release").get()
    assert ev.purpose == "sso.claims_release" and ev.detail == {"claims": ["name", "birthdate"]}
    assert ev.subject_citizen_id is not None
    mine = events_for_citizen(ev.subject_citizen_id)
    assert any(
        r.who == "Cổng dịch vụ công thành phố" and r.purpose_code == "sso.claims_release" for r in mine
    )


def test_key_rotation_keeps_old_tokens_verifiable(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    c = register_rp()
    b = browser(oidc, session_cookie(citizen_user))
    before = run_flow(oidc, c, b).token["id_token"]
    old_kid = id_token(oidc, before).header["kid"]
    out = StringIO()
    call_command("oidc_keys", "rotate", stdout=out)
    keys.clear_cache()
    after = run_flow(oidc, c, b).token["id_token"]
    assert id_token(oidc, after).header["kid"] != old_kid
    # Still verifies during the grace period (signature against the JWKS, and not expired).
    jwt.JWTClaimsRegistry(leeway=5, exp={"essential": True}).validate(id_token(oidc, before).claims)
    # After the grace period the old key is gone from the JWKS.
    from datetime import timedelta

    from django.utils import timezone

    from dancu.blocks.sso.models import SigningKey

    SigningKey.objects.filter(kid=old_kid).update(retire_at=timezone.now() - timedelta(seconds=1))
    keys.clear_cache()
    assert old_kid not in {k["kid"] for k in requests.get(oidc + "/oidc/jwks", timeout=10).json()["keys"]}


def test_private_keys_are_encrypted_at_rest(db: None) -> None:
    from dancu.blocks.sso.models import SigningKey

    keys.ensure_key()
    active = SigningKey.objects.filter(superseded_at__isnull=True)
    assert sorted(k.alg for k in active) == ["ES256", "RS256"]  # one active key of each kind
    assert all("ENCRYPTED PRIVATE KEY" in k.private_pem for k in active)


def test_client_secret_uses_the_fast_keyed_hash(db: None) -> None:
    from oauth2_provider.models import Application

    from dancu.blocks.sso.services import register_client

    reg = register_client(name_vi="X", redirect_uris=["https://x.example/cb"])
    stored = Application.objects.get(client_id=reg.client_id).client_secret
    assert stored.startswith("dancu_client_hmac_sha256$") and reg.client_secret not in stored
    assert len(reg.client_secret) >= 43  # 256 bits


def test_oidc_client_command(db: None) -> None:
    out = StringIO()
    call_command(
        "oidc_client",
        "create",
        "--name",
        "Cổng thử",
        "--redirect-uri",
        "https://t.example/cb",
        "--scopes",
        "openid profile",
        "--claims",
        "name",
        "--min-acr",
        "urn:dancu:acr:level2",
        stdout=out,
    )
    text = out.getvalue()
    client_id = text.split("client_id=")[1].split()[0]
    listing = StringIO()
    call_command("oidc_client", "list", stdout=listing)
    assert client_id in listing.getvalue() and "urn:dancu:acr:level2" in listing.getvalue()
    rotated = StringIO()
    call_command("oidc_client", "rotate-secret", client_id, stdout=rotated)
    assert "client_secret=" in rotated.getvalue()


def test_registration_refuses_unknown_scopes_and_fragments(db: None) -> None:
    from dancu.blocks.sso.services import register_client
    from dancu.errors import DomainValidationError

    with pytest.raises(DomainValidationError):
        register_client(name_vi="X", redirect_uris=["https://x.example/cb"], scopes=["openid", "admin"])
    with pytest.raises(DomainValidationError):
        register_client(name_vi="X", redirect_uris=["https://x.example/cb#f"])


def test_admin_pages_and_key_listing(admin_client: Any) -> None:
    from dancu.blocks.sso.services import register_client

    register_client(name_vi="Cổng thử", redirect_uris=["https://t.example/cb"])
    keys.ensure_key()
    for path in ("/admin/sso/relyingparty/", "/admin/sso/consent/", "/admin/sso/signingkey/"):
        assert admin_client.get(path).status_code == 200
    out = StringIO()
    call_command("oidc_keys", "list", stdout=out)
    assert "active" in out.getvalue() and "RS256" in out.getvalue() and "ES256" in out.getvalue()


def test_oidc_purge_drops_old_redeemed_codes_only(db: None) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from dancu.blocks.sso.models import RedeemedCode

    old = RedeemedCode.objects.create(digest="a" * 64, client_id="c")
    RedeemedCode.objects.filter(pk=old.pk).update(redeemed_at=timezone.now() - timedelta(days=31))
    recent = RedeemedCode.objects.create(digest="b" * 64, client_id="c")
    out = StringIO()
    call_command("oidc_purge", stdout=out)
    assert "1 redeemed-code digests purged" in out.getvalue()
    assert list(RedeemedCode.objects.values_list("pk", flat=True)) == [recent.pk]
