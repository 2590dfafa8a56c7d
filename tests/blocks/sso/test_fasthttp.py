"""The provider's machine-called endpoints ahead of Django (ADR 0009 §12, ``sso.fasthttp``).

Specification: for every request ``TokenRoutes`` answers itself — a client-credentials grant, a
refresh, a userinfo call — the status, body shape, headers, stored rows and audit events are
those of the Django path (``views.Token`` → ``fast.py``/DOT, ``UserInfoView`` → the validator);
every request it does not own reaches Django untouched, with nothing written, so every refusal
is DOT's. Actors: the one-stop office's machine client (client credentials); the city
public-service portal (a relying party of the code flow) holding Nguyễn Văn An's tokens; An
himself, whose page lists each release of his data.

PostgreSQL only for the answers (``fast.py``'s statements); on SQLite ``fasthttp.mount`` leaves
the application alone, which the last test checks on both databases.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.sso import fast, fasthttp
from tests import wsgi_support

from .conftest import CITIZEN_ID_NUMBER

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL-only statements (CI runs them on PostgreSQL)"
)
FORM = "application/x-www-form-urlencoded"
EID_RESOLVER = "dancu.blocks.sso.subjects.id_number_via_eid"


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    content: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.content)


def call(app: Any, method: str, path: str, body: bytes = b"", /, **extra: str) -> Answer:
    """One WSGI request as gunicorn makes it (a form body unless ``CONTENT_TYPE`` says otherwise)."""
    return Answer(*wsgi_support.run(app, wsgi_support.environ(method, path, body, FORM, **extra)))


class PassedOn:
    """Stands behind the fast layer: records what reached it (and the body it could read)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.bodies.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        start_response("299 Passed On", [("Content-Type", "text/plain")])
        return [b"django"]


@pytest.fixture
def fast_path(settings: Any) -> None:
    settings.DANCU_OIDC_TOKEN_FAST_PATH = True
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DANCU_OIDC_CITIZEN_RESOLVER = EID_RESOLVER  # the account block's link, as in production
    fast.clear_cache()


@pytest.fixture
def django_app() -> WSGIHandler:
    return WSGIHandler()


@pytest.fixture
def machine(db: None) -> Any:
    """The one-stop office's back end: a confidential machine client."""
    from dancu.blocks.sso.services import register_client

    return register_client(name_vi="Hệ thống một cửa", machine=True, scopes=["id_number"])


@dataclass
class Portal:
    client_id: str
    secret: str
    basic: str
    app_id: int


@pytest.fixture
def portal(db: None) -> Portal:
    """The city public-service portal: a relying party of the code flow."""
    from oauth2_provider.models import get_application_model

    from dancu.blocks.sso.services import register_client

    reg = register_client(
        name_vi="Cổng dịch vụ công thành phố",
        redirect_uris=["https://portal.example/callback"],
        scopes=["openid", "profile", "id_number", "email"],
        claims=["name", "birthdate", "gender", "id_number", "email"],
        sector_identifier="portal.example",
    )
    app = get_application_model().objects.get(client_id=reg.client_id)
    basic = "Basic " + base64.b64encode(f"{reg.client_id}:{reg.client_secret}".encode()).decode()
    return Portal(reg.client_id, reg.client_secret, basic, app.pk)


@pytest.fixture
def an_account(citizen_user: Any) -> Any:
    """An's active level-2 eID account, linked to his registry record."""
    from dancu.blocks.eid.models import Account
    from dancu.blocks.registry.models import Citizen

    citizen = Citizen.objects.get(id_number=CITIZEN_ID_NUMBER)
    Account.objects.create(
        user=citizen_user,
        id_number=CITIZEN_ID_NUMBER,
        citizen_id=citizen.pk,
        status=Account.Status.ACTIVE,
        level=2,
        phone="0912345678",
        email="an@example.vn",
    )
    return citizen_user


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue(portal: Portal, user: Any, scope: str = "openid profile", **fields: Any) -> tuple[str, str]:
    """An access token and its refresh token for ``user`` at the portal, stored as DOT stores them
    (hashed at rest, RFC 9700)."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    access, refresh = uuid.uuid4().hex, uuid.uuid4().hex
    values = {"expires": timezone.now() + timedelta(minutes=10), "scope": scope, **fields}
    at = get_access_token_model().objects.create(
        user=user, application_id=portal.app_id, token="", token_checksum=_sha(access), **values
    )
    get_refresh_token_model().objects.create(
        user=user,
        application_id=portal.app_id,
        token="",
        token_checksum=_sha(refresh),
        access_token=at,
        token_family=uuid.uuid4(),
    )
    return access, refresh


def _machine_basic(machine: Any) -> str:
    return "Basic " + base64.b64encode(f"{machine.client_id}:{machine.client_secret}".encode()).decode()


def _cc(app: Any, auth: str, **data: str) -> Answer:
    body = urlencode({"grant_type": "client_credentials", **data}).encode()
    return call(app, "POST", "/oidc/token", body, HTTP_AUTHORIZATION=auth)


def _without(headers: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k not in names]


# --------------------------------------------------------------------------- answered here
@pg_only
@pytest.mark.usefixtures("fast_path")
def test_client_credentials_are_answered_ahead_of_django_as_django_answers(
    machine: Any, django_app: WSGIHandler
) -> None:
    from oauth2_provider.models import get_access_token_model

    alone = fasthttp.TokenRoutes(PassedOn())
    fast_answer = _cc(alone, _machine_basic(machine), scope="id_number")
    assert fast_answer.status == 200, fast_answer.content
    reference = _cc(django_app, _machine_basic(machine), scope="id_number")
    assert reference.status == 200
    assert fast_answer.headers == reference.headers  # same names, values and order
    body, ref = fast_answer.json, reference.json
    assert set(body) == set(ref) == {"access_token", "expires_in", "token_type", "scope"}
    assert (body["scope"], body["token_type"], body["expires_in"]) == ("id_number", "Bearer", 600)
    stored = get_access_token_model().objects.get(token_checksum=_sha(body["access_token"]))
    assert stored.scope == "id_number" and stored.user_id is None and stored.token == ""


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_a_refresh_rotates_the_pair_ahead_of_django(portal: Portal, an_account: Any) -> None:
    from oauth2_provider.models import get_refresh_token_model

    _access, refresh = issue(portal, an_account)
    body = urlencode({"grant_type": "refresh_token", "refresh_token": refresh}).encode()
    r = call(fasthttp.TokenRoutes(PassedOn()), "POST", "/oidc/token", body, HTTP_AUTHORIZATION=portal.basic)
    assert r.status == 200, r.content
    assert set(r.json) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert r.json["scope"] == "openid profile"
    old = get_refresh_token_model().objects.get(token_checksum=_sha(refresh))
    assert old.revoked is not None  # rotated (RFC 9700 §4.14.2)
    assert get_refresh_token_model().objects.get(token_checksum=_sha(r.json["refresh_token"])).revoked is None
    # The same refresh token again: not answered here — DOT's reuse detection refuses it.
    again = call(
        fasthttp.TokenRoutes(WSGIHandler()), "POST", "/oidc/token", body, HTTP_AUTHORIZATION=portal.basic
    )
    assert again.status == 400 and again.json["error"] == "invalid_grant"


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_userinfo_releases_the_same_claims_and_records_the_same_events(
    portal: Portal, an_account: Any, django_app: WSGIHandler
) -> None:
    access, _ = issue(portal, an_account, scope="openid profile id_number email")
    before = AuditEvent.objects.count()
    reference = call(django_app, "GET", "/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert reference.status == 200, reference.content
    reference_events = list(
        AuditEvent.objects.order_by("id").values_list("action", "purpose", "subject_citizen_id", "detail")[
            before:
        ]
    )
    middle = AuditEvent.objects.count()
    answer = call(
        fasthttp.TokenRoutes(PassedOn()), "GET", "/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}"
    )
    assert answer.status == 200, answer.content
    assert answer.content == reference.content  # the same claims, in the same order, same bytes
    assert answer.headers == reference.headers
    assert answer.json["name"] == "Nguyễn Văn An" and answer.json["id_number"] == CITIZEN_ID_NUMBER
    assert answer.json["email"] == "an@example.vn" and answer.json["birthdate"] == "1985-03-02"
    events = list(
        AuditEvent.objects.order_by("id").values_list("action", "purpose", "subject_citizen_id", "detail")[
            middle:
        ]
    )
    assert events == reference_events and len(events) >= 2  # the registry read and the release


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_userinfo_for_an_account_without_a_citizen_gives_only_the_subject(
    portal: Portal, django_user_model: Any, django_app: WSGIHandler
) -> None:
    staff = django_user_model.objects.create_user(username="can.bo", password="x-very-long-password-1")
    access, _ = issue(portal, staff)
    answer = call(
        fasthttp.TokenRoutes(PassedOn()), "GET", "/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}"
    )
    reference = call(django_app, "GET", "/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert answer.status == reference.status == 200
    assert answer.content == reference.content and set(answer.json) == {"sub"}


# --------------------------------------------------------------------------- passed on, untouched
def _token_rows() -> int:
    from oauth2_provider.models import get_access_token_model

    return get_access_token_model().objects.count()


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_what_the_layer_does_not_answer_reaches_django_with_its_body_and_nothing_written(
    machine: Any, portal: Portal, an_account: Any
) -> None:
    basic = _machine_basic(machine)
    good = urlencode({"grant_type": "client_credentials"}).encode()
    cases: list[tuple[str, str, bytes, dict[str, str]]] = [
        ("wrong secret", "POST", urlencode({"grant_type": "client_credentials"}).encode(),
         {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{machine.client_id}:wrong".encode()).decode()}),
        ("code grant", "POST", urlencode({"grant_type": "authorization_code", "code": "x"}).encode(),
         {"HTTP_AUTHORIZATION": portal.basic}),
        ("scope beyond registration", "POST", b"grant_type=client_credentials&scope=email",
         {"HTTP_AUTHORIZATION": basic}),
        ("query string", "POST", good, {"HTTP_AUTHORIZATION": basic, "QUERY_STRING": "a=1"}),
        ("CORS", "POST", good, {"HTTP_AUTHORIZATION": basic, "HTTP_ORIGIN": "https://evil.example"}),
        ("JSON body", "POST", b'{"grant_type": "client_credentials"}',
         {"HTTP_AUTHORIZATION": basic, "CONTENT_TYPE": "application/json"}),
        ("duplicate grant", "POST", good + b"&grant_type=client_credentials", {"HTTP_AUTHORIZATION": basic}),
        ("too long", "POST", good + b"&x=" + b"a" * fasthttp.MAX_BODY, {"HTTP_AUTHORIZATION": basic}),
        ("host not allowed", "POST", good, {"HTTP_AUTHORIZATION": basic, "HTTP_HOST": "evil.example"}),
        ("GET token", "GET", b"", {"HTTP_AUTHORIZATION": basic}),
    ]  # fmt: skip
    rows = _token_rows()
    for name, method, body, extra in cases:
        behind = PassedOn()
        r = call(fasthttp.TokenRoutes(behind), method, "/oidc/token", body, **extra)
        assert r.status == 299, name
        assert behind.bodies == [body], name  # handed on whole
    assert _token_rows() == rows


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_userinfo_refusals_stay_dots(portal: Portal, an_account: Any, settings: Any) -> None:
    from oauth2_provider.models import get_access_token_model

    live, _ = issue(portal, an_account)
    expired, _ = issue(portal, an_account, expires=timezone.now() - timedelta(seconds=1))
    no_openid, _ = issue(portal, an_account, scope="profile")
    restricted, _ = issue(portal, an_account, resource=["https://api.example/"])
    revoked, _ = issue(portal, an_account)
    get_access_token_model().objects.filter(token_checksum=_sha(revoked)).delete()  # RFC 7009
    events = AuditEvent.objects.count()
    for name, auth, extra in [
        ("expired", f"Bearer {expired}", {}),
        ("no openid scope", f"Bearer {no_openid}", {}),
        ("audience-restricted (RFC 8707)", f"Bearer {restricted}", {}),
        ("revoked", f"Bearer {revoked}", {}),
        ("made up", "Bearer not-a-token", {}),
        ("lower-case scheme", f"bearer {live}", {}),
        ("token in the query", "", {"QUERY_STRING": f"access_token={live}"}),
        ("a body", f"Bearer {live}", {"CONTENT_LENGTH": "3"}),
    ]:
        r = call(fasthttp.TokenRoutes(PassedOn()), "GET", "/oidc/userinfo", HTTP_AUTHORIZATION=auth, **extra)
        assert r.status == 299, name
    settings.DANCU_OIDC_CITIZEN_RESOLVER = "tests.blocks.sso.conftest.resolve"  # another link: Django's
    r = call(fasthttp.TokenRoutes(PassedOn()), "GET", "/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {live}")
    assert r.status == 299
    assert AuditEvent.objects.count() == events  # nothing released, nothing recorded
    # Through the whole stack the refusals are DOT's (RFC 6750 §3.1).
    whole = fasthttp.TokenRoutes(WSGIHandler())
    r = call(whole, "GET", "/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {expired}")
    assert r.status == 401 and 'error="invalid_token"' in dict(r.headers)["WWW-Authenticate"]


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_a_wrong_secret_is_refused_by_dot_through_the_layer(machine: Any) -> None:
    whole = fasthttp.TokenRoutes(WSGIHandler())
    r = _cc(whole, "Basic " + base64.b64encode(f"{machine.client_id}:wrong".encode()).decode())
    assert r.status == 401 and r.json["error"] == "invalid_client"


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_an_unexpected_error_is_a_500_that_logs_no_secret(
    machine: Any, monkeypatch: Any, caplog: Any
) -> None:
    def broken(request: Any) -> Any:
        raise RuntimeError(f"boom {machine.client_secret}")

    monkeypatch.setattr(fast, "client_credentials", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        r = _cc(fasthttp.TokenRoutes(PassedOn()), _machine_basic(machine))
    assert r.status == 500 and r.json == {"error": "server_error"}
    assert "RuntimeError" in caplog.text and machine.client_secret not in caplog.text


def test_sqlite_or_a_disabled_switch_keeps_the_plain_application(settings: Any) -> None:
    behind = PassedOn()
    settings.DANCU_OIDC_TOKEN_FAST_PATH = False
    assert fasthttp.mount(behind) is behind
    settings.DANCU_OIDC_TOKEN_FAST_PATH = True
    mounted = fasthttp.mount(behind)
    if connection.vendor == "postgresql":
        assert isinstance(mounted, fasthttp.TokenRoutes)
    else:
        assert mounted is behind


# --------------------------------------------------------------------------- authorize, anonymous
# A visitor's browser with no session is sent to the log-in page (ADR 0009 §15). Actors: the
# portal (above); a visitor who is not logged in; Nguyễn Văn An, logged in, whose browser carries
# the session cookie.
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B


def _authorize_query(portal: Portal, **changes: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": portal.client_id,
        "redirect_uri": "https://portal.example/callback",
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "nonce-anonymous-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v is not None})


def _authorize(app: Any, query: str, **extra: str) -> Answer:
    return call(app, "GET", "/oidc/authorize", QUERY_STRING=query, **extra)


@pg_only
@pytest.mark.usefixtures("fast_path")
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_visitor_not_logged_in_is_sent_to_log_in_ahead_of_django_as_django_sends_them(
    portal: Portal, django_app: WSGIHandler, language: str
) -> None:
    from dancu.blocks.sso.models import UsedNonce

    query = _authorize_query(portal)
    fast_answer = _authorize(fasthttp.TokenRoutes(PassedOn()), query, HTTP_ACCEPT_LANGUAGE=language)
    reference = _authorize(django_app, query, HTTP_ACCEPT_LANGUAGE=language)
    assert fast_answer.status == reference.status == 302
    assert _without(fast_answer.headers, "Expires") == _without(reference.headers, "Expires")
    assert dict(fast_answer.headers)["Location"].startswith("/eid/login/?next=/oidc/authorize%3F")
    assert ("Content-Language", language) in fast_answer.headers
    assert (
        dict(fast_answer.headers)["Expires"][-3:] == "GMT" and fast_answer.content == reference.content == b""
    )
    assert not UsedNonce.objects.exists()  # the nonce is taken when the code is issued, not here


@pg_only
@pytest.mark.usefixtures("fast_path")
@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uri": "https://portal.example/callback/extra"},  # not registered exactly
        {"redirect_uri": "https://PORTAL.example/callback"},
        {"redirect_uri": None},
        {"code_challenge_method": "plain"},  # RFC 7636 plain: refused by the view
        {"code_challenge": "short"},
        {"code_challenge": None},
        {"nonce": None},
        {"scope": "openid profile phone"},  # beyond the registration
        {"scope": "profile"},  # not OpenID Connect
        {"response_type": "token"},
        {"client_id": "unknown-client"},
        {"prompt": "none"},  # login_required goes back to the portal
        {"acr_values": "urn:dancu:acr:level2"},
        {"max_age": "0"},
        {"resource": "https://api.example/"},
        {"state": ""},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_any_other_authorisation_request_of_a_visitor_is_djangos(
    portal: Portal, changes: dict[str, Any]
) -> None:
    behind = PassedOn()
    r = _authorize(fasthttp.TokenRoutes(behind), _authorize_query(portal, **changes))
    assert r.status == 299 and len(behind.bodies) == 1


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_a_duplicated_parameter_an_odd_encoding_or_a_used_nonce_is_djangos(portal: Portal) -> None:
    from dancu.blocks.sso.validator import take_nonce

    behind = PassedOn()
    routes = fasthttp.TokenRoutes(behind)
    plain = _authorize_query(portal)
    for query in (
        plain + "&state=st-2",  # oauthlib refuses duplicated parameters
        plain + "&x=%zz",
        plain.replace("st-1", "st%201!"),  # a character oauthlib's decoder does not take
        plain + ";",
    ):
        assert _authorize(routes, query).status == 299, query
    assert take_nonce(portal.client_id, "nonce-anonymous-1")
    assert _authorize(routes, plain).status == 299  # Django sends "nonce already used" to the portal
    assert len(behind.bodies) == 5


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_a_browser_with_a_session_cookie_is_djangos(portal: Portal, settings: Any) -> None:
    behind = PassedOn()
    routes = fasthttp.TokenRoutes(behind)
    cookie = f"{settings.SESSION_COOKIE_NAME}=abc123"
    assert _authorize(routes, _authorize_query(portal), HTTP_COOKIE=cookie).status == 299
    settings.DANCU_OIDC_TOKEN_FAST_PATH = False
    assert _authorize(routes, _authorize_query(portal)).status == 299
    assert len(behind.bodies) == 2


@pg_only
@pytest.mark.usefixtures("fast_path")
def test_the_refusals_of_django_reach_the_visitor_through_the_layer(portal: Portal) -> None:
    whole = fasthttp.TokenRoutes(WSGIHandler())
    r = _authorize(whole, _authorize_query(portal, redirect_uri="https://evil.example/callback"))
    assert r.status == 400 and b"redirect" in r.content.lower()  # an error page, never a redirect off-site
    r = _authorize(whole, _authorize_query(portal, code_challenge_method="plain"))
    location = dict(r.headers)["Location"]
    assert r.status == 302 and location.startswith("https://portal.example/callback?error=invalid_request")
