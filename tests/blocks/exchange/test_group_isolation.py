"""One caller's bad input or failing exchange is that caller's alone (ADR 0010 §19).

On PostgreSQL concurrent exchanges share a group transaction (``fast.run_group``). Before §19 a
job whose answer could not be built, signed or stored failed its whole group: every other caller
in it got the error. Now:

* a field name that could not even be logged (a NUL, a lone surrogate) is refused up front with
  400 ``fields``/``format`` — on every database;
* a job whose row cannot be built is taken out of its group: the group's transaction is rolled
  back (its look-up's audit event with it) and run again without it, and that job is served alone
  by the ORM path — the others of the group get their normal answers, logged once each;
* a row PostgreSQL would refuse is recognised before the insert (``fast._row_json``).

Actors: BHXH Hà Nội's intake system (``world.bhxh``) and Sở Lao động's social-welfare system
(``world.labour``) ask the registry for Nguyễn Văn An (Tây Hồ).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange import crypto, evidence, fast, gateway
from dancu.blocks.exchange.models import Message, MessageSubject, Subsystem
from tests.blocks.exchange.conftest import World, fast_lanes
from tests.conftest import Person

_ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the group transactions run on PostgreSQL only"
)


def _request(world: World, client: Any, token: str, request_id: str, path: str, body: bytes = b"") -> Any:
    return gateway.ExchangeRequest(
        world.service_id("citizen"),
        path,
        "POST" if body else "GET",
        "",
        body,
        {
            "information-mediator-client": client.identifier,
            "authorization": f"Bearer {token}",
            "x-request-id": request_id,
            "x-purpose": "public_service.processing",
            "x-end-user": "canbo.nguyenthimai",
            "x-case-reference": "HS-2026-0042",
        },
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("adminunits")
@pytest.mark.parametrize("name", ["\\u0000", "\\ud800"], ids=["nul", "lone-surrogate"])
def test_a_field_name_that_could_not_be_logged_is_refused_naming_the_field_and_rule(
    name: str, world: World, grant: Callable[..., Any], an_tay_ho: Any
) -> None:
    """BHXH asks for the fields ``id_number`` and a name holding a NUL (or a lone surrogate, which
    is not UTF-8): 400 naming ``fields`` and the rule ``format``, logged as a refusal, and the
    registry is not read. (Before: the refusal's own log record failed — PostgreSQL stores no NUL,
    and a lone surrogate cannot be signed — and the caller got a server error.)"""
    grant()
    body = f'{{"id_number": "{an_tay_ho.id_number}", "fields": ["id_number", "{name}"]}}'.encode()
    res = gateway.handle(_request(world, world.bhxh, world.bhxh_token, "bad-fields", "", body))

    assert (res.status, res.body["detail"][0]["field"], res.body["detail"][0]["rule"]) == (
        400,
        "fields",
        "format",
    )
    refused = Message.objects.get(request_id="bad-fields")
    assert (refused.outcome, refused.rule, refused.pk) == ("refused", "format", res.message_id)
    assert not AuditEvent.objects.filter(action="registry.read").exists()


@pytest.fixture
def _one_lane(settings: Any) -> Iterator[None]:
    with fast_lanes(settings, 1):
        yield


@_ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("adminunits", "_one_lane")
def test_one_callers_failing_exchange_leaves_the_others_of_its_group_answered(
    world: World,
    grant: Callable[..., Any],
    labour_admin: Person,
    an_tay_ho: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sở Lao động's signing key no longer opens (its ciphertext was copied from another row, ADR
    0010 §2), so the gateway cannot sign its request. Its call lands in one group with two calls
    of BHXH: BHXH gets both answers, each logged once with its tracker row and the registry's
    audit event; Sở Lao động's call fails alone and leaves nothing — no log record, no audit
    event of a look-up that was never answered — and the chain verifies."""
    grant()
    grant(client=world.labour, requester=labour_admin)
    Subsystem.objects.filter(pk=world.labour.pk).update(private_key_wrapped=world.bhxh.private_key_wrapped)

    # One lane: the first call holds it until the three others wait, so those three form a group.
    holding = threading.Event()
    sizes: list[int] = []
    real = fast.run_group

    def gated(conn: Any, jobs: list[fast.Job]) -> list[fast.Job]:
        if not sizes:
            holding.set()
            deadline = time.monotonic() + 20
            coalescer = fast._COALESCER
            while coalescer is not None and len(coalescer._pending) < 3 and time.monotonic() < deadline:
                time.sleep(0.002)
        sizes.append(len(jobs))
        return real(conn, jobs)

    monkeypatch.setattr(fast, "run_group", gated)
    answers: dict[str, gateway.ExchangeResponse] = {}
    errors: dict[str, BaseException] = {}

    def send(request_id: str, client: Any, token: str) -> None:
        try:
            answers[request_id] = gateway.handle(
                _request(world, client, token, request_id, an_tay_ho.id_number)
            )
        except Exception as exc:
            errors[request_id] = exc
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("a-1", world.bhxh, world.bhxh_token))
    first.start()
    assert holding.wait(20)
    others = [
        threading.Thread(target=send, args=(rid, client, token))
        for rid, client, token in (
            ("b-1", world.labour, world.labour_token),
            ("c-1", world.bhxh, world.bhxh_token),
            ("d-1", world.bhxh, world.bhxh_token),
        )
    ]
    for t in others:
        t.start()
        time.sleep(0.05)  # in this order: Sở Lao động's call first in the group
    for t in [first, *others]:
        t.join(60)

    assert sizes[:2] == [1, 3]  # the three later calls shared one group
    assert set(answers) == {"a-1", "c-1", "d-1"}, errors
    for rid in ("a-1", "c-1", "d-1"):
        res = answers[rid]
        assert res.status == 200 and res.body["data"]["id_number"] == an_tay_ho.id_number
        msg = Message.objects.get(request_id=rid)
        assert (msg.pk, msg.outcome) == (res.message_id, "ok")
        assert crypto.verify(world.registry.public_key, res.signature, crypto.canonical(msg.response))
    assert isinstance(errors.get("b-1"), crypto.KeyUnavailable)
    assert not Message.objects.filter(request_id="b-1").exists()
    assert MessageSubject.objects.count() == 3
    reads = AuditEvent.objects.filter(action="registry.read", subject_citizen_id=an_tay_ho.citizen_id)
    assert reads.count() == 3
    assert not reads.filter(organisation_name=world.labour.member.name).exists()
    assert evidence.seal(now=timezone.now() + timedelta(seconds=5)) == 3
    assert evidence.verify_chain().ok


def _row(request_doc: dict[str, Any], response_doc: dict[str, Any], **plain: Any) -> fast.Row:
    columns: dict[str, Any] = {name: f"v-{name}" for name, _ in fast._MESSAGE_COLUMNS}
    columns.update(occurred_at=datetime(2026, 12, 1, 4, 0, tzinfo=UTC), status=200)
    columns.update(plain, request=request_doc, response=response_doc)
    # The canonical text as ``crypto.canonical`` writes it, before its UTF-8 encoding.
    return fast.Row(
        columns,
        *(
            json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            for d in (request_doc, response_doc)
        ),
    )


@pytest.mark.parametrize(
    ("request_doc", "plain"),
    [
        ({"case_reference": "HS\x00"}, {}),
        ({"case_reference": "HS\ud800"}, {}),
        ({}, {"end_user": "canbo\x00"}),
        ({}, {"client_member_pk": float("nan")}),
    ],
    ids=["nul-in-a-document", "surrogate-in-a-document", "nul-in-a-column", "nan-in-a-column"],
)
def test_a_row_postgresql_would_refuse_is_recognised_before_the_insert(
    request_doc: dict[str, Any], plain: dict[str, Any]
) -> None:
    with pytest.raises(fast.Unstorable):
        fast._row_json(0, _row(request_doc, {"status": 200}, **plain))


def test_text_that_only_looks_like_a_nul_escape_is_stored() -> None:
    """A backslash followed by ``u0000`` typed by a client is text, escaped as ``\\\\u0000``:
    PostgreSQL stores it, so the row is not refused (the check reads JSON escapes, not text)."""
    text = fast._row_json(0, _row({"case_reference": "HS \\u0000 \\\\u0000"}, {"status": 200}))
    assert '"case_reference":"HS \\\\u0000 \\\\\\\\u0000"' in text
