"""OpenID Connect provider fixtures: a citizen with an account, relying parties, a log-in session
with a recorded assurance, and an authlib client driving the provider over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from dancu.blocks.eid import assurance

# The account → citizen links of the tests (the account block links them in production).
LINKS: dict[int, str] = {}
CITIZEN_ID_NUMBER = "001085012345"
PASSWORD = "correct-horse-battery-9"


def resolve(user_id: int) -> str | None:
    return LINKS.get(user_id)


@pytest.fixture(autouse=True)
def _sso_settings(settings: Any) -> None:
    from dancu.blocks.sso import keys

    settings.DANCU_OIDC_CITIZEN_RESOLVER = "tests.blocks.sso.conftest.resolve"
    keys.clear_cache()


@pytest.fixture
def citizen_user(adminunits_ready: None, django_user_model: Any, system_ctx: Callable[[str], Any]) -> Any:
    """Nguyễn Văn An (born 02/03/1985, Tây Hồ) with an account linked to his record."""
    from dancu.blocks.registry.services import NewCitizen, register_citizen

    register_citizen(
        system_ctx("registry.administration"),
        NewCitizen(
            id_number=CITIZEN_ID_NUMBER,
            full_name="Nguyễn Văn An",
            date_of_birth=date(1985, 3, 2),
            sex="M",
            permanent_address_text="Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội",
        ),
        reason="Đăng ký thử nghiệm",
        legal_basis="Luật Cư trú 2020 Điều 20",
    )
    user = django_user_model.objects.create_user(
        username="an.nguyen", password=PASSWORD, email="an@example.vn"
    )
    LINKS[user.pk] = CITIZEN_ID_NUMBER
    return user


def session_cookie(
    user: Any,
    *,
    level: int = 2,
    amr: tuple[str, ...] = ("pwd",),
    auth_time: int | None = None,
    evidence: str = assurance.EVIDENCE_CHIP,
) -> str:
    """A logged-in session for ``user`` with the assurance the account block would store
    (``evidence``: the account's evidence class, ADR 0017 §11 — a citizen's chip card by default)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    assurance.store(
        store,
        assurance.Assurance(
            user.pk, level, amr, auth_time if auth_time is not None else assurance.now(), evidence
        ),
    )
    store.save()
    return str(store.session_key)


def set_assurance(
    session_key: str,
    user: Any,
    *,
    level: int,
    amr: tuple[str, ...],
    auth_time: int | None = None,
    evidence: str = assurance.EVIDENCE_CHIP,
) -> None:
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    assurance.store(store, assurance.Assurance(user.pk, level, amr, auth_time or assurance.now(), evidence))
    store.save()


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str
    logout_uri: str


@pytest.fixture
def oidc(live_server: Any, settings: Any) -> str:
    """The provider at the live server; the issuer is its root."""
    settings.DANCU_OIDC_ISSUER = live_server.url
    settings.DANCU_SSO_DEMO_PROVIDER_URL = live_server.url
    # The live server speaks plain HTTP: cookies must not be Secure-only for the client to send them.
    settings.CSRF_COOKIE_SECURE = False
    settings.SESSION_COOKIE_SECURE = False
    return str(live_server.url)


@pytest.fixture
def register_rp(transactional_db: None) -> Callable[..., Client]:
    from dancu.blocks.sso.services import register_client

    def make(name: str = "Cổng dịch vụ công thành phố", *, host: str = "portal.example", **kw: Any) -> Client:
        redirect = kw.pop("redirect_uri", f"https://{host}/callback")
        logout = kw.pop("logout_uri", f"https://{host}/bye")
        kw.setdefault("scopes", ["openid", "profile", "id_number", "email"])
        kw.setdefault("claims", ["name", "birthdate", "gender", "id_number", "email"])
        reg = register_client(
            name_vi=name,
            redirect_uris=[redirect],
            post_logout_redirect_uris=[logout],
            sector_identifier=host,
            **kw,
        )
        return Client(reg.client_id, reg.client_secret, redirect, logout)

    return make


def browser(oidc: str, cookie: str | None) -> requests.Session:
    s = requests.Session()
    if cookie:
        from django.conf import settings

        s.cookies.set(settings.SESSION_COOKIE_NAME, cookie)
    return s


def consent(b: requests.Session, page: requests.Response, allow: bool = True) -> requests.Response:
    """Submit the consent form of ``page`` as the browser would (CSRF token included)."""
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    pending = re.search(r'name="pending" value="([^"]+)"', page.text)
    assert csrf and pending, page.text[:500]
    return b.post(
        page.url,
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "pending": pending.group(1),
            "allow": "yes" if allow else "no",
        },
        headers={"Referer": page.url},
        allow_redirects=False,
    )


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def pkce_pair() -> tuple[str, str]:
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    verifier = generate_token(48)
    return verifier, create_s256_code_challenge(verifier)


def authorize_url(oidc: str, c: Client, **params: Any) -> str:
    """An authorisation request; ``params`` override (None drops a parameter)."""
    from urllib.parse import urlencode

    from authlib.common.security import generate_token

    _verifier, challenge = pkce_pair()
    values: dict[str, Any] = {
        "response_type": "code",
        "client_id": c.client_id,
        "redirect_uri": c.redirect_uri,
        "scope": "openid profile",
        "state": generate_token(10),
        "nonce": generate_token(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    values.update(params)
    return oidc + "/oidc/authorize?" + urlencode({k: v for k, v in values.items() if v is not None})


@dataclass
class Flow:
    session: Any  # the authlib OAuth2Session
    token: dict[str, Any]
    verifier: str
    nonce: str
    code: str


def run_flow(oidc: str, c: Client, b: requests.Session, scope: str = "openid profile", **extra: Any) -> Flow:
    """A complete code + PKCE flow with authlib's client (consenting if asked)."""
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    rp = OAuth2Session(
        c.client_id, c.client_secret, scope=scope, redirect_uri=c.redirect_uri, code_challenge_method="S256"
    )
    verifier, nonce = generate_token(48), generate_token(20)
    url, _state = rp.create_authorization_url(
        oidc + "/oidc/authorize", code_verifier=verifier, nonce=nonce, **extra
    )
    r = b.get(url, allow_redirects=False)
    if r.status_code == 200:
        r = consent(b, r)
    assert r.status_code == 302 and "code=" in r.headers["Location"], (
        r.status_code,
        r.headers.get("Location"),
    )
    location = r.headers["Location"]
    token = rp.fetch_token(oidc + "/oidc/token", authorization_response=location, code_verifier=verifier)
    return Flow(rp, token, verifier, nonce, query(location)["code"])


def jwks_of(oidc: str) -> Any:
    """The provider's published keys, as a relying party loads them (joserfc)."""
    from joserfc.jwk import KeySet

    return KeySet.import_key_set(requests.get(oidc + "/oidc/jwks", timeout=10).json())


def id_token(oidc: str, value: str) -> Any:
    """An ID token verified against the JWKS, RS256 only (joserfc's ``Token``: header, claims)."""
    from joserfc import jwt

    return jwt.decode(value, jwks_of(oidc), algorithms=["RS256"])
