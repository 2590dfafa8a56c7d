"""Land users and home owners (model 34 of Project 06): a land office's register of certificates
is cleaned against the population registry (``linkage``, purpose ``data.cleaning``) and imported;
each owner is linked to a 12-digit ID number, the corrections the cleaning proposes wait for an
officer's decision with their provenance (field, from, to, rule, job), and owners who could not be
matched, are uncertain, have died or moved are queued for the land office. Nothing in the register
as received is overwritten: an accepted correction is stored beside the original (Land Law 2024
Art. 131–133; Decree 101/2024/NĐ-CP). Only a land office's officers act, on their own registers;
every action and every refusal is an audit event."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from dancu.apps.gateway_client.cleaned import CORRECTIONS, FLAGS, ID_NUMBER, RESULT, cleaned_rows
from dancu.apps.land.models import Correction, LandOffice, LandRecord, LandRegister
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.linkage import files
from dancu.blocks.linkage import services as linkage
from dancu.errors import AccessDenied, Conflict, DomainValidationError, NotFound

PURPOSE = linkage.PURPOSE
# "field: from → to (rule)", as ``linkage.services.export`` writes a proposed correction.
_FIX = re.compile(r"^(?P<field>[a-z_]+): (?P<from>.*) → (?P<to>.*) \((?P<rule>[^()]*)\)$")
QUEUED_FLAGS = {"deceased", "moved", "address_differs"}  # temporary_residence is no mismatch


def _ctx(actor: Actor, action: str) -> AccessContext:
    """The context of a land office's officer; anyone else is refused (audited, 403)."""
    ctx = AccessContext(actor, PURPOSE)
    office = (
        actor.organisation_id is not None
        and LandOffice.objects.filter(organisation_id=actor.organisation_id).exists()
    )
    if office and actor.may(PURPOSE):
        return ctx
    audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={"reason": "land_office"})
    raise AccessDenied(
        "only the officers of a land registration office may do this", field="actor", rule="land_office"
    )


def _register(actor: Actor, register_id: int, action: str) -> tuple[AccessContext, LandRegister]:
    ctx = _ctx(actor, action)
    reg = LandRegister.objects.filter(pk=register_id, organisation_id=actor.organisation_id or 0).first()
    if reg is None:  # another office's register is not disclosed
        raise NotFound("no such register", field="register")
    return ctx, reg


def _cell(row: dict[str, str], column: str) -> str:
    return row.get(column) or ""


def parse_fixes(text: str) -> list[dict[str, str]]:
    """The proposed corrections of an exported row (``; ``-separated); unparseable parts are
    refused rather than guessed."""
    out = []
    for part in filter(None, (p.strip() for p in text.split("; "))):
        m = _FIX.match(part)
        if m is None:
            raise DomainValidationError.single("corrections", "format", f"cannot read {part[:80]!r}")
        out.append(m.groupdict())
    return out


@dataclass(frozen=True)
class RegisterView:
    register_id: int
    reference: str
    title: str
    source_job: str
    records: int
    linked: int
    queued: int
    proposed: int


def _queued(records: list[LandRecord]) -> list[LandRecord]:
    return [
        r
        for r in records
        if r.result != "matched"
        or QUEUED_FLAGS & set(r.flags)
        or any(c.status == "proposed" for c in r.corrections.all())
    ]


def _view(reg: LandRegister) -> RegisterView:
    records = list(reg.records.prefetch_related("corrections"))
    return RegisterView(
        reg.pk,
        reg.reference,
        reg.title,
        reg.source_job,
        len(records),
        sum(1 for r in records if r.id_number),
        len(_queued(records)),
        Correction.objects.filter(record__register=reg, status=Correction.Status.PROPOSED).count(),
    )


def finished_jobs(actor: Actor) -> list[linkage.JobView]:
    return [j for j in linkage.list_jobs(_ctx(actor, "land.read")) if j.status == "done"]


def import_register(
    actor: Actor, job_id: int, *, title: str, certificate_column: str, parcel_column: str
) -> RegisterView:
    """Import a finished cleaning job of the office's register file: every row, its link, flags and
    proposed corrections (provenance: the job's reference). All rows or none."""
    ctx = _ctx(actor, "land.import")
    job = linkage.get_job(ctx, job_id)
    for name, column in (("certificate_column", certificate_column), ("parcel_column", parcel_column)):
        if column not in job.columns:
            raise DomainValidationError.single(name, "column", f"the file has no column {column!r}")
    if LandRegister.objects.filter(
        organisation_id=actor.organisation_id or 0, source_job=job.reference
    ).exists():
        raise DomainValidationError.single("job", "duplicate", f"job {job.reference} was already imported")
    rows = cleaned_rows(ctx, job_id)
    name_col, id_col = job.mapping.get("full_name", ""), job.mapping.get("id_number", "")
    with transaction.atomic():
        reg = LandRegister.objects.create(
            reference=f"SD-{secrets.token_hex(4).upper()}",
            organisation_id=actor.organisation_id or 0,
            title=title.strip()[:255] or job.file_name,
            source_job=job.reference,
            created_by=actor.label[:150],
        )
        for row_no, row in enumerate(rows, start=1):
            certificate = _cell(row, certificate_column)
            if not certificate:
                raise DomainValidationError.single(
                    f"rows[{row_no}].{certificate_column}", "required", "the certificate number"
                )
            rec = LandRecord.objects.create(
                register=reg,
                row_no=row_no,
                certificate_no=certificate[:64],
                parcel=_cell(row, parcel_column)[:64],
                owner_name=_cell(row, name_col)[:255],
                id_cell=_cell(row, id_col)[:64],
                id_number=_cell(row, ID_NUMBER),
                result=_cell(row, RESULT)[:16],
                flags=[f for f in (x.strip() for x in _cell(row, FLAGS).split(",")) if f],
            )
            Correction.objects.bulk_create(
                Correction(
                    record=rec,
                    field=f["field"],
                    from_value=f["from"][:255],
                    to_value=f["to"][:255],
                    rule=f["rule"][:64],
                    source=job.reference,
                )
                for f in parse_fixes(_cell(row, CORRECTIONS))
            )
        audit.record(
            ctx, "land.import", detail={"register": reg.reference, "job": job.reference, "rows": len(rows)}
        )
    return _view(reg)


def registers(actor: Actor) -> list[RegisterView]:
    _ctx(actor, "land.read")
    return [_view(r) for r in LandRegister.objects.filter(organisation_id=actor.organisation_id or 0)]


def get_register(actor: Actor, register_id: int) -> tuple[RegisterView, list[LandRecord], list[LandRecord]]:
    """The register, all its records, and the queue of those the office must look at."""
    _, reg = _register(actor, register_id, "land.read")
    records = list(reg.records.prefetch_related("corrections"))
    return _view(reg), records, _queued(records)


def decide_correction(actor: Actor, correction_id: int, *, accept: bool) -> Correction:
    """Accept or reject one proposed correction; a decided one is not decided again (409)."""
    ctx = _ctx(actor, "land.correction")
    with transaction.atomic():
        c = (
            Correction.objects.select_for_update()
            .select_related("record__register")
            .filter(pk=correction_id, record__register__organisation_id=actor.organisation_id or 0)
            .first()
        )
        if c is None:
            raise NotFound("no such correction", field="correction")
        if c.status != Correction.Status.PROPOSED:
            raise Conflict(f"the correction was already {c.status}", field="correction", rule="state")
        c.status = Correction.Status.ACCEPTED if accept else Correction.Status.REJECTED
        c.decided_by, c.decided_at = actor.label[:150], timezone.now()
        c.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record(
            ctx,
            "land.correction",
            detail={"register": c.record.register.reference, "row": c.record.row_no, "field": c.field,
                    "status": c.status, "source": c.source},
        )  # fmt: skip
    return c


EXPORT_HEADER = [
    "số GCN / certificate",
    "thửa đất / parcel",
    "chủ sử dụng (theo sổ) / owner as registered",
    "số giấy tờ (theo sổ) / ID as registered",
    "số định danh / ID number",
    "kết quả / result",
    "ghi chú / flags",
    "đính chính đã chấp nhận / accepted corrections",
    "đính chính chờ xử lý / pending corrections",
]


def export_register(actor: Actor, register_id: int, *, fmt: str) -> tuple[str, bytes]:
    """The register with ID numbers, flags and corrections (accepted, pending) beside the cells as
    received; CSV or XLSX, escaped against formula injection."""
    ctx, reg = _register(actor, register_id, "land.export")
    if fmt not in ("csv", "xlsx"):
        raise DomainValidationError.single("format", "choice", "csv or xlsx")

    def fixes(rec: LandRecord, status: str) -> str:
        return "; ".join(
            f"{c.field}: {c.from_value} → {c.to_value} ({c.rule}, {c.source})"
            for c in rec.corrections.all()
            if c.status == status
        )

    rows: list[list[object]] = [
        [
            r.certificate_no,
            r.parcel,
            r.owner_name,
            r.id_cell,
            r.id_number,
            r.result,
            ", ".join(r.flags),
            fixes(r, "accepted"),
            fixes(r, "proposed"),
        ]
        for r in reg.records.prefetch_related("corrections")
    ]
    audit.record(ctx, "land.export", detail={"register": reg.reference, "format": fmt, "rows": len(rows)})
    stem = f"{reg.reference}-so-dia-chinh"
    if fmt == "csv":
        return f"{stem}.csv", files.write_csv(EXPORT_HEADER, rows)
    return f"{stem}.xlsx", files.write_xlsx({"register": (EXPORT_HEADER, rows)})


@dataclass(frozen=True)
class MyCertificate:
    certificate_no: str
    parcel: str
    register: str
    office_register_reference: str


def my_certificates(user_id: int) -> list[MyCertificate]:
    """The certificates on which the logged-in citizen is a linked owner: their e-identification
    account must be matched to a registry record (``eid.citizen_of``), and only rows linked to
    their own ID number are shown — never a co-owner's. The read is audited on their history
    (purpose ``citizen.self_access``)."""
    from dancu.blocks.eid import services as eid

    mine = eid.citizen_of(user_id)
    if mine is None:
        raise NotFound("your account is not matched to a registry record", field="account")
    citizen_id, id_number = mine
    rows = (
        LandRecord.objects.filter(id_number=id_number, result__in=("matched", "duplicate"))
        .select_related("register")
        .order_by("register__created_at", "row_no")
    )
    out = [MyCertificate(r.certificate_no, r.parcel, r.register.title, r.register.reference) for r in rows]
    ctx = AccessContext(eid.account_actor(user_id), "citizen.self_access")
    audit.record(
        ctx, "land.self_read", subject_citizen_id=citizen_id, detail={"certificates": len(out)}, durable=False
    )
    return out
