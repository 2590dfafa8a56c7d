"""Cleaning jobs (issue 8): upload a sector file, map its columns, match it against the registry,
review the uncertain pairs, export the cleaned file and its quality report.

Every function takes an ``AccessContext`` whose purpose must be ``data.cleaning`` and whose actor
may invoke it (``organisations/policy.py``: department officers, the police); a job is visible only
to the organisation that uploaded it. Denials are audited. The registry is read in bulk through
``registry.services.cleaning_reference`` (one audit event per job) and each citizen a job matches —
automatically, or accepted in review — gets an audit event of their own, as does each citizen shown
as an uncertain candidate (``registry.services.record_cleaning_matches``), so that they can see
which agency linked its file to their record (Law 91/2025/QH15; ADR 0012).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.linkage import files
from dancu.blocks.linkage.models import CleaningJob, SectorRecord
from dancu.blocks.linkage.pipeline import DUPLICATE, MATCHED, REVIEW, UNMATCHED, SectorRow, link
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import ReferenceRecord
from dancu.errors import AccessDenied, Conflict, DomainValidationError, NotFound

PURPOSE = "data.cleaning"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobView:
    job_id: int
    reference: str
    file_name: str
    file_kind: str
    encoding: str
    columns: list[str]
    mapping: dict[str, str]
    status: str
    progress: int
    stage: str
    counts: dict[str, int]
    model_version: str
    error: str
    rows: int
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class ReviewItem:
    record_id: int
    row_no: int
    sector: dict[str, str]  # canonical field → the file's value
    registry: dict[str, str]  # the candidate citizen's fields (data.cleaning)
    match_weight: float | None
    probability: float | None
    explanation: dict[str, float]
    decision: str
    review: str


@dataclass(frozen=True)
class Report:
    counts: dict[str, int] = field(default_factory=dict)


def _authorise(ctx: AccessContext, action: str) -> None:
    if (
        ctx.purpose == PURPOSE
        and ctx.actor.may(PURPOSE)
        and (ctx.actor.organisation_id or ctx.actor.is_system)
    ):
        return
    audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={"reason": "purpose"})
    if ctx.purpose != PURPOSE:
        raise AccessDenied(
            f"purpose {ctx.purpose!r} does not allow data cleaning", field="purpose", rule="purpose"
        )
    raise AccessDenied(f"your organisation or role may not use purpose {PURPOSE!r}", rule="purpose")


def _job(ctx: AccessContext, job_id: int, action: str) -> CleaningJob:
    _authorise(ctx, action)
    job = CleaningJob.objects.filter(pk=job_id).first()
    if job is None or (not ctx.actor.is_system and job.organisation_id != ctx.actor.organisation_id):
        # another organisation's job is reported as missing: its existence is not disclosed
        raise NotFound("no cleaning job with that number", field="job")
    return job


def _view(job: CleaningJob) -> JobView:
    return JobView(
        job_id=job.pk,
        reference=job.reference,
        file_name=job.file_name,
        file_kind=job.file_kind,
        encoding=job.encoding,
        columns=list(job.columns),
        mapping=dict(job.mapping),
        status=job.status,
        progress=job.progress,
        stage=job.stage,
        counts=dict(job.counts),
        model_version=job.model_version,
        error=job.error,
        rows=job.records.count(),
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


# --------------------------------------------------------------------------- upload and mapping
def upload(ctx: AccessContext, file_name: str, content: bytes | BinaryIO) -> JobView:
    """Store a sector file as a new job (all rows or none). ``content`` is the file's bytes or a
    seekable binary file (a big upload stays on disk): it is streamed — hashed, then read and checked
    to its end into a Parquet staging file (``files.stage``, memory bounded by one chunk) — before
    any row is stored, then its rows are inserted in batches in one transaction. A file already
    uploaded by the same organisation and not failed is refused (rule ``duplicate``)."""
    _authorise(ctx, "cleaning.upload")
    fh: BinaryIO = io.BytesIO(content) if isinstance(content, bytes) else content
    digest = _sha256(fh)
    org = ctx.actor.organisation_id or 0
    earlier = CleaningJob.objects.filter(organisation_id=org, file_sha256=digest).exclude(
        status=CleaningJob.Status.FAILED
    )
    if earlier.exists():
        raise DomainValidationError.single(
            "file",
            "duplicate",
            f"this file was already uploaded as job {earlier.first().reference}",  # type: ignore[union-attr]
        )
    staged_path = (
        Path(settings.DANCU_LINKAGE_MODEL_DIR) / "uploads" / f"{digest}-{secrets.token_hex(4)}.parquet"
    )
    try:
        table = _stage_web(file_name, fh, staged_path)
        with transaction.atomic():
            job = CleaningJob.objects.create(
                reference=f"LS-{secrets.token_hex(4).upper()}",
                organisation_id=org,
                created_by_id=ctx.actor.user_id,
                created_by_label=ctx.actor.label[:150],
                file_name=file_name[:255],
                file_sha256=digest,
                file_kind=table.kind,
                encoding=table.encoding,
                columns=table.columns,
                mapping=files.guess_mapping(table.columns),
            )
            for batch in files.staged_rows(staged_path, batch=UPLOAD_BATCH):
                SectorRecord.objects.bulk_create(
                    [SectorRecord(job=job, row_no=n, cells=cells) for n, cells in batch],
                    batch_size=UPLOAD_BATCH,
                )
            audit.record(ctx, "cleaning.upload", detail={"job": job.reference, "rows": table.rows})
    finally:
        staged_path.unlink(missing_ok=True)
    return _view(job)


UPLOAD_BATCH = 2000


def _stage_web(file_name: str, fh: BinaryIO, staged_path: Path) -> files.StagedTable:
    """``files.stage`` with the web path's row limit (``DANCU_CLEANING_WEB_MAX_ROWS``, ADR 0012):
    the upload stores its rows in one request's transaction and ``run`` links them in memory, so a
    file beyond it is refused (rule ``rows``) with a pointer to the scale pipeline."""
    limit = int(settings.DANCU_CLEANING_WEB_MAX_ROWS)
    try:
        return files.stage(file_name, fh, staged_path, max_rows=limit)
    except DomainValidationError as exc:
        if [p.rule for p in exc.problems] != ["rows"]:
            raise
        raise DomainValidationError.single(
            "file",
            "rows",
            f"more than {limit} rows for a web cleaning job: split the file, or have it run by the "
            "scale pipeline (dancu.blocks.linkage.scale, ADR 0012) from the command line",
        ) from None


def _sha256(fh: BinaryIO) -> str:
    h = hashlib.sha256()
    fh.seek(0)
    while block := fh.read(1 << 20):
        h.update(block)
    fh.seek(0)
    return h.hexdigest()


def set_mapping(ctx: AccessContext, job_id: int, mapping: dict[str, str]) -> JobView:
    """Canonical field → column of the file; ``full_name`` is required, the rest optional."""
    job = _job(ctx, job_id, "cleaning.mapping")
    if job.status not in (CleaningJob.Status.UPLOADED, CleaningJob.Status.FAILED):
        raise Conflict("the job has already run", field="job", rule="state")
    clean = {f: c for f, c in mapping.items() if c}
    unknown = [f for f in clean if f not in files.FIELDS]
    if unknown:
        raise DomainValidationError.single(unknown[0], "field", "not a field of the cleaning job")
    for f, c in clean.items():
        if c not in job.columns:
            raise DomainValidationError.single(f, "column", "not a column of the file")
    if "full_name" not in clean:
        raise DomainValidationError.single("full_name", "required", "choose the column holding the full name")
    if len(set(clean.values())) != len(clean):
        raise DomainValidationError.single("mapping", "distinct", "a column is mapped to two fields")
    job.mapping = clean
    job.save(update_fields=["mapping"])
    return _view(job)


def get_job(ctx: AccessContext, job_id: int) -> JobView:
    return _view(_job(ctx, job_id, "cleaning.read"))


def list_jobs(ctx: AccessContext) -> list[JobView]:
    _authorise(ctx, "cleaning.read")
    return [
        _view(j)
        for j in CleaningJob.objects.filter(organisation_id=ctx.actor.organisation_id or 0).order_by(
            "-created_at"
        )[:50]
    ]


# --------------------------------------------------------------------------- running
def start(ctx: AccessContext, job_id: int, *, background: bool = True) -> JobView:
    """Queue the job and run it in a worker thread (``background=False``: run it now)."""
    job = _job(ctx, job_id, "cleaning.run")
    if "full_name" not in job.mapping:
        raise DomainValidationError.single("full_name", "required", "map the columns first")
    updated = CleaningJob.objects.filter(
        pk=job.pk, status__in=[CleaningJob.Status.UPLOADED, CleaningJob.Status.FAILED]
    ).update(status=CleaningJob.Status.QUEUED, progress=0, stage="queued", error="")
    if not updated:
        raise Conflict("the job is already queued, running or done", field="job", rule="state")
    if background:
        threading.Thread(
            target=_run_in_thread, args=(ctx, job.pk), daemon=True, name=f"cleaning-{job.pk}"
        ).start()
    else:
        run(ctx, job.pk)
    job.refresh_from_db()
    return _view(job)


def _run_in_thread(ctx: AccessContext, job_id: int) -> None:
    try:
        run(ctx, job_id)
    finally:
        connections.close_all()  # this thread's connections, whatever CONN_MAX_AGE says


def _progress(job_id: int) -> Any:
    def say(pct: int, stage: str) -> None:
        CleaningJob.objects.filter(pk=job_id).update(progress=pct, stage=stage[:40])

    return say


def run(ctx: AccessContext, job_id: int) -> None:
    """Match the job's rows: read the registry (one audit event), link, store outcomes, audit each
    matched citizen. A failure marks the job ``failed`` with the error (nothing half-stored)."""
    job = _job(ctx, job_id, "cleaning.run")
    CleaningJob.objects.filter(pk=job.pk).update(status=CleaningJob.Status.RUNNING, started_at=timezone.now())
    say = _progress(job.pk)
    try:
        say(2, "reading the registry")
        reference = registry.cleaning_reference(ctx, job_reference=job.reference)
        records = list(job.records.order_by("row_no"))
        col = {c: i for i, c in enumerate(job.columns)}
        rows = [
            SectorRow(
                r.pk, **{f: r.cells[col[c]] if col[c] < len(r.cells) else "" for f, c in job.mapping.items()}
            )
            for r in records
        ]
        result = link(rows, reference, progress=lambda pct, stage: say(5 + pct * 9 // 10, stage))
        refs = {r.citizen_id: r for r in reference}
        outcomes = {o.key: o for o in result.outcomes}
        for rec in records:
            o = outcomes[rec.pk]
            rec.decision, rec.method, rec.citizen_id = o.decision, o.method, o.citizen_id
            rec.match_weight, rec.probability, rec.explanation = o.match_weight, o.probability, o.explanation
            rec.corrections, rec.flags, rec.problems = o.corrections, o.flags, o.problems
            rec.candidate = _snapshot(refs[o.citizen_id]) if o.citizen_id is not None else {}
            rec.review, rec.reviewed_by_label, rec.reviewed_at = "", "", None
        matched = [
            o.citizen_id for o in result.outcomes if o.decision in (MATCHED, DUPLICATE) and o.citizen_id
        ]
        uncertain = [o.citizen_id for o in result.outcomes if o.decision == REVIEW and o.citizen_id]
        with transaction.atomic():
            SectorRecord.objects.bulk_update(
                records,
                [
                    "decision",
                    "method",
                    "citizen_id",
                    "match_weight",
                    "probability",
                    "explanation",
                    "corrections",
                    "flags",
                    "problems",
                    "candidate",
                    "review",
                    "reviewed_by_label",
                    "reviewed_at",
                ],
                batch_size=1000,
            )
            registry.record_cleaning_matches(ctx, matched, job_reference=job.reference, candidates=uncertain)
            CleaningJob.objects.filter(pk=job.pk).update(
                status=CleaningJob.Status.DONE,
                progress=100,
                stage="done",
                counts=result.counts(),
                model_version=result.model_version,
                finished_at=timezone.now(),
            )
        if result.model_version:
            save_model(result.model_version, result.model_settings)
    except Exception as exc:
        log.exception("cleaning job %s failed", job.reference)
        CleaningJob.objects.filter(pk=job.pk).update(
            status=CleaningJob.Status.FAILED, stage="failed", error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        if not isinstance(exc, (AccessDenied, DomainValidationError)):
            return
        raise


def _snapshot(r: ReferenceRecord) -> dict[str, str]:
    dob = r.date_of_birth
    text = {"day": dob.strftime("%d/%m/%Y"), "month": dob.strftime("%m/%Y")}.get(
        r.dob_precision, str(dob.year)
    )
    return {
        "id_number": r.id_number,
        "full_name": r.full_name,
        "date_of_birth": text,
        "sex": {"M": "Nam", "F": "Nữ"}.get(r.sex, r.sex),
        "address": r.permanent_address_text,
        "life_status": r.life_status,
    }


def model_dir() -> Path:
    return Path(settings.DANCU_LINKAGE_MODEL_DIR) / "models"


def save_model(version: str, model_settings: dict[str, Any]) -> Path:
    """Write the trained model (Splink settings with m/u probabilities) as ``<version>.json``; the
    version is a hash of the parameters, so a file is never overwritten with different content."""
    path = model_dir() / f"{version}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(model_settings, indent=1, sort_keys=True), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- review
def _sector_fields(job: CleaningJob, rec: SectorRecord) -> dict[str, str]:
    col = {c: i for i, c in enumerate(job.columns)}
    return {f: rec.cells[col[c]] if col[c] < len(rec.cells) else "" for f, c in job.mapping.items()}


def _item(job: CleaningJob, rec: SectorRecord) -> ReviewItem:
    return ReviewItem(
        record_id=rec.pk,
        row_no=rec.row_no,
        sector=_sector_fields(job, rec),
        registry=dict(rec.candidate),
        match_weight=rec.match_weight,
        probability=rec.probability,
        explanation=dict(rec.explanation),
        decision=rec.decision,
        review=rec.review,
    )


def review_queue(ctx: AccessContext, job_id: int) -> list[ReviewItem]:
    """The uncertain pairs of a finished job, decided ones included (so that a decision can be seen
    and changed), in file order."""
    job = _job(ctx, job_id, "cleaning.review")
    qs = job.records.filter(Q(decision=REVIEW) | ~Q(review=""), method="model")
    return [_item(job, r) for r in qs.order_by("row_no")]


def decide(ctx: AccessContext, job_id: int, record_id: int, *, accept: bool) -> ReviewItem:
    """Accept (the row is this citizen) or reject (it is not) an uncertain pair. An acceptance is
    recorded in the citizen's audit log like an automatic match."""
    job = _job(ctx, job_id, "cleaning.review")
    with transaction.atomic():
        rec = SectorRecord.objects.select_for_update().filter(pk=record_id, job=job).first()
        if rec is None or rec.method != "model" or (rec.decision != REVIEW and not rec.review):
            raise NotFound("no pair to review with that number", field="record")
        rec.review = "accepted" if accept else "rejected"
        rec.decision = MATCHED if accept else UNMATCHED
        rec.reviewed_by_label, rec.reviewed_at = ctx.actor.label[:150], timezone.now()
        rec.save(update_fields=["review", "decision", "reviewed_by_label", "reviewed_at"])
        if accept and rec.citizen_id:
            registry.record_cleaning_matches(ctx, [rec.citizen_id], job_reference=job.reference)
        _recount(job)
    return _item(job, rec)


def _recount(job: CleaningJob) -> None:
    counts = dict(job.counts)
    for d in (MATCHED, REVIEW, UNMATCHED, DUPLICATE):
        counts[d] = job.records.filter(decision=d).count()
    job.counts = counts
    job.save(update_fields=["counts"])


# --------------------------------------------------------------------------- export
EXPORT_COLUMNS = [
    "kết quả / result",
    "số định danh / ID number",
    "phương pháp / method",
    "điểm / match weight",
    "đề xuất sửa / proposed corrections",
    "ghi chú / flags",
]
REPORT_ROWS = ("matched", "corrected", "review", "unmatched", "duplicate", "deceased", "moved")


def export(ctx: AccessContext, job_id: int, *, fmt: str) -> tuple[str, bytes]:
    """The cleaned file: every original column unchanged, then the result, the registry's ID number
    (for matched and duplicate rows), the method, the score, proposed corrections with their source
    and flags; XLSX adds the quality report as a second sheet. Cells are escaped against formula
    injection. Returns (file name, content)."""
    job = _job(ctx, job_id, "cleaning.export")
    if job.status != CleaningJob.Status.DONE:
        raise Conflict("the job has not finished", field="job", rule="state")
    if fmt not in ("csv", "xlsx"):
        raise DomainValidationError.single("format", "choice", "csv or xlsx")
    header = [*job.columns, *EXPORT_COLUMNS]

    def rows() -> Any:
        for rec in job.records.order_by("row_no").iterator(chunk_size=2000):
            linked = rec.decision in (MATCHED, DUPLICATE)
            fixes = (
                "; ".join(f"{c['field']}: {c['from']} → {c['to']} ({c['rule']})" for c in rec.corrections)
                if linked
                else ""
            )
            yield [
                *rec.cells,
                rec.decision,
                rec.candidate.get("id_number", "") if linked else "",
                rec.method,
                "" if rec.match_weight is None else f"{rec.match_weight:.2f}",
                fixes,
                ", ".join(rec.flags + rec.problems) if linked else ", ".join(rec.problems),
            ]

    audit.record(ctx, "cleaning.export", detail={"job": job.reference, "format": fmt})
    stem = f"{job.reference}-cleaned"
    if fmt == "csv":
        return f"{stem}.csv", files.write_csv(header, rows())
    report = [[k, job.counts.get(k, 0)] for k in REPORT_ROWS]
    return f"{stem}.xlsx", files.write_xlsx(
        {"cleaned": (header, rows()), "report": (["measure", "rows"], report)}
    )


def quality_report(ctx: AccessContext, job_id: int) -> dict[str, int]:
    job = _job(ctx, job_id, "cleaning.read")
    return {k: int(job.counts.get(k, 0)) for k in REPORT_ROWS}
