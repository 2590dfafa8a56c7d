"""Retention of cleaning jobs' working data (``dancu linkage sweep``, run hourly).

A scale job keeps the sector file it was given — personal data of a sector (names, dates of birth,
ID numbers, addresses) — as a Parquet staging file until its run stores the rows, and a run works in
a temporary folder holding a DuckDB copy of the jurisdiction's registry extract (ADR 0012). Neither
may outlive its use (storage limitation, Law 91/2025/QH15 Art. 3; Decree 13/2023/NĐ-CP Art. 3):

* a queued or running job with no progress for ``stale_after`` has lost its worker (the process
  died): it is marked ``failed`` so that its officer can run it again (``services.start``);
* the staging file of a job that failed, or was uploaded and never run, is deleted once the job has
  been idle for ``older_than`` (an uploaded job is then marked failed, "upload the file again", so
  that the same file is not refused as a duplicate); so is a staging file no job refers to (a
  process killed between staging and creating the job);
* a temporary folder under ``jobs/`` is deleted unless its job is queued or running — a folder
  named after no job, by its age.

Nothing here reads personal data; the log says how many of each were removed, never whose.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from dancu.blocks.linkage.models import CleaningJob

log = logging.getLogger(__name__)

# A run's temporary folder: ``jobs/tmp-job<id>-<random>`` (``services._run_at_scale``).
JOB_FOLDER_PREFIX = "tmp-job"
_JOB_FOLDER = re.compile(rf"^{JOB_FOLDER_PREFIX}(\d+)-")
_ACTIVE = (CleaningJob.Status.QUEUED, CleaningJob.Status.RUNNING)


@dataclass(frozen=True)
class SweepReport:
    timed_out: int  # queued or running jobs marked failed
    staged_removed: int  # staging files of failed or never-run jobs
    orphan_files_removed: int  # staging files no job refers to
    folders_removed: int  # temporary DuckDB folders of jobs no longer running


def sweep(*, older_than: timedelta, stale_after: timedelta, now: datetime | None = None) -> SweepReport:
    """Time out dead jobs, then delete the working data no live job needs (module docstring)."""
    if older_than < timedelta(hours=1) or stale_after < timedelta(minutes=1):
        raise ValueError("the retention must be at least an hour and the timeout at least a minute")
    now = now or timezone.now()
    timed_out = _time_out(now - stale_after, stale_after)
    staged, orphans = _staged_files(now - older_than, older_than)
    folders = _job_folders(now - stale_after)
    report = SweepReport(timed_out, staged, orphans, folders)
    log.info(
        "linkage sweep: %d job(s) timed out, %d staged file(s), %d orphan file(s), %d folder(s) removed",
        timed_out,
        staged,
        orphans,
        folders,
    )
    return report


def _idle_since(cutoff: datetime) -> Q:
    """Jobs whose last sign of life (progress, else creation) is before ``cutoff``."""
    return Q(progressed_at__lt=cutoff) | Q(progressed_at__isnull=True, created_at__lt=cutoff)


def _time_out(cutoff: datetime, stale_after: timedelta) -> int:
    minutes = int(stale_after.total_seconds() // 60)
    return CleaningJob.objects.filter(_idle_since(cutoff), status__in=_ACTIVE).update(
        status=CleaningJob.Status.FAILED,
        stage="timed out",
        error=f"no progress for {minutes} minutes: the worker stopped; run the job again",
        progressed_at=timezone.now(),
    )


def _staged_files(cutoff: datetime, older_than: timedelta) -> tuple[int, int]:
    root = Path(settings.DANCU_LINKAGE_MODEL_DIR)
    hours = int(older_than.total_seconds() // 3600)
    expired = CleaningJob.objects.filter(
        _idle_since(cutoff),
        status__in=(CleaningJob.Status.FAILED, CleaningJob.Status.UPLOADED),
    ).exclude(staged_file="")
    removed = 0
    for job in expired.only("pk", "staged_file", "status"):
        changes: dict[str, object] = {"staged_file": ""}
        if job.status == CleaningJob.Status.UPLOADED:
            changes |= {
                "status": CleaningJob.Status.FAILED,
                "stage": "expired",
                "error": f"the uploaded rows were deleted after {hours} hours unused: upload the file again",
            }
        # Only if it is still idle (not started since the query), and the file is deleted only once
        # the row no longer names it: never pull a file from under a run.
        if CleaningJob.objects.filter(pk=job.pk, status=job.status, staged_file=job.staged_file).update(
            **changes
        ):
            (root / job.staged_file).unlink(missing_ok=True)
            removed += 1
    referenced = set(CleaningJob.objects.exclude(staged_file="").values_list("staged_file", flat=True))
    orphans = 0
    uploads = root / "uploads"
    limit = cutoff.timestamp()
    if uploads.is_dir():
        for path in uploads.iterdir():
            if not path.is_file() or f"uploads/{path.name}" in referenced:
                continue
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                orphans += 1
    return removed, orphans


def _newest_mtime(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except FileNotFoundError:
            continue
    return newest


def _job_folders(cutoff: datetime) -> int:
    work = Path(settings.DANCU_LINKAGE_MODEL_DIR) / "jobs"
    if not work.is_dir():
        return 0
    active = set(CleaningJob.objects.filter(status__in=_ACTIVE).values_list("pk", flat=True))
    limit = min(cutoff.timestamp(), time.time())
    removed = 0
    for folder in work.iterdir():
        if not folder.is_dir() or not folder.name.startswith("tmp"):
            continue
        named = _JOB_FOLDER.match(folder.name)
        if named is not None:
            if int(named.group(1)) in active:
                continue
        elif _newest_mtime(folder) >= limit:  # a folder named after no job: by its age
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed
