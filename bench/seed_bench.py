"""Seeding benchmark: the synthetic-population loader against a plain COPY of the same rows.

Runs against PostgreSQL, in a database it creates and drops (``dancu_bench`` by default), and
measures in one run:

(a) the loader (``dancu.synthpop.loader.load``) generating and loading N citizens (default
    1,000,000) with its households, old CMND numbers and cards;
(b) a plain ``COPY`` of exactly the same rows, pre-rendered to files beforehand (rendering not
    timed), into the same freshly migrated empty tables with the same indexes, foreign keys and
    session settings (``SET CONSTRAINTS ALL IMMEDIATE``): once in one session, once split over as
    many sessions as the loader uses;
(c) with ``--full``: the loader with 8,500,000 citizens (takes minutes);
(d) the loader's peak resident memory (``VmHWM``) of its main and producer processes.

Every run starts from a fresh database (created, migrated, administrative units loaded) and a
``CHECKPOINT``. Usage (see bench/README.md)::

    DANCU_BENCH_DSN=postgres://postgres@127.0.0.1:5432 .venv/bin/python bench/seed_bench.py [--full]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

TABLES = ("households", "citizens", "old_ids", "cards")
GIB = 1024 * 1024  # KiB


# --------------------------------------------------------------------------- helpers
def _env(dsn: str, db: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{dsn.rstrip('/')}/{db}",
        "DJANGO_SETTINGS_MODULE": "dancu.test_settings",
        "PYTHONPATH": str(SRC),
    }


def _psql_admin(dsn: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{dsn.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(dsn: str, db: str) -> None:
    """Drop, create, migrate, load the administrative units, checkpoint."""
    _psql_admin(dsn, f'DROP DATABASE IF EXISTS "{db}"')
    _psql_admin(dsn, f'CREATE DATABASE "{db}"')
    env = _env(dsn, db)
    for args in (["migrate", "-v0"], ["load_adminunits", "-v0"]):
        subprocess.run([sys.executable, "-m", "django", *args], env=env, check=True, cwd=ROOT)
    _psql_admin(dsn, "CHECKPOINT")


def drop_database(dsn: str, db: str) -> None:
    _psql_admin(dsn, f'DROP DATABASE IF EXISTS "{db}"')


def machine() -> dict[str, str]:
    def run(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S602

    return {
        "nproc": run("nproc"),
        "cpu": run("lscpu | grep 'Model name'").split(":", 1)[-1].strip(),
        "memory": run("free -g | awk '/^Mem:/ {print $2 \" GiB total\"}'"),
        "python": platform.python_version(),
    }


def server(dsn: str, db: str) -> dict[str, str]:
    import psycopg

    names = (
        "server_version",
        "shared_buffers",
        "max_wal_size",
        "wal_buffers",
        "checkpoint_timeout",
        "synchronous_commit",
    )
    with psycopg.connect(f"{dsn.rstrip('/')}/{db}") as conn:
        return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


# --------------------------------------------------------------------------- (a), (c): the loader
def run_loader(dsn: str, db: str, n: int, seed: int, as_of: date, workers: int | None) -> dict[str, Any]:
    """The loader in a fresh Python process (so its VmHWM is the loader's alone). Also records the
    1-minute load average at the end (2 = both cores busy; more means other work competed)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_load", str(n), str(seed), as_of.isoformat()]
    if workers:
        cmd.append(str(workers))
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=_env(dsn, db), capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"loader failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_seconds"] = wall
    result["loadavg_1min_at_end"] = os.getloadavg()[0]
    return result


def _load_worker(n: int, seed: int, as_of: str, workers: int | None) -> None:
    import django

    django.setup()
    from dancu.synthpop.loader import load

    r = load(n, seed=seed, as_of=date.fromisoformat(as_of), workers=workers)
    print(
        json.dumps(
            {
                "seconds": r.seconds, "citizens": r.citizens, "households": r.households,
                "old_ids": r.old_ids, "cards": r.cards, "rows": r.rows, "workers": r.workers,
                "peak_rss_kib": r.peak_rss_kib, "producer_peak_rss_kib": r.producer_peak_rss_kib,
                "batch_id": r.batch_id,
            }
        )
    )  # fmt: skip


# --------------------------------------------------------------------------- (b): plain COPY
def prerender(n: int, seed: int, as_of: date, directory: Path) -> tuple[dict[str, int], list[str]]:
    """The rows the loader writes into a fresh database (ids from 1, batch 1), rendered by the
    loader's own renderer: one file set per chunk (``<table>.c0001.tsv``) and one per table for
    the whole population (``<table>.all.tsv``). Returns the row counts and the chunk set names."""
    from dancu.synthpop.generator import generate
    from dancu.synthpop.render import IdBases, render

    counts = dict.fromkeys(TABLES, 0)
    sets: list[str] = []
    created = "2026-11-26T00:00:00+00:00"
    whole = {t: open(directory / f"{t}.all.tsv", "wb") for t in TABLES}  # noqa: SIM115
    try:
        for chunk in generate(n, seed=seed, as_of=as_of):
            payload = render(chunk, IdBases(1, 1, 1, 1), 1, created)
            name = f"c{chunk.number:04d}"
            sets.append(name)
            for t in TABLES:
                data = getattr(payload, t)
                (directory / f"{t}.{name}.tsv").write_bytes(data)
                whole[t].write(data)
            counts["households"] += payload.household_rows
            counts["citizens"] += payload.citizen_rows
            counts["old_ids"] += payload.old_id_rows
            counts["cards"] += payload.card_rows
    finally:
        for fh in whole.values():
            fh.close()
    return counts, sets


def plain_copy(dsn: str, db: str, directory: Path, sets: list[str], sessions: int) -> float:
    """Server-side ``COPY … FROM 'file'`` of the file sets, each set in one transaction (with
    ``SET CONSTRAINTS ALL IMMEDIATE`` as the loader), taken in order by ``sessions`` concurrent
    sessions from a shared queue (as the loader's sessions take chunks); returns wall seconds."""
    import queue

    import psycopg

    from dancu.synthpop.render import CARD_COLUMNS, CITIZEN_COLUMNS, HOUSEHOLD_COLUMNS, OLD_ID_COLUMNS

    columns = dict(
        zip(TABLES, (HOUSEHOLD_COLUMNS, CITIZEN_COLUMNS, OLD_ID_COLUMNS, CARD_COLUMNS), strict=True)
    )
    tables = ("registry_household", "registry_citizen", "registry_oldidnumber", "registry_identitycard")
    names = dict(zip(TABLES, tables, strict=True))
    url = f"{dsn.rstrip('/')}/{db}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO registry_importbatch (id, kind, started_at, rows, seed, actor_label, legal_basis, "
            "note) VALUES (1, 'synthetic', now(), 0, 0, 'bench', 'bench', 'plain COPY baseline')"
        )
    todo: queue.Queue[str] = queue.Queue()
    for name in sets:
        todo.put(name)
    errors: list[BaseException] = []

    def session() -> None:
        try:
            with psycopg.connect(url) as conn:
                while True:
                    try:
                        name = todo.get_nowait()
                    except queue.Empty:
                        return
                    with conn.transaction():
                        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        for t in TABLES:
                            path = directory / f"{t}.{name}.tsv"
                            if path.stat().st_size:
                                conn.execute(f"COPY {names[t]} ({', '.join(columns[t])}) FROM '{path}'")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session) for _ in range(sessions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return seconds


# --------------------------------------------------------------------------- main
def _rss(result: dict[str, Any]) -> str:
    main, producer = result["peak_rss_kib"] or 0, result["producer_peak_rss_kib"] or 0
    return f"peak RSS (VmHWM) main {main / 1024:.0f} MiB, producer {producer / 1024:.0f} MiB"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        _load_worker(
            int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else None
        )
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dsn", default=os.environ.get("DANCU_BENCH_DSN", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--db", default="dancu_bench", help="database to create and drop (default dancu_bench)"
    )
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="loader sessions (default: the loader's)")
    parser.add_argument("--full", action="store_true", help="also load 8,500,000 citizens (minutes)")
    parser.add_argument("--full-citizens", type=int, default=8_500_000)
    parser.add_argument(
        "--full-only",
        action="store_true",
        help="only the full city, (c) and (d): no 1M run and no plain-COPY baselines "
        "(to compare server settings)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--keep-full",
        metavar="DB",
        help="load the --full run into database DB and keep it (for bench/lookup_bench.py --reuse)",
    )
    args = parser.parse_args()

    as_of = date(2026, 11, 26)
    env_workers = args.workers
    out: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(sys.argv),
    }
    print(f"machine: {out['machine']}", flush=True)
    n = args.citizens
    try:
        if not args.full_only:
            # (b) plain COPY of the same rows: render first (not timed), then COPY into fresh tables.
            from dancu.synthpop.render import default_workers

            sessions = env_workers or default_workers(n, "postgresql")
            with tempfile.TemporaryDirectory(prefix="dancu-seed-bench-") as tmp:
                directory = Path(tmp)
                directory.chmod(0o755)  # the database server reads the files
                t0 = time.perf_counter()
                counts, sets = prerender(n, args.seed, as_of, directory)
                for f in directory.iterdir():
                    f.chmod(0o644)
                rows = sum(counts.values())
                print(
                    f"pre-rendered {rows:,} rows in {time.perf_counter() - t0:.1f} s (not timed)", flush=True
                )
                plain: dict[str, Any] = {"rows": rows, **counts}
                variants = (
                    ("whole", ["all"], 1, "one COPY per table, 1 session, 1 transaction"),
                    ("chunks", sets, 1, f"the loader's {len(sets)} chunks, 1 session"),
                    (
                        "chunks_parallel",
                        sets,
                        sessions,
                        f"the loader's {len(sets)} chunks, {sessions} sessions",
                    ),
                )
                for label, file_sets, k, text in variants:
                    fresh_database(args.dsn, args.db)
                    out.setdefault("server", server(args.dsn, args.db))
                    seconds = plain_copy(args.dsn, args.db, directory, file_sets, k)
                    plain[label] = {
                        "what": text,
                        "sessions": k,
                        "seconds": seconds,
                        "rows_per_second": rows / seconds,
                    }
                    print(f"plain COPY, {text}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s", flush=True)
            out["plain_copy"] = plain

            # (a) + (d) the loader on a fresh database.
            fresh_database(args.dsn, args.db)
            loader = run_loader(args.dsn, args.db, n, args.seed, as_of, env_workers)
            assert loader["rows"] == rows, "the loader and the plain COPY must write the same rows"
            loader["rows_per_second"] = loader["rows"] / loader["seconds"]
            out["loader"] = loader
            labels = ("whole", "chunks", "chunks_parallel")
            for label in labels:
                loader[f"ratio_to_plain_{label}"] = (
                    loader["rows_per_second"] / plain[label]["rows_per_second"]
                )
            ratios = ", ".join(f"{loader[f'ratio_to_plain_{label}']:.0%}" for label in labels)
            print(
                f"loader, {loader['workers']} session(s): {loader['seconds']:.1f} s, "
                f"{loader['rows_per_second']:,.0f} rows/s = {ratios} of the three plain COPY rates; "
                f"{_rss(loader)}",
                flush=True,
            )

        # (c) the full city.
        if args.full or args.full_only:
            full_db = args.keep_full or args.db
            fresh_database(args.dsn, full_db)
            out.setdefault("server", server(args.dsn, full_db))
            full = run_loader(args.dsn, full_db, args.full_citizens, args.seed, as_of, env_workers)
            full["rows_per_second"] = full["rows"] / full["seconds"]
            out["full"] = full
            print(
                f"loader, {args.full_citizens:,} citizens: {full['seconds']:.1f} s "
                f"({full['seconds'] / 60:.1f} min), {full['rows']:,} rows, "
                f"{full['rows_per_second']:,.0f} rows/s; {_rss(full)}",
                flush=True,
            )
    finally:
        drop_database(args.dsn, args.db)

    checks: dict[str, bool] = {}
    if not args.full_only:
        checks["loader ≤ 60 s for 1,000,000 citizens"] = n != 1_000_000 or out["loader"]["seconds"] <= 60
        checks["loader ≥ 70 % of plain COPY (every baseline)"] = (
            min(out["loader"][f"ratio_to_plain_{label}"] for label in ("whole", "chunks", "chunks_parallel"))
            >= 0.70
        )
    checks["peak RSS ≤ 1 GiB (each process)"] = all(
        (r.get(k) or 0) <= GIB
        for r in (out.get("loader", {}), out.get("full", {}))
        for k in ("peak_rss_kib", "producer_peak_rss_kib")
    )
    if args.full or args.full_only:
        checks["8,500,000 citizens ≤ 8 min"] = out["full"]["seconds"] <= 480
    out["checks"] = checks
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
