"""The PostgreSQL server settings a benchmark runs under: show them, apply the project's production
settings (``docs/deploy/postgresql.conf``), or put the server back to its defaults.

The benchmarks measure the platform as it is deployed, and a deployed database server is sized for
its machine: ``docs/deploy/postgresql.conf`` (a quarter of memory as ``shared_buffers``, WAL sized
for bulk loads, ``jit`` off …). A development machine's server usually runs with PostgreSQL's
defaults (``shared_buffers`` 128 MB), under which the 8.5-million-citizen registry is ~25 times the
buffer cache. Every benchmark result records the settings it ran under (:func:`settings`, in its
JSON as ``postgres``), so figures from the two configurations are never mixed up.

    .venv/bin/python bench/pg_config.py show
    .venv/bin/python bench/pg_config.py apply      # ALTER SYSTEM each setting of the file, restart
    .venv/bin/python bench/pg_config.py reset      # ALTER SYSTEM RESET each of them, restart
    .venv/bin/python bench/pg_config.py prewarm --database dancu_lookup

``prewarm`` reads the registry's tables and indexes that a verification or a look-up touches into
the buffer cache (``pg_prewarm``, PostgreSQL's contrib): the state of a server that has been
answering for a while (which ``pg_prewarm.autoprewarm`` also restores after a restart), instead of
the first minutes after a restart, when every random citizen is a read from the OS cache.

``apply`` and ``reset`` restart the local cluster (``pg_ctlcluster``, Debian's packaging; run as
root or postgres) — every open connection is dropped, so run them between benchmarks, never
during one or during a test run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "docs" / "deploy" / "postgresql.conf"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
# What a report names: the memory and WAL settings that change the server's CPU per statement.
SHOWN = (
    "server_version", "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem",
    "wal_buffers", "max_wal_size", "min_wal_size", "checkpoint_timeout", "synchronous_commit",
    "fsync", "autovacuum", "jit", "random_page_cost",
)  # fmt: skip
_LINE = re.compile(r"^\s*([a-z_]+)\s*=\s*([^#]+?)\s*(?:#.*)?$")


def file_settings(path: Path = CONF) -> dict[str, str]:
    """The ``name = value`` lines of a postgresql.conf fragment (comments dropped)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(1)] = m.group(2).strip().strip("'")
    return out


def settings(server: str = DEFAULT_SERVER) -> dict[str, Any]:
    """The running server's values of :data:`SHOWN`, and whether they are the production file's
    (``production``: every setting of ``docs/deploy/postgresql.conf`` in force)."""
    import psycopg

    with psycopg.connect(_admin_url(server), autocommit=True) as conn:
        return describe(lambda name: str(conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]))  # type: ignore[index]


def describe(current: Callable[[str], str]) -> dict[str, Any]:
    """:func:`settings` through ``current(name)``, the server's ``current_setting(name)`` on any
    connection (a benchmark's own Django connection, say)."""
    out: dict[str, Any] = {name: current(name) for name in SHOWN}
    out["production"] = all(_same(current(name), value) for name, value in file_settings().items())
    return out


def _same(current: str, wanted: str) -> bool:
    """``6GB`` and ``6GB``, ``15min`` and ``15min``, ``off`` and ``off`` (PostgreSQL shows a value in
    the unit it was set in when that is exact, as the file writes them)."""
    return current.replace(" ", "").lower() == wanted.replace(" ", "").lower()


def _admin_url(server: str) -> str:
    """``server`` on its ``postgres`` database (a server URL without one, as the benchmarks take)."""
    tail = server.rpartition("/")[2]
    return server if tail and ":" not in tail and "@" not in tail else server.rstrip("/") + "/postgres"


def _restart() -> None:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    if not versions:
        sys.exit("no cluster under /etc/postgresql")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"], check=True
    )


def _wait(server: str, seconds: float = 60.0) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(_admin_url(server), autocommit=True, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def alter(server: str, *, reset: bool) -> None:
    """``ALTER SYSTEM`` (or ``ALTER SYSTEM RESET``) each setting of the production file, then
    restart the cluster and wait until it answers."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin_url(server), autocommit=True) as conn:
        for name, value in file_settings().items():
            if reset:
                conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
            else:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
                )
    _restart()
    _wait(server)


# The registry's relations a yes/no verification or a look-up by ID number reads (ADR 0006, ADR 0014).
# The verification statement probes ``card_number`` and ``old_id_number`` (its EXPLAIN, 2026-12-03).
REGISTRY = (
    "citizen_id_number_unique", "registry_citizen",
    "card_number", "registry_identitycard_citizen_id_972064bd", "registry_identitycard",
    "old_id_number", "registry_oldidnumber_citizen_id_1f6821c7", "registry_oldidnumber",
)  # fmt: skip


def prewarm(server: str, database: str, relations: tuple[str, ...] = REGISTRY) -> dict[str, int]:
    """Read ``relations`` of ``database`` into the buffer cache; the blocks read per relation."""
    import psycopg

    url = _admin_url(server).rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        return {
            name: int(conn.execute("SELECT pg_prewarm(%s::regclass)", (name,)).fetchone()[0])  # type: ignore[index]
            for name in relations
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=("show", "apply", "reset", "prewarm"))
    ap.add_argument("--server", default=DEFAULT_SERVER)
    ap.add_argument("--database", default="dancu_lookup", help="prewarm: the database")
    args = ap.parse_args()
    if args.action == "prewarm":
        t0 = time.monotonic()
        blocks = prewarm(args.server, args.database)
        print(json.dumps({"blocks": blocks, "seconds": round(time.monotonic() - t0, 1)}, indent=2))
        return
    if args.action != "show":
        alter(args.server, reset=args.action == "reset")
    print(json.dumps(settings(args.server), indent=2))


if __name__ == "__main__":
    main()
