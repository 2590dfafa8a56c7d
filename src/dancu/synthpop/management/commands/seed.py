"""``dancu seed --citizens N [--seed S] [--province CODE] [--append]``: load a synthetic population.

Generates realistic, deterministic Vietnamese people in households (``dancu.synthpop.generator``)
and streams them into the registry as one import batch with one audit event
(``dancu.synthpop.loader``). Progress goes to stderr, one summary line to stdout. Bad options
stop the command before anything is stored, with an error naming the option.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from dancu.synthpop.loader import SeedError, default_as_of, load, validate_options


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Load a synthetic population (Vietnamese people in households) into the registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--citizens", type=int, required=True, help="number of citizens to generate (≥ 1)"
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed: the same seed gives the same people"
        )
        parser.add_argument("--province", default="01", help='current province code (default "01", Hà Nội)')
        parser.add_argument(
            "--append",
            action="store_true",
            help="add to a registry that already holds citizens (stored numbers are reserved)",
        )
        parser.add_argument("--chunk", type=int, default=50_000, help="citizens per chunk (default 50,000)")
        parser.add_argument(
            "--as-of", dest="as_of", type=_iso_date, default=None, help="reference date for ages and cards"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        n, seed, province = options["citizens"], options["seed"], options["province"]
        try:
            validate_options(n, seed, province, options["as_of"])
            if options["chunk"] < 1:
                raise SeedError("chunk", f"--chunk must be ≥ 1, got {options['chunk']}")
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        bar = tqdm(
            total=n,
            unit=" citizens",
            unit_scale=True,
            file=sys.stderr,
            disable=options["no_progress"],
            smoothing=0.1,
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
            f"in {result.seconds:.1f} s "
            f"({result.rows_per_second:,.0f} rows/s, {result.citizens / result.seconds:,.0f} citizens/s); "
            f"batch {result.batch_id}, seed {result.seed}, province {result.province}, "
            f"as of {result.as_of.isoformat()}"
        )
