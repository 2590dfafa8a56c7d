"""Render generated chunks as PostgreSQL ``COPY … FROM STDIN`` text, and the producer process.

This module imports no Django model, so that :func:`produce` can run in a spawned process: the
loader's producer generates and renders chunk *k+1* while PostgreSQL ingests chunk *k* on the
other core. Rows carry explicit primary keys (id bases allocated by the loader before the
producer starts), so father/mother/spouse/household links are plain numbers.

Text format (PostgreSQL docs, "COPY — Text Format"): tab-separated, ``\\N`` for NULL. Every text
value comes from fixed tables (names, streets) or the administrative-unit data, checked once by
:func:`check_copy_safe`, so no per-value escaping is needed.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from dancu.synthpop.generator import I64, NO_DATE, Chunk, Existing, Places, SynthpopError, generate

HOUSEHOLD_COLUMNS = (
    "id", "household_number", "address_text", "legacy_ward_code", "ward_code", "created_batch_id",
    "created_at",
)  # fmt: skip
CITIZEN_COLUMNS = (
    "id", "id_number", "full_name", "family_name", "middle_name", "given_name", "name_folded",
    "date_of_birth", "dob_precision", "sex", "ethnicity", "religion", "birth_registration_code",
    "origin_text", "origin_legacy_ward_code", "permanent_address_text", "permanent_legacy_ward_code",
    "permanent_ward_code", "household_id", "relationship_to_head", "father_id", "mother_id", "spouse_id",
    "life_status", "date_of_death",
    # constant columns last (rendered as one suffix)
    "permanent_province_code", "nationality", "temporary_address_text", "temporary_ward_code", "version",
    "created_batch_id", "created_at", "updated_at",
)  # fmt: skip
OLD_ID_COLUMNS = ("id", "citizen_id", "number", "issued_on", "issue_place")
CARD_COLUMNS = ("id", "citizen_id", "kind", "card_number", "issued_on", "expires_on", "status")
NULL = "\\N"
PIPELINE_THRESHOLD = 100_000  # below this many citizens, generate in-process (no producer start-up)
_UNSAFE = frozenset("\t\n\r\\")


@dataclass(frozen=True)
class IdBases:
    """First primary key of each table for this load: row ``i`` of the population gets ``base + i``."""

    household: int
    citizen: int
    old_id: int
    card: int


@dataclass(frozen=True)
class Payload:
    """One chunk as COPY text per table, and its row counts."""

    number: int
    households: bytes
    citizens: bytes
    old_ids: bytes
    cards: bytes
    citizen_rows: int
    household_rows: int
    old_id_rows: int
    card_rows: int


def check_copy_safe(values: Iterable[str], what: str) -> None:
    """Refuse text that would need COPY escaping (tab, newline, carriage return, backslash)."""
    for v in values:
        if _UNSAFE.intersection(v):
            raise SynthpopError(
                "province", f"{what} {v!r} contains a character COPY text cannot carry unescaped"
            )


@cache
def _date_table() -> tuple[int, list[str]]:
    """ISO strings for every day from 1900-01-01 to 2199-12-31 (a list lookup beats formatting)."""
    start = np.datetime64("1900-01-01", "D")
    days = np.arange(start, np.datetime64("2200-01-01", "D"))
    return int(start.astype(np.int64)), days.astype(str).tolist()


def date_texts(days: I64) -> list[str]:
    """Day numbers → ``YYYY-MM-DD`` (``\\N`` for ``NO_DATE``)."""
    base, table = _date_table()
    none = days == NO_DATE
    idx = np.where(none, 0, days - base).tolist()
    if none.any():
        return [NULL if n else table[i] for i, n in zip(idx, none.tolist(), strict=True)]
    return [table[i] for i in idx]


def _ids(values: I64, base: int) -> list[str]:
    """Population indexes → primary keys as text (``\\N`` for −1)."""
    out = np.where(values >= 0, values + base, -1).tolist()
    return [NULL if v < 0 else str(v) for v in out]


def render(chunk: Chunk, bases: IdBases, batch_id: int, created_at: str) -> Payload:
    """COPY text for the four tables of one chunk. ``created_at`` is an ISO timestamp with zone."""
    h, c, o, k = chunk.households, chunk.citizens, chunk.old_ids, chunk.cards
    batch = str(batch_id)

    h_ids = (h.index + bases.household).tolist()
    households = "".join(
        f"{i}\t{num}\t{addr}\t{lw}\t{w}\t{batch}\t{created_at}\n"
        for i, num, addr, lw, w in zip(
            h_ids, h.number, h.address, h.legacy_ward_code, h.ward_code, strict=True
        )
    )

    suffix = f"\t{c.permanent_province_code}\tVN\t\t\t1\t{batch}\t{created_at}\t{created_at}\n"
    c_ids = (c.index + bases.citizen).tolist()
    hh_ids = (c.household + bases.household).tolist()
    citizens_rows = [
        f"{i}\t{idn}\t{full}\t{fam}\t{mid}\t{giv}\t{fold}\t{dob}\t{prec}\t{sex}\t{eth}\t{rel}\t{brc}\t{ot}\t{ow}"
        f"\t{addr}\t{lw}\t{w}\t{hid}\t{role}\t{fa}\t{mo}\t{sp}\t{life}\t{dod}{suffix}"
        for (
            i, idn, full, fam, mid, giv, fold, dob, prec, sex, eth, rel, brc, ot, ow, addr, lw, w, hid, role,
            fa, mo, sp, life, dod,
        ) in zip(
            c_ids, c.id_number, c.full_name, c.family_name, c.middle_name, c.given_name, c.name_folded,
            date_texts(c.date_of_birth), c.dob_precision, c.sex, c.ethnicity, c.religion,
            c.birth_registration_code, c.origin_text, c.origin_legacy_ward_code, c.permanent_address_text,
            c.permanent_legacy_ward_code, c.permanent_ward_code, hh_ids, c.relationship,
            _ids(c.father, bases.citizen), _ids(c.mother, bases.citizen), _ids(c.spouse, bases.citizen),
            c.life_status,
            date_texts(c.date_of_death), strict=True,
        )
    ]  # fmt: skip

    old_rows = [
        f"{i}\t{cid}\t{num}\t{day}\t{place}\n"
        for i, cid, num, day, place in zip(
            range(bases.old_id + chunk.first_old_id, bases.old_id + chunk.first_old_id + o.citizen.size),
            (o.citizen + bases.citizen).tolist(),
            o.number,
            date_texts(o.issued_on),
            o.issue_place,
            strict=True,
        )
    ]
    card_rows = [
        f"{i}\t{cid}\t{kind}\t{num}\t{iss}\t{exp}\tvalid\n"
        for i, cid, kind, num, iss, exp in zip(
            range(bases.card + chunk.first_card, bases.card + chunk.first_card + k.citizen.size),
            (k.citizen + bases.citizen).tolist(),
            k.kind,
            k.card_number,
            date_texts(k.issued_on),
            date_texts(k.expires_on),
            strict=True,
        )
    ]
    # Rows go to the server ordered by ID number (the card number is the ID number) and by old
    # number: consecutive inserts into those unique/pattern indexes then hit neighbouring pages,
    # which saves buffer reads and writes once the indexes outgrow shared_buffers. Primary keys
    # and links stay as generated; within a chunk their order does not matter.
    citizens_rows.sort(key=_second_field)
    old_rows.sort(key=_third_field)
    card_rows.sort(key=_fourth_field)
    return Payload(
        chunk.number,
        households.encode(),
        "".join(citizens_rows).encode(),
        "".join(old_rows).encode(),
        "".join(card_rows).encode(),
        len(c_ids),
        len(h_ids),
        o.citizen.size,
        k.citizen.size,
    )


def _second_field(row: str) -> str:
    return row.split("\t", 2)[1]


def _third_field(row: str) -> str:
    return row.split("\t", 3)[2]


def _fourth_field(row: str) -> str:
    return row.split("\t", 4)[3]


def default_workers(n: int, vendor: str) -> int:
    """Parallel COPY sessions: one per CPU core (at most 4) for large PostgreSQL loads, else 1."""
    if vendor != "postgresql" or n < PIPELINE_THRESHOLD:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def peak_rss_kib() -> int | None:
    """This process's peak resident set size (``VmHWM`` in /proc/self/status), in KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def produce(queue: Any, job: dict[str, Any]) -> None:
    """Producer process body: generate and render every chunk into ``queue`` (bounded, so memory
    stays flat), then ``("done", peak_rss_kib)``; on error ``("error", option, message)``. Exits
    if the loader process has gone (no orphan left waiting on a full queue)."""
    try:
        for chunk in generate(
            job["n"],
            seed=job["seed"],
            province=job["province"],
            chunk=job["chunk"],
            as_of=job["as_of"],
            places=job["places"],
            existing=job["existing"],
        ):
            _put(queue, ("chunk", render(chunk, job["bases"], job["batch_id"], job["created_at"])))
        _put(queue, ("done", peak_rss_kib()))
    except SynthpopError as exc:
        _put(queue, ("error", exc.option, str(exc)))
    except BaseException as exc:  # report anything to the loader, which rolls back
        _put(queue, ("error", "", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))


def _put(queue: Any, item: object) -> None:
    parent = multiprocessing.parent_process()
    while True:
        try:
            queue.put(item, timeout=2)
            return
        except queue_module.Full:
            if parent is not None and not parent.is_alive():
                # The loader died (e.g. killed): nobody will read the queue, whose feeder thread
                # would block the exit forever. Leave at once; the loader's work is void anyway.
                queue.cancel_join_thread()
                os._exit(1)


__all__ = [
    "CARD_COLUMNS",
    "CITIZEN_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "OLD_ID_COLUMNS",
    "Existing",
    "IdBases",
    "Payload",
    "Places",
    "check_copy_safe",
    "date_texts",
    "default_workers",
    "peak_rss_kib",
    "produce",
    "render",
]
