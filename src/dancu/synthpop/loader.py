"""Stream a generated population into the registry tables, as one import batch.

* PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3, with explicit primary keys — a block of ids
  is taken from each table's sequence first (under a short table lock), so household, father,
  mother and spouse links are written directly, and each sequence is set back to the last id used
  at the end. A producer process generates and renders chunk *k+1* while the server ingests
  chunk *k*; bounded queues keep memory flat whatever the size.
* SQLite: ``executemany`` of the same rows, in one transaction.

**Nothing of a failed load remains**, in one of two ways (``workers``):

* ``workers=1`` (always on SQLite, and for PostgreSQL loads under 100,000 citizens): the whole
  load — the :class:`~dancu.blocks.registry.models.ImportBatch` row, every household, citizen,
  old number and card, and the audit event — is **one transaction**, rolled back on failure.
* ``workers≥2`` (default for large PostgreSQL loads: one session per core): each chunk is
  committed on its own by one of the parallel sessions; on failure every row of the batch is
  **deleted by batch** (:func:`discard_batch`). A load killed outright (power cut, ``kill -9``)
  leaves an unfinished batch (``finished_at`` empty): the next seed refuses to run until
  ``dancu seed --discard-unfinished`` has removed it. Readers see the rows while the load runs.

**No collisions**: loading into a registry that already holds citizens is refused unless
``append=True``; then every stored ID number, previous ID number, CMND number and household
number is reserved first, so the new numbers cannot collide (no IntegrityError half-way). One
loader runs at a time per database (an advisory lock).

Exactly one audit event (purpose ``system.import``) records the batch; it carries counts and the
batch id, never personal data.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue as queue_module
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from django.db import connections, transaction
from django.db.models import Max, Model
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.registry.models import (
    Citizen,
    Household,
    IdentityCard,
    IdNumberChange,
    ImportBatch,
    OldIdNumber,
)
from dancu.synthpop import names as N
from dancu.synthpop import reference as R
from dancu.synthpop.generator import (
    AS_OF,
    DEFAULT_CHUNK,
    Existing,
    Places,
    SynthpopError,
    generate,
    load_places,
)
from dancu.synthpop.render import (
    CARD_COLUMNS,
    CITIZEN_COLUMNS,
    HOUSEHOLD_COLUMNS,
    NULL,
    OLD_ID_COLUMNS,
    PIPELINE_THRESHOLD,
    IdBases,
    Payload,
    check_copy_safe,
    default_workers,
    peak_rss_kib,
    produce,
    render,
)

log = logging.getLogger(__name__)

ACTOR_LABEL = "dancu seed"
KIND = "synthetic"
AUDIT_ACTION = "registry.import"
_TABLES: tuple[tuple[type[Model], tuple[str, ...]], ...] = (
    (Household, HOUSEHOLD_COLUMNS),
    (Citizen, CITIZEN_COLUMNS),
    (OldIdNumber, OLD_ID_COLUMNS),
    (IdentityCard, CARD_COLUMNS),
)
_INT_COLUMNS = frozenset({"id", "created_batch_id", "household_id", "father_id", "mother_id", "spouse_id",
                          "citizen_id", "version"})  # fmt: skip


class SeedError(Exception):
    """The load cannot start or did not finish; ``option`` names the CLI option at fault ("" if
    none). Nothing was stored."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(message)


@dataclass(frozen=True)
class LoadResult:
    batch_id: int
    seed: int
    province: str
    as_of: date
    citizens: int
    households: int
    old_ids: int
    cards: int
    seconds: float
    backend: str
    workers: int
    pipelined: bool
    peak_rss_kib: int | None  # this process (VmHWM)
    producer_peak_rss_kib: int | None  # the producer process, when pipelined

    @property
    def rows(self) -> int:
        """Rows written to the four registry tables."""
        return self.citizens + self.households + self.old_ids + self.cards

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


# --------------------------------------------------------------------------- checks
def validate_options(n: object, seed: object, province: object, as_of: object = None) -> Places:
    """Check the options before anything is stored; returns the province's places.

    Raises :class:`SeedError` naming the option: ``citizens`` (a whole number ≥ 1), ``seed``
    (≥ 0), ``province`` (one of the 34 current province codes), ``as_of`` (not in the future).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SeedError("citizens", f"--citizens must be a whole number ≥ 1, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise SeedError("seed", f"--seed must be a whole number between 0 and 2^63−1, got {seed!r}")
    if not isinstance(province, str):
        raise SeedError("province", f"--province must be a 2-digit province code, got {province!r}")
    if as_of is not None and (not isinstance(as_of, date) or as_of > timezone.localdate()):
        raise SeedError("as_of", f"--as-of must be a date not in the future, got {as_of!r}")
    try:
        places = load_places(province)
    except SynthpopError as exc:
        raise SeedError(exc.option, f"--{exc}") from None
    _check_text_tables(places)
    return places


def _check_text_tables(places: Places) -> None:
    check_copy_safe(places.ward_suffix, "ward label")
    check_copy_safe(places.origin_text, "origin label")
    check_copy_safe(places.legacy_province_label.values(), "province label")
    tables = (N.MALE_MIDDLE, N.FEMALE_MIDDLE, N.MALE_GIVEN, N.FEMALE_GIVEN, R.STREETS, R.VILLAGE_NAMES)
    check_copy_safe([s for t in tables for s in t] + [s for s, _ in N.SURNAMES + N.SURNAME_TAIL], "name")


def _check_columns() -> None:
    """The rendered columns must be exactly the tables' columns (fails fast on schema drift)."""
    for model, columns in _TABLES:
        actual = {f.column for f in model._meta.concrete_fields}
        if actual != set(columns):
            raise SeedError(
                "",
                f"{model._meta.db_table}: the synthetic loader writes {sorted(columns)} but the table has "
                f"{sorted(actual)}; update dancu.synthpop.render",
            )


def default_as_of() -> date:
    """The generator's reference date, or today if that is earlier (nothing may lie in the future)."""
    return min(AS_OF, timezone.localdate())


# --------------------------------------------------------------------------- entry point
def load(
    n: int,
    *,
    seed: int = 0,
    province: str = "01",
    append: bool = False,
    chunk: int = DEFAULT_CHUNK,
    as_of: date | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    using: str = "default",
    note: str = "",
) -> LoadResult:
    """Generate ``n`` citizens (with households, old CMND numbers and cards) and store them.

    ``workers`` (PostgreSQL only) is the number of database sessions that COPY in parallel:

    * ``1``: the whole load is **one transaction** — on failure it is rolled back;
    * ``≥ 2`` (default for ``n ≥ 100,000``: one per core, at most 4): each chunk is copied and
      committed by one of the sessions (a chunk holds whole households, so every foreign key of a
      chunk points into the chunk or to the batch row); on failure every row of the batch is
      **deleted by batch** (:func:`discard_batch`) before the error is raised. Rows appear to
      readers while the load runs; the batch's ``finished_at`` is set at the end.

    Generation runs in a producer process whenever the load is large or parallel. ``progress`` is
    called with the number of citizens stored so far. Raises :class:`SeedError` (nothing of the
    load remains) for bad options, a non-empty registry without ``append``, an interrupted batch
    left by a crash, or any failure during the load.
    """
    started = time.perf_counter()
    as_of = as_of or default_as_of()
    places = validate_options(n, seed, province, as_of)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SeedError("workers", f"--workers must be a whole number ≥ 1, got {workers!r}")
    _check_columns()
    _ensure_adminunits(using)
    conn = connections[using]
    vendor = conn.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise SeedError("", f"the synthetic loader supports PostgreSQL and SQLite, not {vendor}")
    if vendor == "postgresql" and conn.in_atomic_block and (workers or 1) > 1:
        # Parallel sessions commit chunk by chunk and must see the batch row: not inside a
        # caller's transaction. The default falls back to one transaction; an explicit request fails.
        raise SeedError("workers", "--workers > 1 cannot run inside an open transaction; use 1")
    in_caller_tx = conn.in_atomic_block
    workers = 1 if vendor != "postgresql" or in_caller_tx else (workers or default_workers(n, vendor))
    use_producer = vendor == "postgresql" and (workers > 1 or n >= PIPELINE_THRESHOLD)
    counts = [0, 0, 0, 0]  # households, citizens, old ids, cards
    producer_rss: list[int | None] = [None]
    if vendor == "postgresql":
        _pg_exclusive_loader(conn)
    streams: list[Generator[Payload, None, None]] = []
    try:

        def payloads(plan: _Plan) -> Iterator[Payload]:
            job = plan.job(n, seed, province, chunk, as_of, places)
            streams.append(_produced(job, producer_rss) if use_producer else _inline(job))
            return streams[-1]

        def counted(payload: Payload) -> None:
            counts[0] += payload.household_rows
            counts[1] += payload.citizen_rows
            counts[2] += payload.old_id_rows
            counts[3] += payload.card_rows
            if progress is not None:
                progress(counts[1])

        if workers == 1:
            with transaction.atomic(using=using):
                plan = _begin(conn, using, n, seed, province, as_of, append, note)
                for payload in payloads(plan):
                    if vendor == "postgresql":
                        _pg_copy(conn.connection, payload)
                    else:
                        _executemany(conn, payload)
                    counted(payload)
                _finish(conn, using, plan, counts)
        else:
            with transaction.atomic(using=using):
                plan = _begin(conn, using, n, seed, province, as_of, append, note)
            try:
                _parallel_copy(conn, workers, payloads(plan), counted)
                with transaction.atomic(using=using):
                    _finish(conn, using, plan, counts)
            except BaseException:
                log.warning("synthpop.load_failed batch=%s: discarding its rows", plan.batch_id)
                discard_batch(plan.batch_id, using=using)
                raise
    finally:
        for stream in streams:  # stops the producer process if the load ended early
            stream.close()
        if vendor == "postgresql":
            _pg_exclusive_loader(conn, release=True)
    seconds = time.perf_counter() - started
    log.info(
        "synthpop.loaded batch=%s citizens=%s rows=%s workers=%s seconds=%.1f",
        plan.batch_id, counts[1], sum(counts), workers, seconds,
    )  # fmt: skip
    return LoadResult(
        batch_id=plan.batch_id, seed=seed, province=province, as_of=as_of, citizens=counts[1],
        households=counts[0], old_ids=counts[2], cards=counts[3], seconds=seconds, backend=vendor,
        workers=workers, pipelined=use_producer, peak_rss_kib=peak_rss_kib(),
        producer_peak_rss_kib=producer_rss[0],
    )  # fmt: skip


@dataclass(frozen=True)
class _Plan:
    batch_id: int
    bases: IdBases
    seqs: list[tuple[str, int, int]]
    existing: Existing | None
    created_text: str

    def job(
        self, n: int, seed: int, province: str, chunk: int, as_of: date, places: Places
    ) -> dict[str, Any]:
        return {
            "n": n, "seed": seed, "province": province, "chunk": chunk, "as_of": as_of, "places": places,
            "existing": self.existing, "bases": self.bases, "batch_id": self.batch_id,
            "created_at": self.created_text,
        }  # fmt: skip


def _begin(
    conn: Any, using: str, n: int, seed: int, province: str, as_of: date, append: bool, note: str
) -> _Plan:
    """Inside a transaction: lock, check the registry, reserve numbers and ids, create the batch."""
    postgres = conn.vendor == "postgresql"
    if postgres:
        _pg_lock(conn)
    unfinished = list(
        ImportBatch.objects.using(using)
        .filter(kind=KIND, finished_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if unfinished:
        raise SeedError(
            "discard_unfinished",
            f"synthetic batch(es) {', '.join(map(str, unfinished))} were interrupted (a load crashed) and "
            "still hold rows; run `dancu seed --discard-unfinished` to remove them first",
        )
    stored = Citizen.objects.using(using).count()
    if stored and not append:
        raise SeedError(
            "append",
            f"the registry already holds {stored:,} citizens; pass --append to add a synthetic population "
            "alongside them (numbers already stored are reserved, so nothing collides)",
        )
    existing = _existing_numbers(using, province) if stored or append else None
    now = timezone.now()
    batch = ImportBatch.objects.using(using).create(
        kind=KIND,
        started_at=now,
        seed=seed,
        actor_label=ACTOR_LABEL,
        legal_basis=get_purpose("system.import").legal_basis,
        note=note
        or f"synthetic population (test data, not real people): province {province}, seed {seed}, "
        f"as of {as_of.isoformat()}",
    )
    if postgres:
        bases, seqs = _pg_reserve(conn, n)
        return _Plan(batch.pk, bases, seqs, existing, now.isoformat())
    return _Plan(batch.pk, _next_ids(using), [], existing, str(conn.ops.adapt_datetimefield_value(now)))


def _finish(conn: Any, using: str, plan: _Plan, counts: list[int]) -> None:
    """Inside a transaction: give back unused ids, close the batch, record the one audit event."""
    if conn.vendor == "postgresql":
        _pg_lock(conn)
        _pg_release(conn, plan.seqs, counts)
    batch = ImportBatch.objects.using(using).get(pk=plan.batch_id)
    batch.rows = counts[1]
    batch.finished_at = timezone.now()
    batch.note += (
        f"; {counts[1]:,} citizens in {counts[0]:,} households, {counts[2]:,} old CMND numbers, "
        f"{counts[3]:,} identity cards"
    )
    batch.save(update_fields=["rows", "finished_at", "note"])
    audit.record(
        AccessContext(actor=Actor.system(ACTOR_LABEL), purpose="system.import"),
        AUDIT_ACTION,
        detail={
            "batch_id": batch.pk, "kind": KIND, "seed": batch.seed, "citizens": counts[1],
            "households": counts[0], "old_id_numbers": counts[2], "cards": counts[3],
        },
    )  # fmt: skip


def discard_batch(batch_id: int, *, using: str = "default") -> int:
    """Delete every row a synthetic batch stored (cards, old numbers, citizens, households, the
    batch itself) in one transaction; returns the number of citizens deleted."""
    conn = connections[using]
    q = conn.ops.quote_name  # identifiers below come from model metadata, values are parameters
    citizen, household = q(Citizen._meta.db_table), q(Household._meta.db_table)
    members = f"SELECT id FROM {citizen} WHERE created_batch_id = %s"  # noqa: S608
    with transaction.atomic(using=using), conn.cursor() as cur:
        if not ImportBatch.objects.using(using).filter(pk=batch_id, kind=KIND).exists():
            raise SeedError("discard_unfinished", f"no synthetic batch {batch_id}")
        for model in (IdentityCard, OldIdNumber):
            table = q(model._meta.db_table)
            cur.execute(f"DELETE FROM {table} WHERE citizen_id IN ({members})", [batch_id])  # noqa: S608
        probes = _pg_self_link_probes(cur, citizen) if conn.vendor == "postgresql" else []
        cur.execute(f"DELETE FROM {citizen} WHERE created_batch_id = %s", [batch_id])  # noqa: S608
        deleted = cur.rowcount
        for name in probes:
            cur.execute(f"DROP INDEX {q(name)}")
        if probes:
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
        cur.execute(f"DELETE FROM {household} WHERE created_batch_id = %s", [batch_id])  # noqa: S608
        ImportBatch.objects.using(using).filter(pk=batch_id).delete()
    return int(deleted)


# The citizen's links to other citizens: foreign keys without an index (a hot path follows them
# from the citizen, never backwards; registry/models.py).
SELF_LINKS = ("father_id", "mother_id", "spouse_id")


def _pg_self_link_probes(cur: Any, citizen: str) -> list[str]:
    """PostgreSQL: make the deletion of a batch's citizens check its self-references by index.

    Deleting a citizen makes PostgreSQL check, for each of the three self-referencing foreign keys,
    that no citizen still points at it (``SELECT 1 … WHERE father_id = $1``, one per deleted row).
    Those columns have no index — a load would pay for three more indexes on every row — so each
    check would scan the whole table: 50,000 deleted citizens, 150,000 scans of it (the loader's
    failure test ran for over ten minutes at the ``COMMIT`` where the deferred checks run). Here,
    inside the discard's transaction, a partial index per column (``IS NOT NULL``: only linked
    rows) is built once, the checks are made immediate so that they run at the end of the
    ``DELETE`` while the indexes exist, and the caller drops the indexes before the commit: nothing
    of them outlives the transaction, and a failure rolls them back with the rest."""
    names = []
    for column in SELF_LINKS:
        name = f"discard_probe_{column}"
        cur.execute(f"CREATE INDEX {name} ON {citizen} ({column}) WHERE {column} IS NOT NULL")
        names.append(name)
    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return names


def discard_unfinished(*, using: str = "default") -> list[int]:
    """Remove the rows of synthetic batches that never finished (a parallel load that crashed)."""
    conn = connections[using]
    if conn.vendor == "postgresql":
        _pg_exclusive_loader(conn)
    try:
        ids = list(
            ImportBatch.objects.using(using)
            .filter(kind=KIND, finished_at__isnull=True)
            .values_list("pk", flat=True)
        )
        for batch_id in ids:
            discard_batch(batch_id, using=using)
        return ids
    finally:
        if conn.vendor == "postgresql":
            _pg_exclusive_loader(conn, release=True)


def _ensure_adminunits(using: str) -> None:
    """The administrative units must be in the database first (``load_adminunits``)."""
    from dancu.blocks.adminunits import services as units

    ensure = getattr(units, "ensure_loaded", None)
    if ensure is None:  # pragma: no cover - the block provides it
        raise SeedError("", "administrative units are not loaded: run `dancu load_adminunits` first")
    if using != "default":  # pragma: no cover - the units loader works on the default database
        return
    ensure()


# --------------------------------------------------------------------------- producers
def _inline(job: dict[str, Any]) -> Generator[Payload, None, None]:
    for chunk in generate(
        job["n"], seed=job["seed"], province=job["province"], chunk=job["chunk"], as_of=job["as_of"],
        places=job["places"], existing=job["existing"],
    ):  # fmt: skip
        yield render(chunk, job["bases"], job["batch_id"], job["created_at"])


def _produced(job: dict[str, Any], rss: list[int | None]) -> Generator[Payload, None, None]:
    """Payloads from a producer process ("spawn": safe with threads and open connections)."""
    ctx = multiprocessing.get_context("spawn")
    q: Any = ctx.Queue(maxsize=2)
    proc = ctx.Process(target=produce, args=(q, job), name="dancu-seed-producer", daemon=True)
    proc.start()
    try:
        while True:
            try:
                msg = q.get(timeout=5)
            except queue_module.Empty:
                if not proc.is_alive():
                    raise SeedError(
                        "", f"the generator process stopped unexpectedly (exit code {proc.exitcode})"
                    ) from None
                continue
            if msg[0] == "chunk":
                yield msg[1]
            elif msg[0] == "done":
                rss[0] = msg[1]
                return
            else:
                raise SeedError(msg[1], msg[2])
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=10)
        q.close()


# --------------------------------------------------------------------------- PostgreSQL
_ADVISORY_KEY = 0x64616E6375  # "dancu": one synthetic loader at a time per database


def _pg_exclusive_loader(conn: Any, *, release: bool = False) -> None:
    """A session-level advisory lock: one loader at a time, so an unfinished batch seen by a
    loader holding it was left by a crash, not by a load still running."""
    with conn.cursor() as cur:
        if release:
            cur.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_KEY])
            return
        cur.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_KEY])
        if not cur.fetchone()[0]:
            raise SeedError("", "another synthetic-population load is running on this database; wait for it")


def _pg_lock(conn: Any) -> None:
    """Lock the registry tables against other writers for this transaction (readers go on)."""
    tables = [m._meta.db_table for m, _ in _TABLES] + [IdNumberChange._meta.db_table]
    with conn.cursor() as cur:
        cur.execute(
            f"LOCK TABLE {', '.join(conn.ops.quote_name(t) for t in tables)} IN SHARE ROW EXCLUSIVE MODE"
        )


def _pg_reserve(conn: Any, n: int) -> tuple[IdBases, list[tuple[str, int, int]]]:
    """Take a block of ``n`` ids from each table's sequence (an upper bound for every table: a
    load has at most one household, one old number and one card per citizen)."""
    bases: list[int] = []
    seqs: list[tuple[str, int, int]] = []
    with conn.cursor() as cur:
        for model, _ in _TABLES:
            table = model._meta.db_table
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            seq = cur.fetchone()[0]
            top = f"SELECT COALESCE(MAX(id), 0) + 1 FROM {conn.ops.quote_name(table)}"  # noqa: S608
            cur.execute(f"SELECT GREATEST(nextval(%s), ({top}))", [seq])
            base = int(cur.fetchone()[0])
            cur.execute("SELECT setval(%s, %s)", [seq, base + n - 1])
            bases.append(base)
            seqs.append((seq, base, base + n - 1))
    return IdBases(household=bases[0], citizen=bases[1], old_id=bases[2], card=bases[3]), seqs


def _pg_release(conn: Any, seqs: list[tuple[str, int, int]], counts: list[int]) -> None:
    """Give back the unused end of each reserved block (if no one moved the sequence since)."""
    with conn.cursor() as cur:
        for (seq, base, reserved_end), used in zip(seqs, counts, strict=True):
            cur.execute("SELECT pg_sequence_last_value(%s::regclass)", [seq])
            if int(cur.fetchone()[0]) != reserved_end:
                continue
            if used:
                cur.execute("SELECT setval(%s, %s)", [seq, base + used - 1])
            else:
                cur.execute("SELECT setval(%s, %s, false)", [seq, base])


def _pg_copy(raw: Any, payload: Payload) -> None:
    """COPY one chunk's four tables on a psycopg 3 connection, inside its current transaction.

    Foreign keys are checked at the end of each COPY (``SET CONSTRAINTS ALL IMMEDIATE``): a chunk
    holds whole households, and its households and citizens are copied before its cards, so
    every reference is already there — and the server does not queue millions of deferred checks
    for the commit."""
    with raw.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for (model, columns), data in zip(
            _TABLES, (payload.households, payload.citizens, payload.old_ids, payload.cards), strict=True
        ):
            if not data:
                continue
            with cur.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(data)


def _parallel_copy(
    conn: Any, workers: int, payloads: Iterator[Payload], counted: Callable[[Payload], None]
) -> None:
    """COPY chunks on ``workers`` extra sessions, each chunk in its own committed transaction."""
    params = conn.get_connection_params()
    todo: queue_module.Queue[Payload | None] = queue_module.Queue(maxsize=workers)
    done: queue_module.Queue[Payload] = queue_module.Queue()
    failures: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        try:
            raw = conn.get_new_connection(params)
            try:
                while not stop.is_set():
                    payload = todo.get()
                    if payload is None:
                        return
                    with raw.transaction():
                        _pg_copy(raw, payload)
                    done.put(payload)
            finally:
                raw.close()
        except BaseException as exc:
            failures.append(exc)
            stop.set()

    threads = [
        threading.Thread(target=work, name=f"dancu-seed-copy-{i}", daemon=True) for i in range(workers)
    ]
    for t in threads:
        t.start()

    def drain() -> None:
        while not done.empty():
            counted(done.get())
        if failures:
            raise failures[0]

    try:
        for payload in payloads:
            while True:
                drain()
                try:
                    todo.put(payload, timeout=1)
                    break
                except queue_module.Full:
                    continue
        for _ in threads:
            while True:
                drain()
                try:
                    todo.put(None, timeout=1)
                    break
                except queue_module.Full:
                    continue
        for t in threads:
            while t.is_alive():
                t.join(timeout=1)
                drain()
        drain()
    finally:
        stop.set()
        for _ in threads:  # wake any worker still waiting for work
            try:
                todo.put_nowait(None)
            except queue_module.Full:
                break
        for t in threads:
            t.join(timeout=60)


# --------------------------------------------------------------------------- SQLite
def _next_ids(using: str) -> IdBases:
    bases = [(m._default_manager.using(using).aggregate(m=Max("id"))["m"] or 0) + 1 for m, _ in _TABLES]
    return IdBases(household=bases[0], citizen=bases[1], old_id=bases[2], card=bases[3])


def _executemany(conn: Any, payload: Payload) -> None:
    """SQLite: the same rows as the COPY text, inserted with ``executemany``."""
    q = conn.ops.quote_name
    with conn.cursor() as cur:
        for (model, columns), data in zip(
            _TABLES, (payload.households, payload.citizens, payload.old_ids, payload.cards), strict=True
        ):
            if not data:
                continue
            ints = [i for i, c in enumerate(columns) if c in _INT_COLUMNS]
            rows = []
            for line in data.decode().splitlines():
                values: list[Any] = [None if v == NULL else v for v in line.split("\t")]
                for i in ints:
                    if values[i] is not None:
                        values[i] = int(values[i])
                rows.append(values)
            names = ", ".join(q(c) for c in columns)
            placeholders = ", ".join(["%s"] * len(columns))
            table = q(model._meta.db_table)
            cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)  # noqa: S608


# --------------------------------------------------------------------------- appending
def _existing_numbers(using: str, province: str) -> Existing:
    """Every stored number an appended population must avoid."""

    def digits(values: Iterator[str], length: int) -> np.ndarray:
        return np.fromiter(
            (int(v) for v in values if v and len(v) == length and v.isascii() and v.isdigit()), dtype=np.int64
        )

    ids = np.concatenate(
        [
            digits(Citizen.objects.using(using).values_list("id_number", flat=True).iterator(100_000), 12),
            digits(
                IdNumberChange.objects.using(using).values_list("old_number", flat=True).iterator(100_000), 12
            ),
        ]
    )
    cmnd = digits(OldIdNumber.objects.using(using).values_list("number", flat=True).iterator(100_000), 9)
    prefix = f"HK{province}"
    last = (
        Household.objects.using(using)
        .filter(household_number__startswith=prefix, household_number__regex=rf"^{prefix}[0-9]{{9}}$")
        .aggregate(m=Max("household_number"))["m"]
    )
    return Existing(
        id_numbers=ids, cmnd_numbers=cmnd, next_household_serial=int(last[len(prefix) :]) + 1 if last else 1
    )
