"""``dancu seed``: load a synthetic population; bad options are errors naming the option."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dancu.blocks.registry.models import Citizen, ImportBatch

pytestmark = pytest.mark.usefixtures("adminunits_ready")


def test_seed_loads_the_population_and_prints_one_summary_line() -> None:
    out = StringIO()
    call_command("seed", "--citizens", "1500", "--seed", "3", "--no-progress", stdout=out)
    assert Citizen.objects.count() == 1_500
    line = out.getvalue().strip()
    assert "\n" not in line
    assert line.startswith("seeded 1,500 citizens") and " rows in " in line and "rows/s" in line
    assert f"batch {ImportBatch.objects.get().pk}" in line


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--citizens", "-5"], "--citizens"),
        (["--citizens", "0"], "--citizens"),
        (["--citizens", "10", "--province", "99"], "--province"),
        (["--citizens", "10", "--seed", "-1"], "--seed"),
        (["--citizens", "10", "--chunk", "0"], "--chunk"),
    ],
)
def test_bad_options_are_errors_naming_the_option_and_store_nothing(args: list[str], option: str) -> None:
    with pytest.raises(CommandError, match=option):
        call_command("seed", *args, "--no-progress")
    assert not Citizen.objects.exists() and not ImportBatch.objects.exists()


def test_seeding_again_without_append_is_refused() -> None:
    call_command("seed", "--citizens", "500", "--no-progress", stdout=StringIO())
    with pytest.raises(CommandError, match="--append"):
        call_command("seed", "--citizens", "500", "--no-progress", stdout=StringIO())
    call_command("seed", "--citizens", "500", "--append", "--no-progress", stdout=StringIO())
    assert Citizen.objects.count() == 1_000


def test_a_bad_option_exits_non_zero_with_the_option_on_stderr(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "dancu.test_settings",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "django", "seed", "--citizens", "-5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert "--citizens" in proc.stderr
    assert not (tmp_path / "cli.sqlite3").exists() or (tmp_path / "cli.sqlite3").stat().st_size == 0


def test_an_interrupted_batch_blocks_seeding_until_discarded() -> None:
    """A parallel load killed outright leaves an unfinished batch: the next seed names the fix."""
    call_command("seed", "--citizens", "300", "--no-progress", stdout=StringIO())
    ImportBatch.objects.update(finished_at=None)  # as if the load had been killed
    with pytest.raises(CommandError, match="--discard-unfinished"):
        call_command("seed", "--citizens", "300", "--append", "--no-progress", stdout=StringIO())
    out = StringIO()
    call_command("seed", "--discard-unfinished", "--citizens", "300", "--no-progress", stdout=out)
    assert out.getvalue().startswith("discarded unfinished batch(es)")
    assert Citizen.objects.count() == 300 and ImportBatch.objects.count() == 1


def test_citizens_is_required() -> None:
    with pytest.raises(CommandError, match="--citizens"):
        call_command("seed", "--no-progress")
