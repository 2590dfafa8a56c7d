"""The verification hot route (ADR 0014): ``identity.fasthttp.FastRoutes`` ahead of Django, and the
one-statement verification ``identity.pg_verify`` behind it.

Specification: for every request it answers itself, the fast route gives the same status, body,
headers, receipt and audit events as the Django/ORM reference path (``api.py`` →
``services.verify``); every request it does not own reaches Django untouched; the refusals (bad,
revoked key; rate limit; invalid QR; no purpose) still happen. Actors: the information system of
Bệnh viện Bạch Mai (a clinic's API key); a second hospital whose key is revoked mid-stream; the
city police unit that owns an alert-list entry.

PostgreSQL only: the statement is PostgreSQL SQL (data-modifying CTEs, ``ON CONFLICT``); on SQLite
``fasthttp.mount`` leaves the Django application alone, which the last test checks.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity import fasthttp
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.organisations import keycache
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import issue_api_key, revoke_api_key
from dancu.blocks.registry.models import Citizen, IdentityCard
from tests import wsgi_support
from tests.blocks.identity.conftest import AN_ID, AN_QR, TAY_HO_ADDRESS

PURPOSE = "identity.verification"
VERIFY, PING = fasthttp.VERIFY, fasthttp.PING
pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL-only statement (CI runs it on PostgreSQL)"
)
pytestmark = [pytest.mark.usefixtures("trusted", "fresh_rate_limits", "forget_keys")]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.content)


@pytest.fixture
def forget_keys() -> Iterator[None]:
    keycache.clear()
    yield
    keycache.clear()


def call(app: Any, path: str, payload: Any = None, token: str | None = "", **extra: str) -> Answer:
    """One WSGI request, as gunicorn makes it. The test's database connection stays open (as
    Django's test client does it: no connection recycling inside a test transaction)."""
    data = (
        b"" if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    env = wsgi_support.environ("POST", path, data, "application/json", **{**headers, **extra})
    env.setdefault("CONTENT_LENGTH", "0")
    env.setdefault("CONTENT_TYPE", "application/json")
    status, answer_headers, content = wsgi_support.run(app, env)
    return Answer(status, dict(answer_headers), content)


def _django_must_not_answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    raise AssertionError("the fast route passed the request on to Django")


@pytest.fixture
def django_app() -> WSGIHandler:
    return WSGIHandler()


@pytest.fixture
def fast_only() -> fasthttp.FastRoutes:
    """The fast route with nothing behind it: a request it passes on fails the test."""
    return fasthttp.FastRoutes(_django_must_not_answer)


@pytest.fixture
def fast(django_app: WSGIHandler) -> fasthttp.FastRoutes:
    return fasthttp.FastRoutes(django_app)


@pytest.fixture
def hospital(db: None) -> Organisation:
    return Organisation.objects.create(code="BV-BACHMAI", name="Bệnh viện Bạch Mai", kind="clinic")


@pytest.fixture
def token(hospital: Organisation) -> str:
    return issue_api_key(hospital, "HIS Bạch Mai").token


def body(request_id: str, text: str = AN_QR, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "request_id": request_id,
        "purpose": PURPOSE,
        "mode": "yes_no",
        "evidence": {"kind": "qr", "text": text},
    }
    values.update(changes)
    return values


def without_receipt(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in ("receipt_id", "verified_at")}


_RECORD_VARIES = {"id", "receipt_id", "created_at", "request_id", "response"}


def record_of(receipt_id: str) -> dict[str, Any]:
    values = VerificationRecord.objects.filter(receipt_id=receipt_id).values().get()
    return {k: v for k, v in values.items() if k not in _RECORD_VARIES}


def events_of(receipt_id: str) -> list[dict[str, Any]]:
    """The events of one verification (its ``identity.verify`` and any ``alerts.hit``), without
    ids, times and the receipt/hit numbers that differ between two calls."""
    out = []
    for e in AuditEvent.objects.filter(detail__receipt=receipt_id).order_by("action").values():
        detail = {k: v for k, v in e["detail"].items() if k not in ("receipt", "hit")}
        out.append(
            {**{k: v for k, v in e.items() if k not in ("id", "occurred_at", "detail")}, "detail": detail}
        )
    return out


def hits_of(receipt_id: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in h.items() if k not in ("id", "receipt_id", "occurred_at")}
        for h in AlertHit.objects.filter(receipt_id=receipt_id).values()
    ]


def assert_same_verification(fast: Answer, reference: Answer) -> None:
    """Same status, answer (but the receipt's id and time), headers (but the length), receipt
    row, audit events and alert hits."""
    assert (fast.status, reference.status) == (200, 200), (fast.content, reference.content)
    assert without_receipt(fast.json) == without_receipt(reference.json)
    drop = ("Content-Length",)
    assert {k: v for k, v in fast.headers.items() if k not in drop} == {
        k: v for k, v in reference.headers.items() if k not in drop
    }
    mine, theirs = fast.json["receipt_id"], reference.json["receipt_id"]
    assert record_of(mine) == record_of(theirs)
    assert events_of(mine) == events_of(theirs)
    assert hits_of(mine) == hits_of(theirs)


# --------------------------------------------------------------------------- same answers
@pg_only
def test_an_exact_match_is_decided_by_the_statement_like_the_orm_path(
    fast_only: fasthttp.FastRoutes, django_app: WSGIHandler, token: str, residents: dict[str, Any]
) -> None:
    mine = call(fast_only, VERIFY, body("his-1"), token)
    reference = call(django_app, VERIFY, body("his-2"), token)
    assert mine.json["decision"] == "match" and mine.json["name_score"] == 1.0
    assert_same_verification(mine, reference)
    event = AuditEvent.objects.get(detail__receipt=mine.json["receipt_id"])
    assert event.subject_citizen_id == residents["an"].citizen_id  # the citizen sees it
    assert event.detail["receipt"] == mine.json["receipt_id"]


@pg_only
def test_a_person_on_the_alert_list_gets_the_same_answer_and_the_police_the_same_hit(
    fast_only: fasthttp.FastRoutes, django_app: WSGIHandler, token: str, residents: dict[str, Any]
) -> None:
    AlertEntry.objects.create(
        subject_citizen_id=residents["an"].citizen_id,
        subject_id_number=AN_ID,
        kind="wanted",
        issuing_organisation_id=99,
        issuing_organisation_name="Công an thành phố Hà Nội",
        reference="QĐ-123/2026",
        legal_basis="Bộ luật Tố tụng hình sự 2015 Điều 231",
        created_by="police.officer",
        valid_from=timezone.now() - timedelta(days=1),
    )
    mine = call(fast_only, VERIFY, body("his-alert-1"), token)
    reference = call(django_app, VERIFY, body("his-alert-2"), token)
    assert_same_verification(mine, reference)
    assert len(hits_of(mine.json["receipt_id"])) == 1
    hit_event = AuditEvent.objects.get(action="alerts.hit", detail__receipt=mine.json["receipt_id"])
    assert hit_event.organisation_id == 99 and hit_event.purpose == "security.alert_screening"
    assert hit_event.detail["hit"] == AlertHit.objects.get(receipt_id=mine.json["receipt_id"]).pk


def _not_exact(residents: dict[str, Any]) -> list[tuple[str, Callable[[], None], str]]:
    """Cases the statement leaves to the reference path: (name, change to the registry, QR)."""
    an = residents["an"].citizen_id

    def nothing() -> None:
        return None

    def deceased() -> None:
        Citizen.objects.filter(pk=an).update(life_status="deceased", date_of_death=date(2025, 1, 1))

    def lost() -> None:
        IdentityCard.objects.filter(citizen_id=an).update(status="lost")

    def expired() -> None:
        IdentityCard.objects.filter(citizen_id=an).update(expires_on=date(2024, 1, 1))

    def newer_card() -> None:
        IdentityCard.objects.create(
            citizen_id=an, kind="can_cuoc", card_number=AN_ID, issued_on=date(2025, 2, 1), expires_on=None
        )

    other_name = AN_QR.replace("Nguyễn Văn An", "Nguyễn Văn Anh")
    unknown = AN_QR.replace(AN_ID, "001085099999")
    return [
        ("name", nothing, other_name),
        ("unknown number", nothing, unknown),
        ("invalid QR", nothing, AN_QR.replace("02031985", "31021985")),
        ("not a QR", nothing, "hello"),
        ("other card date", nothing, AN_QR.replace("|01042021", "|01042022")),
        ("address of another style", nothing, AN_QR.replace(TAY_HO_ADDRESS, TAY_HO_ADDRESS.upper())),
        # The registry changes below accumulate: each case keeps the earlier ones.
        ("lost", lost, AN_QR),
        ("expired", expired, AN_QR),
        ("replaced", newer_card, AN_QR),
        ("deceased", deceased, AN_QR),
    ]


@pg_only
def test_every_other_case_is_decided_by_the_reference_path_with_the_same_records(
    fast_only: fasthttp.FastRoutes, django_app: WSGIHandler, token: str, residents: dict[str, Any]
) -> None:
    decisions = {}
    for i, (name, change, text) in enumerate(_not_exact(residents)):
        change()
        mine = call(fast_only, VERIFY, body(f"case-{i}-fast", text), token)
        reference = call(django_app, VERIFY, body(f"case-{i}-orm", text), token)
        assert_same_verification(mine, reference)
        decisions[name] = mine.json["decision"]
    assert decisions["name"] == "no_match"
    assert decisions["unknown number"] == "no_match"
    assert decisions["invalid QR"] == decisions["not a QR"] == "invalid_evidence"
    assert decisions["other card date"] == "card_not_valid"
    assert decisions["deceased"] == "deceased"
    assert decisions["lost"] == decisions["expired"] == decisions["replaced"] == "card_not_valid"


# --------------------------------------------------------------------------- idempotency
@pg_only
def test_a_retry_gets_the_same_receipt_and_a_changed_body_a_conflict(
    fast_only: fasthttp.FastRoutes, django_app: WSGIHandler, token: str, residents: dict[str, Any]
) -> None:
    first = call(fast_only, VERIFY, body("his-retry"), token)
    again = call(fast_only, VERIFY, body("his-retry"), token)
    assert again.json == {**first.json, "replayed": True}
    assert (
        AuditEvent.objects.filter(action="identity.verify", detail__receipt=first.json["receipt_id"]).count()
        == 1
    )
    assert VerificationRecord.objects.filter(request_id="his-retry").count() == 1

    other = AN_QR.replace("Nguyễn Văn An", "Nguyễn Văn Anh")
    conflict = call(fast_only, VERIFY, body("his-retry", other), token)
    reference = call(django_app, VERIFY, body("his-retry", other), token)
    assert conflict.status == reference.status == 409
    assert conflict.content == reference.content
    assert conflict.json["detail"][0]["rule"] == "idempotency_conflict"


@pg_only
def test_a_receipt_older_than_the_window_frees_its_request_id(
    fast_only: fasthttp.FastRoutes, token: str, residents: dict[str, Any]
) -> None:
    first = call(fast_only, VERIFY, body("his-old"), token)
    VerificationRecord.objects.filter(receipt_id=first.json["receipt_id"]).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    later = call(fast_only, VERIFY, body("his-old"), token)
    assert later.status == 200 and later.json["replayed"] is False
    assert later.json["receipt_id"] != first.json["receipt_id"]


# --------------------------------------------------------------------------- refusals
@pg_only
def test_a_bad_key_is_refused_like_django_refuses_it(
    fast_only: fasthttp.FastRoutes, django_app: WSGIHandler, token: str, residents: dict[str, Any]
) -> None:
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for path in (VERIFY, PING):
        mine = call(fast_only, path, body("his-bad") if path == VERIFY else None, forged)
        reference = call(django_app, path, body("his-bad") if path == VERIFY else None, forged)
        assert mine.status == reference.status == 401
        assert mine.content == reference.content
        assert mine.headers == reference.headers
    assert not VerificationRecord.objects.exists()


def test_a_body_nested_past_the_limit_is_a_400_naming_the_body_after_the_key_check(
    fast_only: fasthttp.FastRoutes, django_app: WSGIHandler, token: str, residents: dict[str, Any]
) -> None:
    """The hospital's system sends ``[[[[…`` 50,000 deep (security review): the decoder's
    recursion limit used to escape as a 500. The key is checked first (a forged key: 401)."""
    deep = b"[" * 50_000  # under the fast route's 64 KiB, past the decoder's recursion limit
    answer = call(fast_only, VERIFY, deep, token)
    assert answer.status == 400
    assert [(p["field"], p["rule"]) for p in answer.json["detail"]] == [("body", "depth")]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert call(fast_only, VERIFY, deep, forged).status == 401
    assert call(django_app, VERIFY, deep, token).status == 400  # the reference path: ninja's 400
    assert not VerificationRecord.objects.exists()


@pg_only
def test_a_revoked_key_is_refused_at_once_by_the_verification(
    fast_only: fasthttp.FastRoutes, token: str, residents: dict[str, Any]
) -> None:
    assert call(fast_only, VERIFY, body("his-r1"), token).status == 200  # the key is now remembered
    assert revoke_api_key(token.split("_")[1])
    refused = call(fast_only, VERIFY, body("his-r2"), token)
    assert refused.status == 401
    assert refused.json["detail"][0]["rule"] == "revoked"
    assert not VerificationRecord.objects.filter(request_id="his-r2").exists()
    # … and the process has forgotten the key: the empty endpoint refuses it too.
    assert call(fast_only, PING, None, token).json["detail"][0]["rule"] == "revoked"


@pg_only
def test_the_empty_endpoint_honours_a_revocation_within_the_cache_lifetime(
    fast_only: fasthttp.FastRoutes, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(keycache.time, "monotonic", lambda: clock[0])
    assert call(fast_only, PING, None, token).json == {"ok": True}
    revoke_api_key(token.split("_")[1])
    clock[0] += keycache.TTL_SECONDS + 0.01
    refused = call(fast_only, PING, None, token)
    assert refused.status == 401 and refused.json["detail"][0]["rule"] == "revoked"


@pg_only
def test_the_rate_limit_refuses_like_the_ninja_throttle(
    fast_only: fasthttp.FastRoutes,
    django_app: WSGIHandler,
    hospital: Organisation,
    residents: dict[str, Any],
    settings: Any,
) -> None:
    settings.DANCU_API_BURST = 2
    settings.DANCU_API_RATE_PER_MINUTE = 1
    mine, theirs = issue_api_key(hospital, "fast").token, issue_api_key(hospital, "django").token
    for i in range(2):
        assert call(fast_only, VERIFY, body(f"rl-f{i}"), mine).status == 200
        assert call(django_app, VERIFY, body(f"rl-d{i}"), theirs).status == 200
    refused = call(fast_only, VERIFY, body("rl-f3"), mine)
    reference = call(django_app, VERIFY, body("rl-d3"), theirs)
    assert refused.status == reference.status == 429
    assert refused.content == reference.content
    assert refused.headers == reference.headers
    assert refused.headers["Retry-After"] == "60"
    assert call(fast_only, PING, None, mine).status == 429  # one bucket for the key


@pg_only
def test_the_ping_answer_and_headers_are_djangos(
    fast_only: fasthttp.FastRoutes, django_app: WSGIHandler, token: str
) -> None:
    for language in ("vi", "en-GB,en;q=0.8", ""):
        mine = call(fast_only, PING, None, token, HTTP_ACCEPT_LANGUAGE=language)
        reference = call(django_app, PING, None, token, HTTP_ACCEPT_LANGUAGE=language)
        assert (mine.status, mine.content, mine.headers) == (
            reference.status,
            reference.content,
            reference.headers,
        )
    assert mine.headers["X-Frame-Options"] == "DENY"
    assert mine.headers["X-Content-Type-Options"] == "nosniff"
    # A POST without a body may come without Content-Length (wrk sends none): still the fast route.
    assert call(fast_only, PING, None, token, CONTENT_LENGTH="").json == {"ok": True}


# --------------------------------------------------------------------------- passed on to Django
@pg_only
def test_requests_the_fast_route_does_not_own_reach_django_untouched(
    fast: fasthttp.FastRoutes, fast_only: fasthttp.FastRoutes, token: str, residents: dict[str, Any]
) -> None:
    passed_on = [
        ("no purpose", VERIFY, body("p-1", purpose=""), token, {}),
        ("data mode", VERIFY, body("p-2", mode="data"), token, {}),
        ("typed evidence", VERIFY, body("p-3", evidence={"kind": "mrz", "text": "x"}), token, {}),
        ("not JSON", VERIFY, b"{not json", token, {}),
        ("no key", VERIFY, body("p-4"), None, {}),
        ("host not allowed", PING, None, token, {"HTTP_HOST": "evil.example"}),
    ]
    for name, path, payload, key, extra in passed_on:
        with pytest.raises(AssertionError, match="passed the request on"):
            call(fast_only, path, payload, key, **extra)
        answer = call(fast, path, payload, key, **extra)  # … and Django answers it
        assert answer.status in (200, 400, 401, 403, 422), (name, answer.content)
    no_purpose = call(fast, VERIFY, body("p-5", purpose=""), token)
    assert no_purpose.json["detail"][0]["field"] == "purpose"
    refusal = AuditEvent.objects.filter(action="identity.verify", result="invalid").last()
    assert refusal is not None and refusal.detail["reason"] == "no_purpose"  # recorded


# ------------------------------------------------------------------ the body, checked without pydantic
_PLAIN = {
    "request_id": "his-bachmai-2026-000123",
    "purpose": PURPOSE,
    "mode": "yes_no",
    "case_reference": "HS-KB-2026-0042",
    "evidence": {"kind": "qr", "text": AN_QR},
}
_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.sampled_from(
        ["", "x" * 65, "x" * 101, "a\n", "bad id", "data", "mrz", PURPOSE, "yes_no", "qr", "\x00"]
    ),
    st.just({}),
    st.just([]),
)


@st.composite
def _bodies(draw: st.DrawFn) -> Any:
    """The plain body of a hospital's yes/no QR request, with a few keys dropped, added or given
    odd values (at the top level or in the evidence)."""
    data = json.loads(json.dumps(_PLAIN))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["top", "evidence"]))
        target = data if where == "top" or not isinstance(data.get("evidence"), dict) else data["evidence"]
        key = draw(st.sampled_from([*_PLAIN, "kind", "text", "extra"]))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(_ODD_VALUES)
    return data


@hypothesis_settings(max_examples=500, deadline=None)
@given(_bodies())
def test_a_body_taken_on_the_quick_check_is_one_the_schema_accepts_with_the_same_values(data: Any) -> None:
    """``fasthttp._plain_body`` checks the common body without pydantic: whatever it takes,
    ``VerifyIn`` (django-ninja's schema) accepts with the same values; the rest goes to
    ``VerifyIn`` as before."""
    from pydantic import ValidationError

    from dancu.blocks.identity.api import QrEvidenceIn, VerifyIn

    plain = fasthttp._plain_body(data)
    if plain is None:
        return
    try:
        schema = VerifyIn.model_validate(data)
    except ValidationError as exc:
        raise AssertionError(f"taken by the quick check but refused by VerifyIn: {exc}") from None
    assert isinstance(schema.evidence, QrEvidenceIn) and schema.mode == "yes_no"
    assert plain == (schema.request_id, schema.purpose, schema.case_reference, schema.evidence.text)


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"request_id": "his-1\n"},
        {"request_id": "x" * 65},
        {"case_reference": "HS\x07"},
        {"mode": "data"},
        {"purpose": ""},
        {"evidence": {"kind": "qr", "text": ""}},
        {"evidence": {"kind": "qr", "text": AN_QR, "extra": 1}},
        {"evidence": {"kind": "mrz", "text": "x"}},
    ],
)
def test_a_body_off_the_plain_shape_is_left_to_the_schema(change: dict[str, Any]) -> None:
    assert fasthttp._plain_body({**_PLAIN, **change}) is None


def test_the_plain_body_without_its_optional_keys_is_taken() -> None:
    minimal = {k: v for k, v in _PLAIN.items() if k not in ("mode", "case_reference")}
    assert fasthttp._plain_body(minimal) == (_PLAIN["request_id"], PURPOSE, "", AN_QR)


def test_the_statement_leaves_psycopg_no_placeholders_to_parse() -> None:
    """psycopg re-parses ``%(name)s`` placeholders of a query longer than 4 KiB on every call
    (~0.2 ms): the statement takes PostgreSQL's own ``$n`` parameters (a ``RawCursor``), so
    nothing is parsed on the client whatever its length."""
    import re

    from dancu.blocks.identity import pg_verify

    sql = pg_verify._sql()
    assert "%(" not in sql and "%s" not in sql
    assert set(re.findall(r"\$[0-9]+", sql)) == {"$1", "$2"}  # the items, the commit mode


# ------------------------------------------------------------------ the answer, from a template
_ANSWER_STRINGS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "identity.verification", 'q"uote\\', "\u2028\x00\x1f", "Nguyễn Văn An", "\ud800"]),
)


@st.composite
def _plain_results(draw: st.DrawFn) -> Any:
    from datetime import UTC
    from datetime import timezone as tz

    from dancu.blocks.identity import services

    zone = draw(st.sampled_from([UTC, tz(timedelta(hours=7)), tz(timedelta(hours=-3, minutes=-30)), None]))
    moment = draw(st.datetimes(timezones=st.just(zone) if zone else st.none()))
    score = draw(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(0, 1)))
    return services.VerificationResult(
        draw(_ANSWER_STRINGS),
        moment,
        draw(_ANSWER_STRINGS),
        draw(_ANSWER_STRINGS),
        draw(_ANSWER_STRINGS),
        draw(_ANSWER_STRINGS),
        (),
        score,
        draw(st.sampled_from([None, None, dict[str, object](full_name="x")])),
        draw(st.booleans()),
    )


@hypothesis_settings(max_examples=1000, deadline=None)
@given(_plain_results())
def test_the_answer_template_writes_the_bytes_django_ninja_writes(result: Any) -> None:
    """``fasthttp._plain_out`` writes an answer without reasons or data from a template: the bytes
    are exactly ``json.dumps(_out(result), cls=NinjaJSONEncoder)`` (keys, order, escaping of any
    string, the datetime and float forms); anything the template does not cover (data, a NaN, an
    int score) is left to the encoder."""
    from ninja.responses import NinjaJSONEncoder

    plain = fasthttp._plain_out(result)
    reference = json.dumps(
        {
            "receipt_id": result.receipt_id,
            "verified_at": result.verified_at,
            "purpose": result.purpose,
            "mode": result.mode,
            "evidence_kind": result.evidence_kind,
            "decision": result.decision,
            "reasons": [],
            "name_score": result.name_score,
            "data": result.data,
            "replayed": result.replayed,
        },
        cls=NinjaJSONEncoder,
    ).encode()
    if result.data is not None or not (result.name_score is None or type(result.name_score) is float):
        assert plain is None
    elif plain is None:
        score = result.name_score  # a NaN or an infinity: json's own spelling, left to it
        assert score is not None and (score != score or abs(score) == float("inf"))
    else:
        assert plain == reference
        _, _, content = fasthttp._respond(_a_request(), 200, plain, [])
        assert content == reference


def _a_request() -> Any:
    from django.core.handlers.wsgi import WSGIRequest

    return WSGIRequest({"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(), "SERVER_NAME": "127.0.0.1"})


def test_the_security_headers_follow_a_change_of_settings(settings: Any) -> None:
    """The settings' headers are built once, and again after a setting changes (tests, reloads)."""
    before = dict(fasthttp._middleware_headers(_a_request(), 2))
    settings.SECURE_REFERRER_POLICY = "no-referrer"
    settings.X_FRAME_OPTIONS = "sameorigin"
    after = dict(fasthttp._middleware_headers(_a_request(), 2))
    assert after["Referrer-Policy"] == "no-referrer" and after["X-Frame-Options"] == "SAMEORIGIN"
    assert before["X-Frame-Options"] == "DENY" and before["Content-Length"] == "2"


def test_sqlite_or_a_disabled_switch_keeps_the_plain_django_application(settings: Any) -> None:
    app = WSGIHandler()
    if connection.vendor == "postgresql":
        assert isinstance(fasthttp.mount(app), fasthttp.FastRoutes)
        settings.DANCU_FAST_VERIFY = False
    assert fasthttp.mount(app) is app


# --------------------------------------------------------------------------- commit mode
def _statement_commit_mode(hospital: Organisation, request_id: str) -> str:
    """Run the statement as if it were its own transaction (the test's transaction stands in for
    its implicit one) and read the commit mode it leaves for that transaction."""
    from dancu.blocks.identity import pg_verify

    key = issue_api_key(hospital, f"HIS {request_id}")
    now = timezone.now()
    claim = fasthttp._exact_claim(AN_QR, timezone.localdate(now))
    assert claim is not None
    requester = pg_verify.Requester(key.key_id, "HIS", hospital.pk, hospital.name, hospital.kind, "", "")
    connection.ensure_connection()
    outcome = pg_verify.verify_qr(
        connection.connection,
        requester,
        claim,
        purpose=PURPOSE,
        case_reference="",
        request_id=request_id,
        request_sha256="0" * 64,
        receipt_id=uuid.uuid4(),
        response={},
        at=now,
        today=timezone.localdate(now),
        async_commit=True,
    )
    assert outcome.written
    with connection.cursor() as cur:
        cur.execute("SHOW synchronous_commit")
        return str(cur.fetchone()[0])


@pg_only
def test_a_plain_match_is_a_record_of_a_read_committed_asynchronously(
    hospital: Organisation, residents: dict[str, Any]
) -> None:
    """ADR 0014 §7: the receipt of a read may lose its last fraction of a second in a crash."""
    assert _statement_commit_mode(hospital, "commit-plain") == "off"


@pg_only
def test_a_match_that_raised_a_police_alert_commits_durably(
    hospital: Organisation, residents: dict[str, Any]
) -> None:
    """An ``AlertHit`` and its ``alerts.hit`` event are police alerts, not records of a read: the
    transaction that wrote them waits for the WAL flush, as on the ORM path."""
    AlertEntry.objects.create(
        subject_citizen_id=residents["an"].citizen_id,
        subject_id_number=AN_ID,
        kind="wanted",
        issuing_organisation_id=99,
        issuing_organisation_name="Công an thành phố Hà Nội",
        reference="QĐ-124/2026",
        legal_basis="Bộ luật Tố tụng hình sự 2015 Điều 231",
        created_by="police.officer",
        valid_from=timezone.now() - timedelta(days=1),
    )
    assert _statement_commit_mode(hospital, "commit-alert") == "on"
    assert AlertHit.objects.filter(subject_citizen_id=residents["an"].citizen_id).count() == 1


# --------------------------------------------------------------------------- unexpected errors
def test_an_unexpected_error_is_answered_reported_and_logged_as_django_does(
    fast_only: fasthttp.FastRoutes,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug or a database failure on the hot route: the client gets a 500 in the API's problem
    format (not gunicorn's plain text), error trackers get ``got_request_exception`` and the
    ``django.request`` log names the path and the exception class — never its message, which
    may quote personal data."""
    from django.core.signals import got_request_exception

    personal = "duplicate key (id_number)=(001085012345)"

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(personal)

    monkeypatch.setattr(fasthttp, "take", broken)
    reported: list[Any] = []

    def listener(sender: Any, request: Any = None, **kwargs: Any) -> None:
        reported.append(request)

    got_request_exception.connect(listener)
    try:
        with caplog.at_level("ERROR", logger="django.request"):
            answer = call(fast_only, PING, None, token)
    finally:
        got_request_exception.disconnect(listener)
    assert answer.status == 500
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json["detail"][0]["rule"] == "internal_error"
    assert len(reported) == 1 and reported[0].path == PING
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1 and records[0].status_code == 500  # type: ignore[attr-defined]
    logged = records[0].getMessage()
    assert PING in logged and "RuntimeError" in logged
    assert "001085012345" not in logged and records[0].exc_info is None
