"""The PostgreSQL look-up statement (ADR 0006) is the generic look-up, faster: for every actor,
purpose and kind of number it returns the same DTO, raises the same error and writes the same
audit event as the ORM path that SQLite runs.

PostgreSQL only: the statement uses a data-modifying CTE, which SQLite does not have. CI runs the
whole suite on PostgreSQL (``.ci/run``); ``make test`` on SQLite reports these as skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry import pg_read, services
from dancu.blocks.registry.models import IdentityCard
from dancu.errors import AccessDenied, NotFound
from tests.blocks.registry.conftest import LEGAL_BASIS, REASON, id_number
from tests.conftest import Person

pytestmark = [
    pytest.mark.usefixtures("adminunits"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL-only statement (CI runs it on PostgreSQL)"
    ),
]

UNKNOWN_NUMBER = "001099999999"
_EVENT_FIELDS = (
    "actor_user_id",
    "actor_label",
    "organisation_id",
    "organisation_name",
    "purpose",
    "action",
    "subject_citizen_id",
    "result",
    "case_reference",
    "detail",
    "prev_hash",
    "hash",
)


def _generic(ctx: AccessContext, number: str) -> Any:
    """The ORM path exactly as ``get_by_id_number`` runs it on SQLite."""
    services._authorise(ctx, services.READ_PURPOSES, "registry.read")
    return services._fetch(
        ctx, services._find_by_id_number(number, "household"), "registry.read", "id_number"
    )


def _outcome(call: Callable[[], Any]) -> tuple[Any, list[tuple[Any, ...]]]:
    """What a call returns (or raises) and the audit events it writes."""
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        result: Any = call()
    except (AccessDenied, NotFound) as exc:
        result = (type(exc).__name__, str(exc), exc.field, getattr(exc, "rule", None))
    written = list(AuditEvent.objects.filter(id__gt=before).order_by("id").values_list(*_EVENT_FIELDS))
    return result, written


@pytest.fixture
def citizens(register: Callable[..., Any], system_ctx: Callable[[str], AccessContext]) -> dict[str, str]:
    """Residents with cards, old CMND numbers and a changed number, in and out of jurisdictions."""
    an = register(religion="Phật giáo", old_id_numbers=("012345678", "001085000111"))
    binh = register(
        id_number=id_number(1990, "F", serial=222222),
        full_name="Trần Thị Bình",
        date_of_birth=date(1990, 7, 15),
        sex="F",
        permanent_address_text="Số 1 Tràng Tiền, Phường Tràng Tiền, Quận Hoàn Kiếm, Hà Nội",
        household_number="HK-HK-000001",
    )
    cuong = register(
        id_number=id_number(1970, "M", place="079", serial=333333),
        full_name="Lê Văn Cường",
        date_of_birth=date(1970, 1, 20),
        permanent_address_text="Số 2 Lê Duẩn, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh",
        household_number="HK-HCM-00001",
    )
    for view, cards in (
        (
            an,
            [
                ("cccd", date(2016, 5, 1), date(2025, 3, 2), "replaced"),
                ("cancuoc", date(2024, 9, 1), None, "valid"),
            ],
        ),
        (binh, [("cccd", date(2021, 4, 9), date(2030, 7, 15), "valid")]),
    ):
        for kind, issued, expires, status in cards:
            IdentityCard.objects.create(
                citizen_id=view.citizen_id,
                kind=kind,
                card_number=view.id_number,
                issued_on=issued,
                expires_on=expires,
                status=status,
            )
    old_number = binh.id_number
    changed = services.change_id_number(
        system_ctx("registry.administration"),
        old_number,
        new_id_number=id_number(1990, "F", serial=444444),
        reason=REASON,
        legal_basis=LEGAL_BASIS,
    )
    return {
        "an": an.id_number,
        "binh_now": changed.id_number,
        "binh_before": old_number,
        "cuong": cuong.id_number,
        "unknown": UNKNOWN_NUMBER,
    }


@pytest.mark.parametrize("who", ["city_police", "ward_police", "registrar", "hotel_clerk", "system"])
@pytest.mark.parametrize(
    "purpose",
    ["registry.lookup", "registry.administration", "public_service.processing", "data.cleaning"],
)
def test_the_statement_returns_writes_and_refuses_exactly_what_the_generic_path_does(
    request: pytest.FixtureRequest,
    citizens: dict[str, str],
    system_ctx: Callable[[str], AccessContext],
    who: str,
    purpose: str,
) -> None:
    if who == "system":
        ctx = system_ctx(purpose)
    else:
        person: Person = request.getfixturevalue(who)
        ctx = person.ctx(purpose, case_reference="HS-2026-42")
    for label, number in citizens.items():
        generic = _outcome(lambda number=number: _generic(ctx, number))
        statement = _outcome(lambda number=number: services.get_by_id_number(ctx, number))
        assert statement == generic, (who, purpose, label)


def _synchronous_commit() -> str:
    with connection.cursor() as cur:
        cur.execute("SHOW synchronous_commit")
        return str(cur.fetchone()[0])


def test_a_look_up_that_is_its_own_transaction_commits_it_asynchronously(
    city_police: Person, citizens: dict[str, str]
) -> None:
    """ADR 0005: the statement turns synchronous_commit off for its own transaction only (here
    the test's transaction stands in for the statement's implicit one)."""
    assert _synchronous_commit() == "on"
    request = pg_read.Request(city_police.ctx("registry.lookup"), citizens["an"], with_children=True)
    pg_read.run_batch(connection.connection, [request], async_commit=True)
    assert _synchronous_commit() == "off"


def test_a_look_up_inside_a_callers_transaction_leaves_its_commit_durable(
    city_police: Person, citizens: dict[str, str]
) -> None:
    with transaction.atomic():
        services.get_by_id_number(city_police.ctx("registry.lookup"), citizens["an"])
        assert _synchronous_commit() == "on"


def test_the_statement_is_prepared_once_per_connection(city_police: Person, citizens: dict[str, str]) -> None:
    ctx = city_police.ctx("registry.lookup")
    for _ in range(3):
        services.get_by_id_number(ctx, citizens["an"])
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%registry.read%%'")
        assert cur.fetchone()[0] == 1


@pytest.fixture
def lanes_closed_afterwards(settings: Any) -> Any:
    """The coalescer on (the test settings run look-ups alone); its connections are the
    process's own: closed afterwards so that the test database can be dropped."""
    settings.DANCU_LOOKUP_LANES = 2
    yield
    pg_read.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lanes_closed_afterwards")
def test_concurrent_look_ups_outside_a_transaction_share_statements_and_each_is_audited(
    city_police: Person, ward_police: Person, citizens: dict[str, str]
) -> None:
    """Outside a transaction the look-ups go through the coalescer's own connections: the same
    answers as the generic path, one audit event per look-up, errors to the right caller."""
    cases = [
        (city_police, citizens["an"]),
        (city_police, citizens["binh_before"]),
        (city_police, citizens["cuong"]),  # outside the city: denied
        (ward_police, citizens["binh_now"]),  # outside the ward: denied
        (city_police, citizens["unknown"]),  # missing
    ] * 8
    expected = [_outcome(lambda p=p, n=n: _generic(p.ctx("registry.lookup"), n))[0] for p, n in cases]
    generic_events = AuditEvent.objects.count()
    got: list[Any] = [None] * len(cases)

    def call(i: int) -> None:
        person, number = cases[i]
        try:
            got[i] = services.get_by_id_number(person.ctx("registry.lookup"), number)
        except (AccessDenied, NotFound) as exc:
            got[i] = (type(exc).__name__, str(exc), exc.field, getattr(exc, "rule", None))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert got == expected
    assert AuditEvent.objects.count() - generic_events == len(cases)
    results = list(AuditEvent.objects.order_by("-id").values_list("result", flat=True)[: len(cases)])
    assert sorted(results) == sorted(["ok", "ok", "denied", "denied", "not_found"] * 8)


@pytest.mark.django_db(transaction=True)
def test_without_lanes_a_look_up_outside_a_transaction_runs_alone_on_the_callers_connection(
    city_police: Person, citizens: dict[str, str]
) -> None:
    """``DANCU_LOOKUP_LANES = 0`` (the test settings): no coalescer connection is opened."""
    before = AuditEvent.objects.count()
    view = services.get_by_id_number(city_police.ctx("registry.lookup"), citizens["an"])
    assert view.id_number == citizens["an"]
    assert AuditEvent.objects.count() == before + 1
    assert pg_read._COALESCER is None or all(c._conn is None for c in pg_read._CONNECTIONS)
