"""``dancu load_adminunits``: load the administrative-unit tables from the versioned data files.

Idempotent: when the stored data version equals the files' version nothing is changed (one
query); otherwise every table is replaced in one transaction with bulk inserts.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dancu.blocks.adminunits import models as m
from dancu.blocks.adminunits.catalogue import data_version
from dancu.blocks.adminunits.loader import load


class Command(BaseCommand):
    help = (
        "Load the current (Resolution 202/2025/QH15) and legacy administrative units and the "
        "ward crosswalk from the data files; skipped when that data version is already loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="reload even if the version is already loaded"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        version = data_version()
        loaded = load(force=bool(options["force"]))
        elapsed = time.perf_counter() - started
        if not loaded:
            self.stdout.write(
                f"adminunits: data version {version} already loaded, nothing to do ({elapsed:.2f} s)"
            )
            return
        counts = (
            f"{m.Province.objects.count()} provinces, {m.Ward.objects.count()} wards; "
            f"legacy: {m.LegacyProvince.objects.count()} provinces, "
            f"{m.LegacyDistrict.objects.count()} districts, {m.LegacyWard.objects.count()} wards; "
            f"{m.WardCrosswalk.objects.count()} crosswalk rows"
        )
        self.stdout.write(
            self.style.SUCCESS(f"adminunits: loaded data version {version} in {elapsed:.2f} s — {counts}")
        )
