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
from collections.abc import Callable, Iterator
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
from dancu.blocks.linkage import files, scale
from dancu.blocks.linkage import model as lm
from dancu.blocks.linkage.models import CleaningJob, SectorRecord
from dancu.blocks.linkage.pipeline import (
    DUPLICATE,
    MATCHED,
    REVIEW,
    UNMATCHED,
    LinkResult,
    Outcome,
    SectorRow,
    address_claims,
    annotate,
    apply_address_evidence,
    link,
)
from dancu.blocks.linkage.retention import JOB_FOLDER_PREFIX
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import AddressEvidence, ReferenceRecord
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
    scale: bool = False  # run by the streaming scale path (over ``DANCU_CLEANING_WEB_MAX_ROWS``)


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
        rows=job.row_count or job.records.count(),
        created_at=job.created_at,
        finished_at=job.finished_at,
        scale=job.scale,
    )


# --------------------------------------------------------------------------- upload and mapping
def upload(ctx: AccessContext, file_name: str, content: bytes | BinaryIO) -> JobView:
    """Store a sector file as a new job (all rows or none). ``content`` is the file's bytes or a
    seekable binary file (a big upload stays on disk): it is streamed — hashed, then read and checked
    to its end into a Parquet staging file (``files.stage``, memory bounded by one chunk) — before
    anything is stored. A file of at most ``DANCU_CLEANING_WEB_MAX_ROWS`` rows has its rows inserted
    in batches in one transaction; a bigger one (up to ``files.MAX_ROWS``, ten million) becomes a
    **scale** job: its rows stay in the staging file until :func:`run` streams them through
    ``linkage.scale`` (ADR 0012). A file already uploaded by the same organisation and not failed is
    refused (rule ``duplicate``)."""
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
    staged_name = f"uploads/{digest}-{secrets.token_hex(4)}.parquet"
    staged_path = Path(settings.DANCU_LINKAGE_MODEL_DIR) / staged_name
    keep = False
    try:
        table = files.stage(file_name, fh, staged_path, max_rows=files.MAX_ROWS)
        at_scale = table.rows > int(settings.DANCU_CLEANING_WEB_MAX_ROWS)
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
                row_count=table.rows,
                scale=at_scale,
                staged_file=staged_name if at_scale else "",
            )
            if not at_scale:
                for batch in files.staged_rows(staged_path, batch=UPLOAD_BATCH):
                    SectorRecord.objects.bulk_create(
                        [SectorRecord(job=job, row_no=n, cells=cells) for n, cells in batch],
                        batch_size=UPLOAD_BATCH,
                    )
            audit.record(
                ctx,
                "cleaning.upload",
                detail={"job": job.reference, "rows": table.rows, "scale": at_scale},
            )
        keep = at_scale
    finally:
        if not keep:
            staged_path.unlink(missing_ok=True)
    return _view(job)


UPLOAD_BATCH = 2000
# rows per batch of a scale job (registry pages, sector features, stored outcomes): its memory
SCALE_BATCH = 20_000


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
    ).update(
        status=CleaningJob.Status.QUEUED, progress=0, stage="queued", error="", progressed_at=timezone.now()
    )
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
        CleaningJob.objects.filter(pk=job_id).update(
            progress=pct, stage=stage[:40], progressed_at=timezone.now()
        )

    return say


def run(ctx: AccessContext, job_id: int) -> None:
    """Match the job's rows: read the registry (one audit event), link, store outcomes, audit each
    matched citizen. A failure marks the job ``failed`` with the error (nothing half-stored)."""
    job = _job(ctx, job_id, "cleaning.run")
    now = timezone.now()
    CleaningJob.objects.filter(pk=job.pk).update(
        status=CleaningJob.Status.RUNNING, started_at=now, progressed_at=now
    )
    say = _progress(job.pk)
    try:
        if job.scale:
            _run_at_scale(ctx, job, say)
        else:
            _run_in_memory(ctx, job, say)
    except Exception as exc:
        log.exception("cleaning job %s failed", job.reference)
        CleaningJob.objects.filter(pk=job.pk).update(
            status=CleaningJob.Status.FAILED, stage="failed", error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        if not isinstance(exc, (AccessDenied, DomainValidationError)):
            return
        raise


def _run_in_memory(ctx: AccessContext, job: CleaningJob, say: Callable[[int, str], None]) -> None:
    """A web-sized job: its rows and the jurisdiction's registry in memory (``pipeline.link``)."""
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
    result = link(
        rows,
        reference,
        progress=lambda pct, stage: say(5 + pct * 9 // 10, stage),
        address_evidence=_address_evidence(ctx, job),
    )
    refs = {r.citizen_id: r for r in reference}
    outcomes = {o.key: o for o in result.outcomes}
    for rec in records:
        o = outcomes[rec.pk]
        rec.decision, rec.method, rec.citizen_id = o.decision, o.method, o.citizen_id
        rec.match_weight, rec.probability, rec.explanation = o.match_weight, o.probability, o.explanation
        rec.corrections, rec.flags, rec.problems = o.corrections, o.flags, o.problems
        rec.candidate = _snapshot(refs[o.citizen_id]) if o.citizen_id is not None else {}
        rec.review, rec.reviewed_by_label, rec.reviewed_at = "", "", None
    matched = [o.citizen_id for o in result.outcomes if o.decision in (MATCHED, DUPLICATE) and o.citizen_id]
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


def _address_evidence(
    ctx: AccessContext, job: CleaningJob
) -> Callable[[set[tuple[int, str]]], dict[tuple[int, str], AddressEvidence]]:
    """The registry's answer on the rows linked to a citizen of another ward (previous permanent
    residence → ``moved``, temporary residence there → ``temporary_residence``), for this job."""

    def ask(claims: set[tuple[int, str]]) -> dict[tuple[int, str], AddressEvidence]:
        return registry.cleaning_address_evidence(ctx, claims, job_reference=job.reference)

    return ask


def _run_at_scale(ctx: AccessContext, job: CleaningJob, say: Callable[[int, str], None]) -> None:
    """A job over the web limit, streamed end to end (``linkage.scale``, ADR 0012): the registry is
    read in pages (``registry.cleaning_reference_batches``, one audit event) into a DuckDB file,
    the sector rows are read from the Parquet staging file ``SCALE_BATCH`` at a time, the passes,
    the model and the decisions run in SQL, and the outcomes are stored — with the same proposed
    corrections, flags, explanations and candidate snapshots as the in-memory path — batch by
    batch in **one transaction** with the citizens' audit events: a failure stores nothing (the
    staging file is kept, so the job can be run again)."""
    import tempfile

    import duckdb

    staged = Path(settings.DANCU_LINKAGE_MODEL_DIR) / job.staged_file
    if not job.staged_file or not staged.exists():
        raise Conflict(
            "the uploaded rows are no longer staged: upload the file again", field="file", rule="staged"
        )
    work = Path(settings.DANCU_LINKAGE_MODEL_DIR) / "jobs"
    work.mkdir(parents=True, exist_ok=True)
    total = max(job.row_count, 1)
    # named after the job, so that ``sweep`` knows whose folder a left-over one is
    with tempfile.TemporaryDirectory(dir=work, prefix=f"{JOB_FOLDER_PREFIX}{job.pk}-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "job.duckdb"))
        try:
            con.execute("SET enable_progress_bar = false")
            say(2, "reading the registry")
            citizens = 0
            scale.add_citizens(con, [])
            for page in registry.cleaning_reference_batches(
                ctx, job_reference=job.reference, batch=SCALE_BATCH
            ):
                scale.add_citizens(con, page, append=True)
                citizens += len(page)
            scale.create_reference(con)
            say(10, "normalising")
            scale.add_sector(
                con,
                _staged_sector_rows(job, staged),
                chunk=SCALE_BATCH,
                progress=lambda n: say(10 + 30 * n // total, "normalising"),
            )
            say(42, "id pass")
            scale.id_passes(con)
            rest = int(con.execute("SELECT count(*) FROM rest").fetchone()[0])  # type: ignore[index]
            version, trained = "", {}
            if rest and citizens:
                say(45, "model")
                # the in-memory path's rule: too few pairs to estimate u → the bundled model as it is
                small = rest < lm.MIN_TRAIN_ROWS or citizens < lm.MIN_TRAIN_REFERENCE
                trained = lm.base_model() if small else scale.train(con)
                say(55, "scoring")
                scale.score(con, trained, out="model_out", explain=True)
                version = lm.model_version(trained)
            else:
                con.execute(
                    "CREATE TABLE model_out (key BIGINT, citizen_id BIGINT, match_weight DOUBLE, "
                    "match_probability DOUBLE, decision VARCHAR)"
                )
            say(80, "decisions")
            scale.decide(con, "model_out", out="outcomes")
            say(85, "storing the outcomes")
            _store_at_scale(ctx, job, con, staged, say, model_version=version)
        finally:
            con.close()
    CleaningJob.objects.filter(pk=job.pk).update(staged_file="")
    staged.unlink(missing_ok=True)
    if version:
        save_model(version, trained)


def _staged_sector_rows(job: CleaningJob, staged: Path) -> Iterator[SectorRow]:
    """The staged rows in the job's canonical fields, one at a time (key = row number)."""
    col = {c: i for i, c in enumerate(job.columns)}
    for batch in files.staged_rows(staged, batch=SCALE_BATCH):
        for n, cells in batch:
            yield _sector_row(job.mapping, col, n, cells)


def _store_at_scale(
    ctx: AccessContext,
    job: CleaningJob,
    con: Any,
    staged: Path,
    say: Callable[[int, str], None],
    *,
    model_version: str,
) -> None:
    """Write a scale job's rows with their outcomes (one transaction, ``SCALE_BATCH`` rows in
    memory at a time) and audit the citizens it matched or put up for review (one event each, as
    the in-memory path); the job is done only when all of it is committed."""
    ask = _address_evidence(ctx, job)
    factors = [c for c in (r[0] for r in con.execute("DESCRIBE model_out").fetchall()) if c.startswith("bf_")]
    cit = ", ".join(f"c.{f} AS c_{f}" for f in _CITIZEN_FIELDS)
    bf = "".join(f", mo.{c}" for c in factors)
    cur = con.cursor()
    cur.execute(
        f"""
        SELECT o.key, o.decision, o.citizen_id, o.method, o.match_weight, mo.match_probability,
               s.dob, s.ward_code, s.problems,
               (h.key IS NULL AND o.key IN (SELECT key FROM id_candidates)) AS id_conflict,
               {cit}{bf}
        FROM outcomes o
        JOIN sector s ON s.unique_id = o.key
        LEFT JOIN id_hits h ON h.key = o.key
        LEFT JOIN model_out mo ON mo.key = o.key
        LEFT JOIN citizens c ON c.citizen_id = o.citizen_id
        ORDER BY o.key
        """  # noqa: S608 — this module's own column names
    )
    names = [d[0] for d in cur.description]
    counts: dict[str, int] = {}
    done = 0
    col = {c: i for i, c in enumerate(job.columns)}
    with transaction.atomic():
        for batch in files.staged_rows(staged, batch=SCALE_BATCH):
            found = [dict(zip(names, r, strict=True)) for r in cur.fetchmany(len(batch))]
            records, outcomes, refs, feats = [], [], [], {}
            for (row_no, cells), out in zip(batch, found, strict=True):
                if out["key"] != row_no:
                    raise RuntimeError("the outcomes are not in the file's order")
                o = _outcome(out)
                ref = _reference(out) if o.citizen_id is not None else None
                if ref is not None:
                    row = _sector_row(job.mapping, col, row_no, cells)
                    feats[row_no] = {"dob": out["dob"], "ward_code": out["ward_code"]}
                    annotate(o, row, feats[row_no], ref)
                outcomes.append(o)
                refs.append(ref)
            claims = address_claims(outcomes, feats)
            if claims:  # the batch's rows of another ward, asked of the registry at once
                apply_address_evidence(outcomes, feats, ask(claims))
            for (row_no, cells), o, ref in zip(batch, outcomes, refs, strict=True):
                records.append(
                    SectorRecord(
                        job=job,
                        row_no=row_no,
                        cells=cells,
                        decision=o.decision,
                        method=o.method,
                        citizen_id=o.citizen_id,
                        match_weight=o.match_weight,
                        probability=o.probability,
                        explanation=o.explanation,
                        corrections=o.corrections,
                        flags=o.flags,
                        problems=o.problems,
                        candidate=_snapshot(ref) if ref is not None else {},
                    )
                )
            SectorRecord.objects.bulk_create(records, batch_size=UPLOAD_BATCH)
            for k, v in LinkResult(outcomes, "", {}).counts().items():
                counts[k] = counts.get(k, 0) + v
            done += len(batch)
            say(85 + 14 * done // max(job.row_count, 1), "storing the outcomes")
        if cur.fetchone() is not None:
            raise RuntimeError("more outcomes than staged rows")
        for decisions, as_candidates in (("'matched', 'duplicate'", False), ("'review'", True)):
            ids = con.cursor()
            ids.execute(
                f"SELECT DISTINCT citizen_id FROM outcomes WHERE decision IN ({decisions}) "  # noqa: S608
                "AND citizen_id IS NOT NULL ORDER BY 1"
            )
            while page := [int(r[0]) for r in ids.fetchmany(SCALE_BATCH)]:
                registry.record_cleaning_matches(
                    ctx,
                    [] if as_candidates else page,
                    job_reference=job.reference,
                    candidates=page if as_candidates else None,
                )
        CleaningJob.objects.filter(pk=job.pk).update(
            status=CleaningJob.Status.DONE,
            progress=100,
            stage="done",
            counts=counts,
            model_version=model_version,
            finished_at=timezone.now(),
        )


_CITIZEN_FIELDS = (
    "id_number",
    "full_name",
    "date_of_birth",
    "dob_precision",
    "sex",
    "permanent_address_text",
    "permanent_ward_code",
    "permanent_legacy_ward_code",
    "life_status",
    "date_of_death",
)


def _sector_row(mapping: dict[str, str], col: dict[str, int], row_no: int, cells: list[str]) -> SectorRow:
    return SectorRow(row_no, **{f: cells[col[c]] if col[c] < len(cells) else "" for f, c in mapping.items()})


def _outcome(out: dict[str, Any]) -> Outcome:
    """One row of the scale path's outcome table as the in-memory pipeline's ``Outcome``."""
    problems = [p for p in (out["problems"] or "").split(",") if p]
    if out["id_conflict"]:
        problems.append("id_number_conflict")
    if out["decision"] == UNMATCHED:  # as the pipeline: no citizen, no score below the threshold
        return Outcome(out["key"], UNMATCHED, problems=problems)
    from_model = out["method"] == "model"
    return Outcome(
        out["key"],
        out["decision"],
        citizen_id=int(out["citizen_id"]),
        method=out["method"],
        match_weight=round(float(out["match_weight"]), 2) if from_model else None,
        probability=round(float(out["match_probability"]), 6) if from_model else None,
        explanation=lm._explain(out) if from_model else {},
        problems=problems,
    )


def _reference(out: dict[str, Any]) -> ReferenceRecord:
    """The matched citizen's registry fields (from the job's own DuckDB copy of its reference)."""
    v = {f: out[f"c_{f}"] for f in _CITIZEN_FIELDS}
    return ReferenceRecord(
        citizen_id=int(out["citizen_id"]),
        id_number=v["id_number"] or "",
        full_name=v["full_name"] or "",
        date_of_birth=v["date_of_birth"],
        dob_precision=v["dob_precision"] or "",
        sex=v["sex"] or "",
        permanent_address_text=v["permanent_address_text"] or "",
        permanent_ward_code=v["permanent_ward_code"] or "",
        permanent_legacy_ward_code=v["permanent_legacy_ward_code"] or "",
        life_status=v["life_status"] or "",
        date_of_death=v["date_of_death"],
    )


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
    recorded in the citizen's audit log like an automatic match. The quality report follows: the
    decisions are counted again, and the row's part in "corrected" and in the flags moves with it
    (an accepted row with proposed corrections is corrected; a rejected row's flags no longer
    count, as an unmatched row has none)."""
    job = _job(ctx, job_id, "cleaning.review")
    with transaction.atomic():
        CleaningJob.objects.select_for_update().filter(pk=job.pk).first()  # one decision at a time
        job.refresh_from_db(fields=["counts"])
        rec = SectorRecord.objects.select_for_update().filter(pk=record_id, job=job).first()
        if rec is None or rec.method != "model" or (rec.decision != REVIEW and not rec.review):
            raise NotFound("no pair to review with that number", field="record")
        before = _report_part(rec)
        rec.review = "accepted" if accept else "rejected"
        rec.decision = MATCHED if accept else UNMATCHED
        rec.reviewed_by_label, rec.reviewed_at = ctx.actor.label[:150], timezone.now()
        rec.save(update_fields=["review", "decision", "reviewed_by_label", "reviewed_at"])
        if accept and rec.citizen_id:
            registry.record_cleaning_matches(ctx, [rec.citizen_id], job_reference=job.reference)
        _recount(job, before, _report_part(rec))
    return _item(job, rec)


def _report_part(rec: SectorRecord) -> dict[str, int]:
    """What one row adds to the quality report's "corrected" and flag rows (as
    ``LinkResult.counts`` counts them)."""
    part: dict[str, int] = {}
    if rec.decision == MATCHED and rec.corrections:
        part["corrected"] = 1
    if rec.decision != UNMATCHED:
        for flag in rec.flags:
            part[flag] = part.get(flag, 0) + 1
    return part


def _recount(job: CleaningJob, before: dict[str, int], after: dict[str, int]) -> None:
    counts = dict(job.counts)
    for d in (MATCHED, REVIEW, UNMATCHED, DUPLICATE):
        counts[d] = job.records.filter(decision=d).count()
    for key in set(before) | set(after):
        counts[key] = int(counts.get(key, 0)) - before.get(key, 0) + after.get(key, 0)
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
REPORT_ROWS = (
    "matched",
    "corrected",
    "review",
    "unmatched",
    "duplicate",
    "deceased",
    "moved",
    "temporary_residence",
    "address_differs",
)


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
                "; ".join(f"{c['field']}: {c['from']} → {c['to']} ({_rule_text(c)})" for c in rec.corrections)
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


def _rule_text(correction: dict[str, Any]) -> str:
    """The correction's source as the export writes it: the rule, and for a move the date the
    citizen left the file's address (``registry_moved 2025-03-14``)."""
    moved_on = correction.get("moved_on")
    return f"{correction['rule']} {moved_on}" if moved_on else str(correction["rule"])


def quality_report(ctx: AccessContext, job_id: int) -> dict[str, int]:
    job = _job(ctx, job_id, "cleaning.read")
    return {k: int(job.counts.get(k, 0)) for k in REPORT_ROWS}
