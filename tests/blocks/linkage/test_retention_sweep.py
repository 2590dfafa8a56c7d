"""Cleaning jobs do not keep sector personal data forever (Law 91/2025/QH15 Art. 3: storage
limitation; ADR 0012): ``dancu linkage sweep`` (run hourly) deletes the Parquet staging file of a
scale job that failed or was never started after N hours, the staging files no job refers to, and
the temporary DuckDB folders (a copy of the jurisdiction's registry extract) of jobs no longer
running; a job whose worker died — no progress for M minutes — is marked failed so that it can be
run again.

Named actors: Chị Hằng, officer of the city's Department of Labour, whose jobs these are; the
operator running the sweep. Denials: a retention under an hour or a timeout under a minute is
refused, naming the flag; a job still making progress, and its folder, are never touched.
"""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dancu.blocks.linkage import retention, services
from dancu.blocks.linkage.models import CleaningJob
from tests.conftest import Person

Status = CleaningJob.Status


@pytest.fixture
def model_dir(tmp_path: Path, settings: Any) -> Path:
    settings.DANCU_LINKAGE_MODEL_DIR = tmp_path
    (tmp_path / "uploads").mkdir()
    (tmp_path / "jobs").mkdir()
    return tmp_path


def _job(
    hang: Person, status: str, *, hours_ago: float, staged: Path | None = None, **extra: Any
) -> CleaningJob:
    at = timezone.now() - timedelta(hours=hours_ago)
    if staged is not None:
        staged.write_bytes(b"PAR1 sector rows PAR1")
    return CleaningJob.objects.create(
        reference=f"LS-{CleaningJob.objects.count():08X}",
        organisation_id=hang.actor.organisation_id or 0,
        created_by_label="hang.labour",
        file_name="ho-ngheo.csv",
        file_sha256=f"{CleaningJob.objects.count():064x}",
        file_kind="csv",
        columns=["Họ và tên"],
        mapping={"full_name": "Họ và tên"},
        scale=staged is not None,
        staged_file=f"uploads/{staged.name}" if staged is not None else "",
        status=status,
        created_at=at,
        progressed_at=at if status != Status.UPLOADED else None,
        **extra,
    )


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_a_job_whose_worker_died_is_marked_failed_and_can_be_run_again(hang: Person, model_dir: Path) -> None:
    dead = _job(hang, Status.RUNNING, hours_ago=2, progress=42, stage="id pass")
    waiting = _job(hang, Status.QUEUED, hours_ago=3)  # queued by a process killed before it ran
    alive = _job(hang, Status.RUNNING, hours_ago=0.05, progress=10, stage="normalising")
    report = retention.sweep(older_than=timedelta(hours=72), stale_after=timedelta(minutes=60))
    assert report.timed_out == 2
    for job in (dead, waiting):
        job.refresh_from_db()
        assert job.status == Status.FAILED and job.stage == "timed out"
        assert "60 minutes" in job.error and "run the job again" in job.error
    alive.refresh_from_db()
    assert alive.status == Status.RUNNING and alive.progress == 10  # still making progress: untouched
    # Chị Hằng runs the timed-out job again (a web-sized job with no rows: it completes)
    again = services.start(hang.ctx("data.cleaning"), dead.pk, background=False)
    assert again.status == "done", again.error


def test_staged_sector_files_of_failed_or_never_started_jobs_are_deleted_after_the_retention(
    hang: Person, model_dir: Path
) -> None:
    uploads = model_dir / "uploads"
    failed_old = _job(hang, Status.FAILED, hours_ago=80, staged=uploads / "a.parquet", error="boom")
    never_started = _job(hang, Status.UPLOADED, hours_ago=80, staged=uploads / "b.parquet")
    recent = _job(hang, Status.UPLOADED, hours_ago=2, staged=uploads / "c.parquet")
    running = _job(hang, Status.RUNNING, hours_ago=0.01, staged=uploads / "d.parquet")
    orphan_old = uploads / "e.parquet"  # a process killed between staging and creating the job
    orphan_old.write_bytes(b"PAR1")
    _age(orphan_old, 80)
    orphan_new = uploads / "f.parquet"  # an upload being staged right now
    orphan_new.write_bytes(b"PAR1")

    report = retention.sweep(older_than=timedelta(hours=72), stale_after=timedelta(minutes=60))
    assert (report.staged_removed, report.orphan_files_removed) == (2, 1)
    assert sorted(p.name for p in uploads.iterdir()) == ["c.parquet", "d.parquet", "f.parquet"]
    failed_old.refresh_from_db()
    assert failed_old.staged_file == "" and failed_old.status == Status.FAILED
    never_started.refresh_from_db()
    assert never_started.staged_file == "" and never_started.status == Status.FAILED
    assert "72 hours" in never_started.error and "upload the file again" in never_started.error
    for kept in (recent, running):
        kept.refresh_from_db()
        assert kept.staged_file and (model_dir / kept.staged_file).exists()


def test_orphaned_temp_folders_are_removed_but_not_those_of_a_running_job(
    hang: Person, model_dir: Path
) -> None:
    jobs = model_dir / "jobs"
    dead = _job(hang, Status.FAILED, hours_ago=5)
    alive = _job(hang, Status.RUNNING, hours_ago=0.01)
    dead_tmp = jobs / f"tmp-job{dead.pk}-x1"
    alive_tmp = jobs / f"tmp-job{alive.pk}-y2"
    old_tmp = jobs / "tmpk3j4h5"  # an older worker's folder, no job in its name, untouched for hours
    new_tmp = jobs / "tmpz9z9z9"  # being written now
    for folder in (dead_tmp, alive_tmp, old_tmp, new_tmp):
        folder.mkdir()
        (folder / "job.duckdb").write_bytes(b"registry extract")
    _age(old_tmp / "job.duckdb", 3)
    _age(old_tmp, 3)
    other = jobs / "README"
    other.write_text("not a job folder")

    report = retention.sweep(older_than=timedelta(hours=72), stale_after=timedelta(minutes=60))
    assert report.folders_removed == 2
    assert sorted(p.name for p in jobs.iterdir()) == sorted([alive_tmp.name, new_tmp.name, "README"])


def test_the_command_reports_and_refuses_a_retention_under_an_hour_or_a_timeout_under_a_minute(
    hang: Person, model_dir: Path
) -> None:
    staged = model_dir / "uploads" / "a.parquet"
    _job(hang, Status.FAILED, hours_ago=3, staged=staged)
    for flag, value in (("--older-than-hours", "0"), ("--older-than-hours", "-1"), ("--stale-minutes", "0")):
        with pytest.raises(CommandError) as refused:
            call_command("linkage", "sweep", flag, value, stdout=io.StringIO())
        assert flag in str(refused.value)
    assert staged.exists()
    out = io.StringIO()
    call_command("linkage", "sweep", stdout=out)  # default retention: 72 hours
    assert staged.exists() and "0 staged file(s)" in out.getvalue()
    call_command("linkage", "sweep", "--older-than-hours", "2", stdout=out)
    assert not staged.exists() and "1 staged file(s)" in out.getvalue()
