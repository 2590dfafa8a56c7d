"""The gateway's fast path (ADR 0010 §13): on PostgreSQL, BHXH Hà Nội's look-ups through the gateway
are decided from routes cached per process and written in group transactions — with the same
answers, message-log rows, tracker rows and registry audit events as the ORM path (the reference,
and SQLite's path), and a revoked grant stops working at once.

PostgreSQL only: the fast path runs there alone (SQLite has no lanes); the tests commit their data
(``transaction=True``) because the lanes' own connections must see it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange import crypto, evidence, fast, gateway
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Message, MessageSubject
from tests.blocks.exchange.conftest import World, fast_lanes
from tests.conftest import Person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("adminunits"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path runs on PostgreSQL only"),
]


@pytest.fixture(autouse=True)
def _lanes(settings: Any) -> Iterator[None]:
    with fast_lanes(settings, 2):
        yield


@pytest.fixture
def exchange(world: World) -> Callable[..., gateway.ExchangeResponse]:
    """``exchange(path, request_id)``: BHXH's intake system asks the registry's citizen service."""

    def make(
        path: str, request_id: str, *, service: str = "citizen", rate_limit: bool = False
    ) -> gateway.ExchangeResponse:
        return gateway.handle(
            gateway.ExchangeRequest(
                world.service_id(service),
                path,
                "GET",
                "",
                b"",
                {
                    "information-mediator-client": world.bhxh.identifier,
                    "authorization": f"Bearer {world.bhxh_token}",
                    "x-request-id": request_id,
                    "x-purpose": "public_service.processing",
                    "x-end-user": "canbo.nguyenthimai",
                    "x-case-reference": "HS-BHXH-2026-0042",
                },
            ),
            rate_limit=rate_limit,
        )

    return make


_SAME = (
    "client_id",
    "client_name",
    "client_member_pk",
    "service_id",
    "provider_name",
    "provider_member_pk",
    "grant_pk",
    "purpose",
    "end_user",
    "case_reference",
    "outcome",
    "status",
    "rule",
    "request_key_id",
    "response_key_id",
    "fields",
    "subjects",
)


def _record(msg: Message) -> dict[str, Any]:
    return {name: getattr(msg, name) for name in _SAME} | {
        "request": {k: v for k, v in msg.request.items() if k not in ("request_id", "received_at")},
        "body": msg.response["body"],
        "tracked": sorted(
            MessageSubject.objects.filter(message_id=msg.pk).values_list("citizen_id", flat=True)
        ),
    }


def _events(after: int) -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(pk__gt=after)
        .order_by("pk")
        .values_list(
            "action",
            "result",
            "subject_citizen_id",
            "purpose",
            "actor_label",
            "organisation_name",
            "case_reference",
            "detail",
        )
    )


def _last_event() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


@pytest.mark.parametrize("who", ["an_tay_ho", "cuong_hcm", "nobody"])
def test_both_paths_give_the_same_answer_log_rows_and_audit_events(
    who: str,
    request: pytest.FixtureRequest,
    settings: Any,
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    groups: list[int],
    world: World,
) -> None:
    """An ok answer (Nguyễn Văn An, Tây Hồ), a jurisdiction denial by the registry (Lê Văn Cường,
    TP HCM) and an unknown number: field for field the same through either path."""
    number = "001085999999" if who == "nobody" else request.getfixturevalue(who).id_number
    grant()
    answers, records, events = [], [], []
    for lanes, request_id in ((0, "orm-1"), (2, "fast-1")):
        settings.DANCU_EXCHANGE_LANES = lanes
        before = _last_event()
        res = exchange(number, request_id)
        msg = Message.objects.get(request_id=request_id)
        answers.append((res.status, res.body))
        records.append(_record(msg))
        events.append(_events(before))
        assert res.message_id == msg.pk and res.response_hash == msg.response_hash
        assert crypto.verify(world.registry.public_key, res.signature, crypto.canonical(msg.response))
        assert crypto.verify(world.bhxh.public_key, msg.request_signature, crypto.canonical(msg.request))
    assert groups == [1]  # the second call, and only it, ran in a lane
    assert answers[0] == answers[1]
    assert records[0] == records[1]
    assert events[0] == events[1] and len(events[0]) == 1


def test_a_cached_route_serves_the_next_call_without_a_query_on_the_callers_connection(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    django_assert_num_queries: Any,
    groups: list[int],
) -> None:
    grant()
    assert exchange(an_tay_ho.id_number, "warm").status == 200
    with django_assert_num_queries(0):
        assert exchange(an_tay_ho.id_number, "cached").status == 200
    assert groups == [1, 1]


def test_a_revoked_grant_stops_working_for_the_very_next_exchange(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    police_admin: Person,
    groups: list[int],
) -> None:
    """The bound: an exchange whose transaction starts after the revocation committed is refused
    (the configuration version is checked in the exchange's own transaction), not minutes later."""
    g = grant()
    assert exchange(an_tay_ho.id_number, "before").status == 200

    ex.revoke_grant(police_admin.actor, g.pk)
    res = exchange(an_tay_ho.id_number, "after")

    assert (res.status, res.body["detail"][0]["rule"]) == (403, "grant_revoked")
    refused = Message.objects.get(request_id="after")
    assert refused.outcome == "refused"
    assert len(groups) == 2  # the second group handed the stale call back: nothing read, nothing logged
    assert (
        AuditEvent.objects.filter(subject_citizen_id=an_tay_ho.citizen_id, action="registry.read").count()
        == 1
    )


def test_a_withdrawn_credential_is_refused_at_once(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    bhxh_admin: Person,
    world: World,
) -> None:
    grant()
    assert exchange(an_tay_ho.id_number, "before").status == 200
    ex.revoke_credential(bhxh_admin.actor, world.bhxh)
    res = exchange(an_tay_ho.id_number, "after")
    assert (res.status, res.body["detail"][0]["rule"]) == (401, "credentials_revoked")


def test_a_lane_that_lost_its_prepared_statements_prepares_them_again(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    groups: list[int],
) -> None:
    """The group's statements are prepared once per lane connection (ADR 0010 §18); a session
    that lost them (``DISCARD ALL``, ``DEALLOCATE ALL``) prepares them again and the exchange is
    answered and logged as usual."""
    grant()
    assert exchange(an_tay_ho.id_number, "prep-1").status == 200
    for lane in fast._LANES:
        if lane._conn is not None:
            lane._conn.execute("DEALLOCATE ALL")
    second = exchange(an_tay_ho.id_number, "prep-2")
    assert second.status == 200 and second.body["data"]["id_number"] == an_tay_ho.id_number
    assert groups == [1, 1]  # both served by the fast path
    assert Message.objects.filter(request_id="prep-2", outcome="ok").count() == 1


def test_a_replayed_request_id_gets_the_stored_answer_and_a_changed_one_is_a_conflict(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    binh_hoan_kiem: Any,
) -> None:
    grant()
    first = exchange(an_tay_ho.id_number, "same-id")
    again = exchange(an_tay_ho.id_number, "same-id")
    other = exchange(binh_hoan_kiem.id_number, "same-id")

    assert (again.message_id, again.replayed, again.body) == (first.message_id, True, first.body)
    assert (other.status, other.body["detail"][0]["rule"]) == (409, "request_id_reused")
    assert Message.objects.filter(request_id="same-id", outcome="ok").count() == 1


def test_concurrent_exchanges_share_group_commits_and_the_chain_verifies(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    groups: list[int],
) -> None:
    """Eight threads, 25 exchanges each, two of them reusing one request id: every other exchange
    is answered once, logged once with its tracker row; the sealed chain verifies."""
    grant()
    exchange(an_tay_ho.id_number, "warm")  # the route is cached before the burst
    answers: list[gateway.ExchangeResponse] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            for i in range(25):
                res = exchange(an_tay_ho.id_number, "shared" if i == 0 and t < 2 else f"t{t}-{i}")
                with lock:
                    answers.append(res)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    assert len(answers) == 200 and all(a.status == 200 for a in answers)
    assert len({a.message_id for a in answers}) == 199  # "shared" twice: one answer, replayed
    assert Message.objects.filter(outcome="ok").count() == 200  # 199 + the warm-up
    assert MessageSubject.objects.count() == 200
    assert sum(groups) >= 200
    # Sealed past the lag (a seal inside it chains nothing): every record of the burst is in the
    # chain, numbered without a gap, and verifies; ``dancu exchange verify`` agrees.
    assert evidence.seal(now=timezone.now() + timedelta(seconds=5)) == 200
    report = evidence.verify_chain()
    assert report.ok and report.checked == 200, report.problems
    assert sorted(s or 0 for s in Message.objects.values_list("seq", flat=True)) == list(range(1, 201))
    call_command("exchange", "verify")


def test_the_rate_limit_holds_on_the_fast_path(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    settings: Any,
    groups: list[int],
) -> None:
    settings.DANCU_EXCHANGE_RATE_PER_MINUTE, settings.DANCU_EXCHANGE_BURST = 60, 1
    grant()

    assert exchange(an_tay_ho.id_number, "first", rate_limit=True).status == 200
    second = exchange(an_tay_ho.id_number, "second", rate_limit=True)
    assert (second.status, second.body["detail"][0]["rule"]) == (429, "rate_limited")
    assert groups == [1]


@pytest.mark.parametrize(("durable", "mode"), [(True, "on"), (False, "off")])
def test_the_group_commits_in_the_configured_mode(
    durable: bool,
    mode: str,
    settings: Any,
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """By default the group's commit waits for the WAL flush (an acknowledged exchange survives a
    crash of the database server too); ``DANCU_EXCHANGE_DURABLE_COMMIT = False`` relaxes it."""
    settings.DANCU_EXCHANGE_DURABLE_COMMIT = durable
    seen: list[str] = []
    real = fast._send

    def spy(conn: Any, query: bytes) -> Any:
        found = real(conn, query)
        if query.startswith(b"BEGIN"):  # the group's first round trip: its look-ups done
            seen.append(conn.execute("SELECT current_setting('synchronous_commit')").fetchone()[0])
        return found

    monkeypatch.setattr(fast, "_send", spy)
    grant()
    assert exchange(an_tay_ho.id_number, f"mode-{mode}").status == 200
    assert seen == [mode]


def test_a_grant_approved_after_a_refusal_is_served_by_the_fast_path_at_once(
    grant: Callable[..., Any],
    exchange: Callable[..., gateway.ExchangeResponse],
    an_tay_ho: Any,
    police_admin: Person,
    groups: list[int],
) -> None:
    """BHXH calls while its grant still waits for approval: refused (by the ORM path, from fresh
    data), and the route cached for the refused decision is dropped — so once the police approve
    the grant, the very next call is decided afresh and served by a lane, not sent to the ORM path
    by a stale cached route until some other change."""
    pending = grant(approve=False)
    early = exchange(an_tay_ho.id_number, "too-early")
    assert early.status == 403
    assert groups == []

    ex.approve_grant(police_admin.actor, pending.pk)

    assert exchange(an_tay_ho.id_number, "approved-1").status == 200
    assert exchange(an_tay_ho.id_number, "approved-2").status == 200
    assert groups == [1, 1]


def test_a_narrowed_field_list_gives_the_same_answer_and_record_through_both_paths(
    settings: Any,
    grant: Callable[..., Any],
    world: World,
    an_tay_ho: Any,
    groups: list[int],
) -> None:
    """BHXH asks for two of its four granted fields (``fields=full_name,life_status``): the fast
    path converts only those (``providers._citizen_fields(..., only)``) and must still answer and
    log field for field what the ORM path does — including which fields were withheld."""
    grant()
    answers, records = [], []
    for lanes, request_id in ((0, "narrow-orm"), (2, "narrow-fast")):
        settings.DANCU_EXCHANGE_LANES = lanes
        res = gateway.handle(
            gateway.ExchangeRequest(
                world.service_id("citizen"),
                an_tay_ho.id_number,
                "GET",
                "fields=full_name,life_status",
                b"",
                {
                    "information-mediator-client": world.bhxh.identifier,
                    "authorization": f"Bearer {world.bhxh_token}",
                    "x-request-id": request_id,
                    "x-purpose": "public_service.processing",
                    "x-end-user": "canbo.nguyenthimai",
                },
            )
        )
        answers.append((res.status, res.body))
        records.append(_record(Message.objects.get(request_id=request_id)))
    assert groups == [1]
    assert answers[0] == answers[1]
    assert answers[1][0] == 200 and sorted(answers[1][1]["data"]) == ["full_name", "life_status"]
    assert "date_of_birth" in answers[1][1]["fields_withheld"]  # granted, but not asked for
    assert "religion" in answers[1][1]["fields_withheld"]  # never granted
    assert records[0] == records[1]


def test_the_signed_documents_are_stored_byte_for_byte_as_signed(
    grant: Callable[..., Any],
    world: World,
    an_tay_ho: Any,
    groups: list[int],
) -> None:
    """The group insert sends each request and response as the canonical JSON that was signed
    (``fast._rows_json``), not encoded a second time. A case reference holding quotes, a
    backslash and Vietnamese text, and the Vietnamese name in the answer, come back from the log
    unchanged: the stored documents re-encode to the signed bytes, the signatures verify, and the
    sealed chain verifies (``dancu exchange verify``)."""
    grant()
    case = 'HS "BHXH" \\ Hồ sơ số 42'
    res = gateway.handle(
        gateway.ExchangeRequest(
            world.service_id("citizen"),
            an_tay_ho.id_number,
            "GET",
            "",
            b"",
            {
                "information-mediator-client": world.bhxh.identifier,
                "authorization": f"Bearer {world.bhxh_token}",
                "x-request-id": "spliced-1",
                "x-purpose": "public_service.processing",
                "x-end-user": "canbo.nguyenthimai",
                "x-case-reference": case,
            },
        )
    )
    assert res.status == 200 and groups == [1]
    msg = Message.objects.get(request_id="spliced-1")
    assert msg.request["case_reference"] == case and msg.case_reference == case
    assert msg.response["body"] == res.body and res.body["data"]["full_name"] == an_tay_ho.full_name
    assert crypto.sha256_hex(crypto.canonical(msg.request)) == msg.request_hash == res.request_hash
    assert crypto.sha256_hex(crypto.canonical(msg.response)) == msg.response_hash == res.response_hash
    assert msg.response["request_hash"] == msg.request_hash  # the answer is bound to the request
    assert crypto.verify(world.bhxh.public_key, msg.request_signature, crypto.canonical(msg.request))
    assert crypto.verify(world.registry.public_key, msg.response_signature, crypto.canonical(msg.response))
    assert evidence.seal(now=timezone.now() + timedelta(seconds=5)) == 1
    assert evidence.verify_chain().ok
    bundle = evidence.export_bundle(msg.pk)
    assert evidence.verify_bundle(bundle, trusted_gateway_key=crypto.gateway_public_b64()).ok


def test_the_rows_json_of_a_group_parses_to_the_signed_documents() -> None:
    """``fast._rows_json``: the plain columns encoded, the two documents spliced in as the exact
    canonical text — one JSON array that parses back to every row (denial path: a document that
    is not canonical JSON would not parse, and the database would refuse the group)."""
    import json
    from datetime import UTC, datetime

    docs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"a": 'x"\\', "b": "Hồ sơ\u2028"}, {"status": 200, "body": {"n": [1, None]}}),
        ({}, {}),
    ]
    rows = []
    for req, res in docs:
        columns: dict[str, Any] = {name: f"v-{name}" for name, _ in fast._MESSAGE_COLUMNS}
        at = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
        columns.update(occurred_at=at, status=200, request=req, response=res)
        rows.append(fast.Row(columns, crypto.canonical(req).decode(), crypto.canonical(res).decode()))
    parsed = json.loads(fast._rows_json(rows))
    assert [p["n"] for p in parsed] == [0, 1]
    assert [(p["request"], p["response"]) for p in parsed] == docs
    assert parsed[0]["occurred_at"] == "2026-12-01T04:00:00+00:00" and parsed[0]["client_id"] == "v-client_id"
    with pytest.raises(json.JSONDecodeError):  # the splice trusts its input: anything else breaks it
        json.loads(fast._rows_json([fast.Row(rows[0].columns, "{", "}")]))
