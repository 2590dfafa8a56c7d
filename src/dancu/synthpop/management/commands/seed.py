"""``dancu seed --citizens N [--seed S] [--province CODE] [--append]``: load a synthetic population.

Generates realistic, deterministic Vietnamese people in households (``dancu.synthpop.generator``)
and streams them into the registry as one import batch with one audit event
(``dancu.synthpop.loader``). Progress goes to stderr, one summary line to stdout. Bad options
stop the command before anything is stored, with an error naming the option.

``dancu seed --discard-unfinished`` removes the rows of a parallel load that was killed outright
(see the loader's documentation); it can be combined with ``--citizens``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from dancu.synthpop.generator import DEFAULT_CHUNK
from dancu.synthpop.loader import SeedError, default_as_of, discard_unfinished, load, validate_options


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Load a synthetic population (Vietnamese people in households) into the registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--citizens", type=int, help="number of citizens to generate (≥ 1)")
        parser.add_argument("--seed", type=int, default=0, help="random seed: the same seed, the same people")
        parser.add_argument("--province", default="01", help='current province code (default "01", Hà Nội)')
        parser.add_argument(
            "--append",
            action="store_true",
            help="add to a registry that already holds citizens (stored numbers are reserved)",
        )
        parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="citizens per chunk")
        parser.add_argument("--as-of", dest="as_of", type=_iso_date, help="reference date (YYYY-MM-DD)")
        parser.add_argument(
            "--workers",
            type=int,
            help="PostgreSQL sessions copying in parallel (default: one per core, at most 4, from 100,000 "
            "citizens; 1 = the whole load in one transaction)",
        )
        parser.add_argument(
            "--discard-unfinished",
            action="store_true",
            help="first delete the rows of synthetic batches whose load was interrupted",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        n, seed, province = options["citizens"], options["seed"], options["province"]
        if n is None and not options["discard_unfinished"]:
            raise CommandError("--citizens: required (the number of citizens to generate)")
        try:
            if n is not None:
                validate_options(n, seed, province, options["as_of"])
                if options["chunk"] < 1:
                    raise SeedError("chunk", f"--chunk must be ≥ 1, got {options['chunk']}")
                if options["workers"] is not None and options["workers"] < 1:
                    raise SeedError("workers", f"--workers must be ≥ 1, got {options['workers']}")
            if options["discard_unfinished"]:
                discarded = discard_unfinished()
                self.stdout.write(
                    f"discarded unfinished batch(es) {', '.join(map(str, discarded))}"
                    if discarded
                    else "no unfinished synthetic batch"
                )
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        if n is not None:
            self._seed(n, seed, province, options)

    def _seed(self, n: int, seed: int, province: str, options: dict[str, Any]) -> None:
        bar = tqdm(
            total=n, unit=" citizens", unit_scale=True, file=sys.stderr, disable=options["no_progress"]
        )
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            bar.update(count - done)
            done = count

        try:
            result = load(
                n,
                seed=seed,
                province=province,
                append=options["append"],
                chunk=options["chunk"],
                as_of=options["as_of"] or default_as_of(),
                progress=progress,
                workers=options["workers"],
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"the load failed and nothing of it was kept: {exc}") from None
        finally:
            bar.close()
        self.stdout.write(
            f"seeded {result.citizens:,} citizens, {result.households:,} households, "
            f"{result.old_ids:,} old CMND numbers, {result.cards:,} cards = {result.rows:,} rows "
            f"in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s, "
            f"{result.citizens / result.seconds:,.0f} citizens/s); batch {result.batch_id}, "
            f"seed {result.seed}, province {result.province}, as of {result.as_of.isoformat()}, "
            f"{result.workers} session(s)"
        )
