"""Coalesced verifications on the hot route (ADR 0020): concurrent yes/no verifications by card QR
of a process's threads share one statement (``pg_verify.submit``), and each is decided and
recorded exactly as the reference path (``api.py`` → ``services.verify``, ORM) decides and records
it alone.

Specification, under concurrency (threads released together, the lane held back so that they pile
up into shared statements): for every decision kind — a match, a match of a person on the police
alert list, a name that does not match, an unknown number, an invalid QR, an expired card, a card
reported lost, a holder who has died — each answer, receipt row, audit event (the one the citizen
sees) and alert hit is the one the reference path gives for the same request; two organisations
in one statement each get their own receipt; a request id sent many times at once is answered
with one receipt; a key revoked while cached is refused even inside a shared statement, while its
neighbours in the statement are served.

Actors: the information systems of Bệnh viện Bạch Mai and Bệnh viện Việt Đức (API keys); the
city police unit that owns an alert-list entry; residents of Tây Hồ.

PostgreSQL only (the statement is PostgreSQL SQL and the lanes are connections of their own):
transactional tests, because a lane sees only committed rows.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.utils import timezone

from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity import fasthttp, pg_verify
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.organisations import keycache
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import issue_api_key, revoke_api_key
from dancu.blocks.registry.models import Citizen, IdentityCard
from dancu.blocks.registry.services import NewCitizen, register_citizen
from tests import wsgi_support
from tests.blocks.identity.conftest import AN_ID, AN_NAME, AN_QR, MAI_BORN, MAI_ID, MAI_NAME, TAY_HO_ADDRESS
from tests.blocks.identity.helpers import id_number_of

PURPOSE = "identity.verification"
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL-only statement and lanes"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("trusted", "fresh_rate_limits"),
]


# --------------------------------------------------------------------------- plumbing
class Answer:
    def __init__(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.status, self.headers, self.content = status, headers, content

    @property
    def json(self) -> Any:
        return json.loads(self.content)


def call(app: Any, payload: dict[str, Any], token: str) -> Answer:
    """One WSGI request as gunicorn makes it (Django's request signals left connected: each
    thread's connection is closed at the end of its request, as in production)."""
    env = wsgi_support.environ(
        "POST", fasthttp.VERIFY, json.dumps(payload).encode(), "application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    status, headers, content = wsgi_support.run(app, env, keep_connection=False)
    return Answer(status, dict(headers), content)


def body(request_id: str, text: str, case_reference: str = "") -> dict[str, Any]:
    return {
        "request_id": request_id,
        "purpose": PURPOSE,
        "mode": "yes_no",
        "case_reference": case_reference,
        "evidence": {"kind": "qr", "text": text},
    }


def all_at_once(calls: Sequence[Callable[[], Answer]]) -> list[Answer]:
    """Run ``calls`` in threads released together; their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Answer | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            answers[i] = calls[i]()
        except BaseException as exc:  # reported below, in the test's thread
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for a in answers:
        if not isinstance(a, Answer):
            raise AssertionError(f"a request did not answer: {a!r}")
    return [a for a in answers if isinstance(a, Answer)]


@pytest.fixture
def statements(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The coalescer on, with one lane whose first statement waits 0.3 s: the requests released
    meanwhile pile up and share the following statements; the rate limit raised. Yields the size
    of every statement; the lane's connection is closed afterwards so that the test database can
    be dropped."""
    settings.DANCU_VERIFY_LANES = 1
    # Each test sends ~100 requests a key within seconds: the rate limit is not what is tested here.
    settings.DANCU_API_RATE_PER_MINUTE, settings.DANCU_API_BURST = 100_000, 100_000
    sizes: list[int] = []
    real = pg_verify.verify_batch

    def counted(conn: Any, items: Any, *, async_commit: bool) -> list[pg_verify.Outcome]:
        if not sizes:
            time.sleep(0.3)
        sizes.append(len(items))
        return real(conn, items, async_commit=async_commit)

    monkeypatch.setattr(pg_verify, "verify_batch", counted)
    keycache.clear()
    yield sizes
    keycache.clear()
    pg_verify.close()


# --------------------------------------------------------------------------- the comparison
_RECORD_VARIES = {"id", "receipt_id", "created_at", "request_id", "response"}


def record_of(receipt_id: str) -> dict[str, Any]:
    values = VerificationRecord.objects.filter(receipt_id=receipt_id).values().get()
    return {k: v for k, v in values.items() if k not in _RECORD_VARIES}


def events_of(receipt_id: str) -> list[dict[str, Any]]:
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


def assert_same_verification(mine: Answer, reference: Answer) -> None:
    """Same status, answer (but the receipt's id and time), headers (but the length), receipt
    row, audit events and alert hits."""
    assert (mine.status, reference.status) == (200, 200), (mine.content, reference.content)
    drop = ("receipt_id", "verified_at")
    assert {k: v for k, v in mine.json.items() if k not in drop} == {
        k: v for k, v in reference.json.items() if k not in drop
    }
    assert {k: v for k, v in mine.headers.items() if k != "Content-Length"} == {
        k: v for k, v in reference.headers.items() if k != "Content-Length"
    }
    a, b = mine.json["receipt_id"], reference.json["receipt_id"]
    assert record_of(a) == record_of(b)
    assert events_of(a) == events_of(b)
    assert hits_of(a) == hits_of(b)


# --------------------------------------------------------------------------- residents
def _qr(id_number: str, name: str, born: date, sex: str, issued: date, old: str = "") -> str:
    word = "Nam" if sex == "M" else "Nữ"
    return f"{id_number}|{old}|{name}|{born:%d%m%Y}|{word}|{TAY_HO_ADDRESS}|{issued:%d%m%Y}"


@pytest.fixture
def cases(residents: dict[str, Any], system_ctx: Callable[[str], AccessContext]) -> dict[str, str]:
    """One QR per decision kind, each of its own resident so that all can be verified at once:
    Nguyễn Văn An (a current card), Huỳnh Thị Mai (a current card, on the police alert list),
    Trần Thị Bích (her card expired), Lê Văn Cường (his card reported lost), Phạm Văn Dũng
    (died in 2025, his card still marked valid)."""
    ctx = system_ctx("registry.administration")
    issued = date(2021, 6, 1)

    def resident(name: str, born: date, sex: str, serial: int, *, status: str, expires: date) -> str:
        number = id_number_of(born, sex, province="001", serial=serial)
        person = register_citizen(
            ctx,
            NewCitizen(
                id_number=number,
                full_name=name,
                date_of_birth=born,
                sex=sex,
                permanent_address_text=TAY_HO_ADDRESS,
            ),
            reason="Đăng ký",
            legal_basis="Luật Cư trú 2020",
        )
        IdentityCard.objects.create(
            citizen=Citizen.objects.get(pk=person.citizen_id),
            kind="cccd_chip",
            card_number=number,
            issued_on=issued,
            expires_on=expires,
            status=status,
        )
        return _qr(number, name, born, sex, issued)

    expired = resident("Trần Thị Bích", date(1970, 5, 4), "F", 101, status="valid", expires=date(2024, 1, 1))
    lost = resident("Lê Văn Cường", date(1980, 7, 9), "M", 102, status="lost", expires=date(2040, 7, 9))
    died = resident("Phạm Văn Dũng", date(1950, 1, 2), "M", 103, status="valid", expires=date(2040, 1, 2))
    number = died.split("|", 1)[0]
    Citizen.objects.filter(id_number=number).update(life_status="deceased", date_of_death=date(2025, 1, 1))
    AlertEntry.objects.create(
        subject_citizen_id=residents["mai"].citizen_id,
        subject_id_number=MAI_ID,
        kind="wanted",
        issuing_organisation_id=99,
        issuing_organisation_name="Công an thành phố Hà Nội",
        reference="QĐ-125/2026",
        legal_basis="Bộ luật Tố tụng hình sự 2015 Điều 231",
        created_by="police.officer",
        valid_from=timezone.now() - timedelta(days=1),
    )
    return {
        "match": AN_QR,
        "match, on the alert list": _qr(MAI_ID, MAI_NAME, MAI_BORN, "F", date(2024, 9, 10)),
        "name": AN_QR.replace(AN_NAME, "Nguyễn Văn Anh"),
        "unknown number": AN_QR.replace(AN_ID, "001085099999"),
        "invalid QR": AN_QR.replace("02031985", "31021985"),
        "expired": expired,
        "lost": lost,
        "deceased": died,
    }


@pytest.fixture
def hospitals(db: None) -> dict[str, str]:
    """Two hospitals' API keys (tokens)."""
    bach_mai = Organisation.objects.create(code="BV-BACHMAI", name="Bệnh viện Bạch Mai", kind="clinic")
    viet_duc = Organisation.objects.create(code="BV-VIETDUC", name="Bệnh viện Việt Đức", kind="clinic")
    return {
        "bach_mai": issue_api_key(bach_mai, "HIS Bạch Mai").token,
        "viet_duc": issue_api_key(viet_duc, "HIS Việt Đức").token,
    }


# --------------------------------------------------------------------------- specifications
def test_concurrent_verifications_of_every_kind_share_statements_and_match_the_reference_path(
    statements: list[int], cases: dict[str, str], hospitals: dict[str, str]
) -> None:
    fast, django_app = fasthttp.FastRoutes(WSGIHandler()), WSGIHandler()
    requests = [
        (name, hospital, f"{hospital}-{name.replace(' ', '_').replace(',', '')}-{copy}")
        for copy in range(3)
        for name in cases
        for hospital in hospitals
    ]
    answers = all_at_once(
        [
            functools.partial(call, fast, body(rid, cases[name]), hospitals[hospital])
            for name, hospital, rid in requests
        ]
    )
    # Every QR that parses reaches the statement (the invalid one is judged by the reference path
    # alone); the requests shared statements.
    assert sum(statements) == len(requests) - 3 * len(hospitals)
    assert max(statements) > 1, statements
    decisions = {}
    for (name, hospital, rid), mine in zip(requests, answers, strict=True):
        reference = call(django_app, body(f"ref-{rid}", cases[name]), hospitals[hospital])
        assert_same_verification(mine, reference)
        decisions[name] = mine.json["decision"]
    assert decisions == {
        "match": "match",
        "match, on the alert list": "match",
        "name": "no_match",
        "unknown number": "no_match",
        "invalid QR": "invalid_evidence",
        "expired": "card_not_valid",
        "lost": "card_not_valid",
        "deceased": "deceased",
    }
    # The citizen sees each verification of their identity; the police see each hit.
    an = Citizen.objects.get(id_number=AN_ID).pk
    matches = AuditEvent.objects.filter(
        action="identity.verify", subject_citizen_id=an, detail__decision="match"
    )
    assert matches.count() == 2 * 3 * len(hospitals)  # the coalesced ones and the reference ones
    mai = Citizen.objects.get(id_number=MAI_ID).pk
    assert AlertHit.objects.filter(subject_citizen_id=mai).count() == 2 * 3 * len(hospitals)
    assert AuditEvent.objects.filter(action="alerts.hit", subject_citizen_id=mai).count() == 2 * 3 * len(
        hospitals
    )


def test_a_request_id_sent_many_times_at_once_gets_one_receipt(
    statements: list[int], cases: dict[str, str], hospitals: dict[str, str]
) -> None:
    fast = fasthttp.FastRoutes(WSGIHandler())
    token = hospitals["bach_mai"]
    answers = all_at_once([lambda: call(fast, body("his-same", cases["match"]), token) for _ in range(8)])
    assert {a.status for a in answers} == {200}
    assert len({a.json["receipt_id"] for a in answers}) == 1
    assert sorted(a.json["replayed"] for a in answers) == [False] + [True] * 7
    assert VerificationRecord.objects.filter(request_id="his-same").count() == 1
    receipt = answers[0].json["receipt_id"]
    assert AuditEvent.objects.filter(action="identity.verify", detail__receipt=receipt).count() == 1


def test_a_request_id_reused_at_once_for_another_request_is_a_conflict(
    statements: list[int], cases: dict[str, str], hospitals: dict[str, str]
) -> None:
    """Denial path: the same request id, at the same moment, for two different requests — one is
    answered, the other refused with 409 and nothing written for it."""
    fast = fasthttp.FastRoutes(WSGIHandler())
    token = hospitals["bach_mai"]
    answers = all_at_once(
        [
            lambda: call(fast, body("his-twice", cases["match"], "HS-1"), token),
            lambda: call(fast, body("his-twice", cases["match"], "HS-2"), token),
        ]
    )
    assert sorted(a.status for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status == 409)
    assert refused.json["detail"][0]["rule"] == "idempotency_conflict"
    assert VerificationRecord.objects.filter(request_id="his-twice").count() == 1


def test_a_key_revoked_while_cached_is_refused_inside_a_shared_statement(
    statements: list[int], cases: dict[str, str], hospitals: dict[str, str]
) -> None:
    """Denial path: Việt Đức's key is revoked after the process remembered it; in the statements
    it shares with Bạch Mai's requests, its verifications write nothing and are refused (401);
    Bạch Mai's are served."""
    fast = fasthttp.FastRoutes(WSGIHandler())
    warm = call(fast, body("warm-up", cases["match"]), hospitals["viet_duc"])  # now cached
    assert warm.status == 200
    assert revoke_api_key(hospitals["viet_duc"].split("_")[1])
    calls = [
        functools.partial(call, fast, body(f"rev-{i}", cases["match"]), hospitals[hospital])
        for i in range(6)
        for hospital in hospitals
    ]
    answers = all_at_once(calls)
    statuses = [a.status for a in answers]
    assert statuses == [200, 401] * 6
    refused = answers[1]
    assert refused.json["detail"][0]["field"] == "authorization"
    assert VerificationRecord.objects.filter(request_id__startswith="rev-").count() == 6
    assert set(
        VerificationRecord.objects.filter(request_id__startswith="rev-").values_list(
            "organisation_name", flat=True
        )
    ) == {"Bệnh viện Bạch Mai"}


def test_without_lanes_a_verification_runs_alone_on_the_threads_connection(
    settings: Any, cases: dict[str, str], hospitals: dict[str, str]
) -> None:
    """``DANCU_VERIFY_LANES = 0`` (the test settings): no lane connection is opened."""
    settings.DANCU_VERIFY_LANES = 0
    keycache.clear()
    answer = call(fasthttp.FastRoutes(WSGIHandler()), body("alone-1", cases["match"]), hospitals["bach_mai"])
    assert answer.status == 200 and answer.json["decision"] == "match"
    assert all(lane._conn is None for lane in pg_verify._LANES)
