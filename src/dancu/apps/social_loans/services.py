"""Social-policy loans (model 20 of Project 06): commune lists cleaned against the registry,
eligibility decided by rules kept as data, each decision explained rule by rule.

Actors (``Participant``): the **list owner** (the department that compiles the poor / near-poor
and merit lists of the communes — Sở LĐTBXH, now Sở Nội vụ — and cleans them with the linkage jobs,
purpose ``data.cleaning``) imports a finished cleaning job as a list; the **lender** (a branch of
the Vietnam Bank for Social Policies, Decree 78/2002/NĐ-CP Art. 1–2) asks "is this person
eligible for programme X?" and gets yes/no with reason codes. The registry facts behind the answer
(age, residence, life status, household) are fetched through the data-exchange gateway under the
bank's grant (``apps/gateway_client``); the officer sees the outcome of each rule, not the household's
data (least data, Law 91/2025/QH15 Art. 3). Officers decide and export; only the lender's
administrators publish rule sets. Every action, and every refusal, is an audit event.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from dancu.apps.gateway_client import client as gateway_client
from dancu.apps.gateway_client.cleaned import ID_NUMBER, RESULT, cleaned_rows
from dancu.apps.social_loans import rules
from dancu.apps.social_loans.models import (
    BeneficiaryList,
    Decision,
    ListEntry,
    Loan,
    Participant,
    Programme,
    RuleSet,
)
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.linkage import files
from dancu.blocks.linkage import services as linkage
from dancu.blocks.organisations.models import Membership
from dancu.blocks.organisations.policy import INTEGRATION
from dancu.blocks.registry import subjects
from dancu.blocks.registry.idnumber import parse_id_number
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound
from dancu.validation import JsonInputError, loads_json

LIST_OWNER, LENDER = Participant.Role.LIST_OWNER, Participant.Role.LENDER
SYSTEM = "social_loans"  # the bank's gateway client (``gateway_client``)
# The purpose of the bank's grant: checking eligibility for a social-policy loan (its own purpose,
# allowed only to the social-policy bank's kind by ``organisations.policy``; least data: the answer
# is yes/no with reason codes, ADR 0015). A gateway-only read (ADR 0022): the bank's officers do not
# hold it — they ask here by their role (``LENDER_ROLES``), the facts come through the gateway.
GATEWAY_PURPOSE = "social_policy.credit"
# The purpose each participant acts under: cleaning for the list owner, the grant's purpose
# (processing the loan application) for the lender.
PURPOSE_OF: dict[str, str] = {LIST_OWNER: linkage.PURPOSE, LENDER: GATEWAY_PURPOSE}
# The roles that ask for the lender (``_lender_staff``): its credit officers and its API key.
LENDER_ROLES = frozenset({Membership.Role.OFFICER.value, INTEGRATION})
# Reading a commune list (names, ID numbers, household status): audited per person named on it.
LIST_READ = "social_loans.list_read"
# An eligibility answer given to a lender about a person: on that person's access history.
ANSWERED = "social_loans.eligibility_answer"
PROGRAMMES_FILE = Path(__file__).parent / "data" / "programmes.json"

# Household status as commune lists write it (Circular 07/2021/TT-BLĐTBXH forms), folded to the code.
STATUS_WORDS = {
    "ho ngheo": ListEntry.Status.POOR,
    "ngheo": ListEntry.Status.POOR,
    "poor": ListEntry.Status.POOR,
    "ho can ngheo": ListEntry.Status.NEAR_POOR,
    "can ngheo": ListEntry.Status.NEAR_POOR,
    "near_poor": ListEntry.Status.NEAR_POOR,
    "ho moi thoat ngheo": ListEntry.Status.ESCAPED,
    "moi thoat ngheo": ListEntry.Status.ESCAPED,
    "escaped": ListEntry.Status.ESCAPED,
    "nguoi co cong": ListEntry.Status.MERIT,
    "co cong": ListEntry.Status.MERIT,
    "merit": ListEntry.Status.MERIT,
}


def _fold(text: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in t if not unicodedata.combining(c)).lower().split())


# --------------------------------------------------------------------------- access
def roles_of(actor: Actor) -> set[str]:
    if actor.organisation_id is None:
        return set()
    return set(Participant.objects.filter(organisation_id=_org_id(actor)).values_list("role", flat=True))


def _require(actor: Actor, role: str, action: str, *, admin: bool = False) -> AccessContext:
    """The context to act in as ``role``; a refusal is audited and raised (403)."""
    ctx = AccessContext(actor, PURPOSE_OF[role])
    # Officers act on personal data under the purpose; publishing rules touches none and is the
    # administrators' (whose role has no personal-data purpose).
    # The lender's own system (its organisation's API key, role ``integration``) asks like its
    # officers: the registry's facts it relies on are still limited by the bank's gateway grant.
    lender = role == LENDER and _lender_staff(actor) and not admin
    if role in roles_of(actor) and (actor.role == "admin" if admin else actor.may(ctx.purpose) or lender):
        return ctx
    audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={"reason": role})
    need = "an administrator of the lender" if admin else f"an organisation taking part as {role}"
    raise AccessDenied(f"only {need} may do this", field="actor", rule=role)


def _lender_staff(actor: Actor) -> bool:
    """Whether ``actor`` asks for the lender: its credit officers and its own system (API key).
    Neither holds a registry read — the officers' role has no purpose at all (the console stays
    closed to them; ``organisations.policy``), and ``social_policy.credit`` is a gateway-only read
    (``registry.GATEWAY_READ_PURPOSES``): the facts come through the bank's gateway member."""
    return actor.role in LENDER_ROLES or actor.may(GATEWAY_PURPOSE)


def _org_id(actor: Actor) -> int:
    """The acting organisation (``_require`` has checked that there is one)."""
    return actor.organisation_id or 0


def _audit_ctx(actor: Actor) -> AccessContext:
    return AccessContext(actor, GATEWAY_PURPOSE)


# --------------------------------------------------------------------------- programmes and rules
def ensure_programmes() -> list[Programme]:
    """Load the bundled programmes and their first rule set (``data/programmes.json``) when
    missing; later versions are published by the lender's administrators. Idempotent."""
    out = []
    for p in json.loads(PROGRAMMES_FILE.read_text("utf-8")):
        prog, _ = Programme.objects.get_or_create(
            code=p["code"],
            defaults={"name_vi": p["name_vi"], "name_en": p["name_en"], "legal_basis": p["legal_basis"]},
        )
        if not prog.rule_sets.exists():
            RuleSet.objects.create(
                programme=prog,
                version=1,
                rules=rules.validate(p["rules"]),
                note="bundled",
                created_by="system",
            )
        out.append(prog)
    return out


def programmes() -> list[Programme]:
    return list(Programme.objects.filter(active=True))


def rules_in_force(code: str) -> RuleSet:
    rs = RuleSet.objects.filter(programme__code=code, programme__active=True).order_by("-version").first()
    if rs is None:
        raise NotFound(f"no programme {code!r}", field="programme")
    return rs


def publish_rules(actor: Actor, code: str, text: str, *, note: str) -> RuleSet:
    """A new version of a programme's rules (lender administrators only); the text must be a JSON
    list that ``rules.validate`` accepts — nothing is stored otherwise."""
    _require(actor, LENDER, "social_loans.rules_publish", admin=True)  # a refusal stays audited
    current = rules_in_force(code)
    try:
        parsed = loads_json(text)
    except JsonInputError as exc:
        raise DomainValidationError.single("rules", exc.rule, str(exc)) from None
    with transaction.atomic():
        return _publish(actor, current, parsed, note)


def _publish(actor: Actor, current: RuleSet, parsed: Any, note: str) -> RuleSet:
    code = current.programme.code
    version = (RuleSet.objects.filter(programme=current.programme).aggregate(v=Max("version"))["v"] or 0) + 1
    rs = RuleSet.objects.create(
        programme=current.programme,
        version=version,
        rules=rules.validate(parsed),
        note=note[:255],
        created_by=actor.label[:150],
    )
    audit.record(
        _audit_ctx(actor), "social_loans.rules_publish", detail={"programme": code, "version": version}
    )
    return rs


# --------------------------------------------------------------------------- lists
@dataclass(frozen=True)
class ListView:
    list_id: int
    reference: str
    title: str
    ward_code: str
    year: int
    source_job: str
    entries: int
    with_id: int


def _list_view(bl: BeneficiaryList) -> ListView:
    entries = bl.entries.all()
    return ListView(
        bl.pk,
        bl.reference,
        bl.title,
        bl.ward_code,
        bl.year,
        bl.source_job,
        entries.count(),
        entries.exclude(id_number="").count(),
    )


def finished_jobs(actor: Actor) -> list[linkage.JobView]:
    """The list owner's finished cleaning jobs (the lists it may import)."""
    ctx = _require(actor, LIST_OWNER, LIST_READ)
    return [j for j in linkage.list_jobs(ctx) if j.status == "done"]


def _cell(row: dict[str, str], column: str) -> str:
    return row.get(column) or ""


def import_list(
    actor: Actor,
    job_id: int,
    *,
    ward_code: str,
    year: int,
    title: str,
    status_column: str,
    head_column: str = "",
) -> ListView:
    """Import a finished cleaning job as a commune list: each row with its status (from
    ``status_column``), the ID number the cleaning attached (matched and duplicate rows; empty
    otherwise) and the household head's ID number (``head_column``; empty: the person heads the
    household). All rows or none: a row with an unknown status or a malformed head number refuses
    the whole file, naming the row."""
    ctx = _require(actor, LIST_OWNER, "social_loans.list_import")  # outside the transaction: audited
    with transaction.atomic():
        if not (len(ward_code) == 5 and ward_code.isdigit()):
            raise DomainValidationError.single(
                "ward_code", "format", "the 5-digit code of the commune or ward"
            )
        if not 2020 <= year <= 2100:
            raise DomainValidationError.single("year", "range", "a year from 2020")
        job = linkage.get_job(ctx, job_id)
        if BeneficiaryList.objects.filter(organisation_id=_org_id(actor), source_job=job.reference).exists():
            raise DomainValidationError.single(
                "job", "duplicate", f"job {job.reference} was already imported"
            )
        name_column = job.mapping.get("full_name", "")
        for field_name, column in (("status_column", status_column), ("full_name", name_column)):
            if column not in job.columns:
                raise DomainValidationError.single(field_name, "column", f"the file has no column {column!r}")
        if head_column and head_column not in job.columns:
            raise DomainValidationError.single(
                "head_column", "column", f"the file has no column {head_column!r}"
            )
        reader = cleaned_rows(ctx, job_id)
        problems: list[FieldProblem] = []
        entries: list[ListEntry] = []
        for row_no, row in enumerate(reader, start=1):
            status = STATUS_WORDS.get(_fold(_cell(row, status_column)))
            if status is None:
                problems.append(
                    FieldProblem(
                        f"rows[{row_no}].{status_column}",
                        "status",
                        "hộ nghèo, cận nghèo, mới thoát nghèo or người có công",
                    )
                )
                continue
            id_number = _cell(row, ID_NUMBER)
            head = _cell(row, head_column) if head_column else ""
            if head and not (len(head) == 12 and head.isdigit()):
                problems.append(FieldProblem(f"rows[{row_no}].{head_column}", "id_number", "12 digits"))
                continue
            entries.append(
                ListEntry(
                    row_no=row_no,
                    full_name=_cell(row, name_column)[:255],
                    id_number=id_number,
                    household_head_id_number=head or id_number,
                    status=status,
                    cleaning_result=_cell(row, RESULT)[:16],
                )
            )
        if problems:
            raise DomainValidationError(problems[:50])
        bl = BeneficiaryList.objects.create(
            reference=f"DS-{secrets.token_hex(4).upper()}",
            organisation_id=_org_id(actor),
            ward_code=ward_code,
            year=year,
            title=title.strip()[:255] or job.file_name,
            source_job=job.reference,
            created_by=actor.label[:150],
        )
        for e in entries:
            e.beneficiary_list = bl
        ListEntry.objects.bulk_create(entries)
        audit.record(
            ctx,
            "social_loans.list_import",
            detail={"list": bl.reference, "job": job.reference, "rows": len(entries)},
        )
        return _list_view(bl)


def _list_reader(actor: Actor) -> tuple[str, AccessContext]:
    """The participant role under which ``actor`` reads commune lists, and its context: the lender's
    officers (purpose of the bank's grant) or its own system, or the list owner's officers (purpose
    ``data.cleaning``). Anyone else — the bank's administrators and statistics members, a
    department taking no part — is refused, audited (Law 91/2025/QH15 Art. 3: purpose limitation)."""
    roles = roles_of(actor)
    if LENDER in roles and _lender_staff(actor):
        return LENDER, _require(actor, LENDER, LIST_READ)
    role = LIST_OWNER if LIST_OWNER in roles else LENDER
    return role, _require(actor, role, LIST_READ)


def may_read_lists(actor: Actor) -> bool:
    """Whether the pages should show the lists to ``actor`` (no audit: nothing is read)."""
    roles = roles_of(actor)
    return (LENDER in roles and _lender_staff(actor)) or (
        LIST_OWNER in roles and actor.may(PURPOSE_OF[LIST_OWNER])
    )


def _lists_seen_by(actor: Actor, role: str) -> Any:
    """The lists an organisation may see: the list owner its own; the lender those sent to it —
    every list owner's lists go to the organisations taking part as lender."""
    if role == LENDER:
        return BeneficiaryList.objects.all()
    return BeneficiaryList.objects.filter(organisation_id=_org_id(actor))


def lists_for(actor: Actor) -> list[ListView]:
    """The lists ``actor`` may see (titles and counts, no person's data)."""
    role, _ = _list_reader(actor)
    return [_list_view(bl) for bl in _lists_seen_by(actor, role)]


def get_list(actor: Actor, list_id: int) -> tuple[ListView, list[ListEntry]]:
    """One list with its entries (names, ID numbers, household status): each person named on it
    — the entry and the household head — gets the read on their access history
    (``registry.subjects``); another organisation's list is "not found" (audited)."""
    role, ctx = _list_reader(actor)
    bl = _lists_seen_by(actor, role).filter(pk=list_id).first()
    if bl is None:
        audit.record(ctx, LIST_READ, result=AuditEvent.Result.NOT_FOUND, detail={"list_id": list_id})
        raise NotFound("no such list", field="list")
    entries = list(bl.entries.all())
    named = [n for e in entries for n in (e.id_number, e.household_head_id_number)]
    with transaction.atomic():
        subjects.record_access(ctx, LIST_READ, named, detail={"list": bl.reference}, durable=False)
    return _list_view(bl), entries


# --------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class DecisionView:
    reference: str
    programme: str
    rule_version: int
    id_number: str
    full_name: str
    eligible: bool
    reasons: list[dict[str, str]]
    exchange_messages: list[int]
    created_at: Any
    recipient: str = ""  # the lender organisation that asked and received the answer


def _decision_view(d: Decision) -> DecisionView:
    return DecisionView(
        d.reference,
        d.programme.code,
        d.rule_set.version,
        d.id_number,
        d.entry.full_name if d.entry else "",
        d.eligible,
        list(d.reasons),
        list(d.exchange_messages),
        d.created_at,
        d.recipient_name,
    )


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def registry_facts(
    actor: Actor, id_number: str, entry: ListEntry | None, reference: str
) -> tuple[dict[str, Any], list[int]]:
    """The facts the registry holds, fetched through the gateway under the lender's grant: the
    household (members' ID numbers, dates of birth, life status) and the residence (permanent
    address's ward). A refused or failed exchange leaves the facts it would have given unknown."""
    end_user = re.sub(r"[^\w.@:+-]", "_", actor.label)[:100] or "officer"  # the gateway's X-End-User
    facts: dict[str, Any] = {}
    messages: list[int] = []

    def fetch(service: str) -> gateway_client.Reply:
        return gateway_client.call(
            _org_id(actor),
            SYSTEM,
            service,
            id_number,
            purpose=GATEWAY_PURPOSE,
            end_user=end_user,
            case_reference=reference,
        )

    hh = fetch("household")
    messages.append(hh.message_id)
    if hh.status == 200:
        items = hh.body.get("data", {}).get("items", [])
        me = next((i for i in items if i.get("id_number") == id_number), None)
        if me is not None:
            if me.get("date_of_birth"):
                facts["age"] = _age(date.fromisoformat(me["date_of_birth"]), timezone.localdate())
            facts["life_status"] = me.get("life_status")
        if entry is not None:
            ids = {i.get("id_number") for i in items}
            facts["in_listed_household"] = entry.household_head_id_number in ids
    res = fetch("residence")
    messages.append(res.message_id)
    if res.status == 200 and entry is not None:
        address = res.body.get("data", {}).get("permanent_address") or {}
        facts["resides_in_commune"] = address.get("ward_code") == entry.beneficiary_list.ward_code
    return facts, messages


def _entry_for(id_number: str, entry_id: int | None) -> ListEntry | None:
    qs = ListEntry.objects.select_related("beneficiary_list")
    if entry_id is not None:
        entry = qs.filter(pk=entry_id).first()
        if entry is None or entry.id_number != id_number:
            raise NotFound("no such list entry", field="entry")
        return entry
    return (
        qs.filter(id_number=id_number)
        .order_by("-beneficiary_list__year", "-beneficiary_list__created_at")
        .first()
    )


def decide(actor: Actor, programme: str, id_number: str, *, entry_id: int | None = None) -> DecisionView:
    """Is this person eligible for ``programme``? Every rule of the version in force is evaluated
    on the list's facts, the registry's (through the gateway) and the lender's loan book; the
    decision keeps each rule's outcome and reason code and the gateway messages used."""
    ctx = _require(actor, LENDER, "social_loans.decide")
    id_number = id_number.strip()
    parse_id_number(id_number)
    rs = rules_in_force(programme)
    entry = _entry_for(id_number, entry_id)
    reference = f"QD-{secrets.token_hex(5).upper()}"
    facts, messages = registry_facts(actor, id_number, entry, reference)
    facts["household_status"] = entry.status if entry is not None else "none"
    facts["borrowing_same_programme"] = Loan.objects.filter(
        organisation_id=_org_id(actor),
        programme=rs.programme,
        id_number=id_number,
        status=Loan.Status.OUTSTANDING,
    ).exists()
    outcomes = rules.evaluate(list(rs.rules), facts)
    with transaction.atomic():
        d = Decision.objects.create(
            reference=reference,
            organisation_id=_org_id(actor),
            programme=rs.programme,
            rule_set=rs,
            entry=entry,
            id_number=id_number,
            eligible=rules.eligible(outcomes),
            reasons=[o.as_json() for o in outcomes],
            exchange_messages=messages,
            asked_by=actor.label[:150],
            recipient_name=actor.organisation_name[:255],
        )
        detail: dict[str, object] = {
            "decision": reference,
            "programme": programme,
            "version": rs.version,
            "recipient": d.recipient_name,
            "eligible": d.eligible,
            "reasons": [o.reason for o in outcomes if o.result != rules.PASS],
        }
        audit.record(ctx, "social_loans.decide", detail=detail)
        # the person asked about sees, in their access history, which lender asked, under which
        # purpose and what it was told (yes/no and reason codes, never their household's data)
        subjects.record_access(
            ctx, ANSWERED, [id_number], detail={**detail, "fields": ["eligible", "reasons"]}
        )
    return _decision_view(d)


def decide_list(actor: Actor, list_id: int, programme: str) -> list[DecisionView]:
    """A decision for every entry of the list that has an ID number (rows the cleaning could
    not match have none and stay for the list owner to fix)."""
    _require(actor, LENDER, "social_loans.decide")
    _, entries = get_list(actor, list_id)
    return [decide(actor, programme, e.id_number, entry_id=e.pk) for e in entries if e.id_number]


def decisions_for(actor: Actor, *, list_id: int | None = None, limit: int = 500) -> list[DecisionView]:
    _require(actor, LENDER, "social_loans.read")
    qs = Decision.objects.filter(organisation_id=_org_id(actor)).select_related(
        "programme", "rule_set", "entry"
    )
    if list_id is not None:
        qs = qs.filter(entry__beneficiary_list_id=list_id)
    return [_decision_view(d) for d in qs[:limit]]


EXPORT_HEADER = [
    "mã quyết định / decision",
    "chương trình / programme",
    "phiên bản quy tắc / rules version",
    "số định danh / ID number",
    "họ và tên / full name",
    "đủ điều kiện / eligible",
    "mã lý do / reason codes",
    "lý do / reasons",
    "thời điểm / at",
]


def export_decisions(actor: Actor, *, fmt: str, list_id: int | None = None) -> tuple[str, bytes]:
    """The lender's decisions as CSV (UTF-8 with BOM) or XLSX, cells escaped against formula
    injection (``linkage.files``)."""
    ctx = _require(actor, LENDER, "social_loans.export")
    if fmt not in ("csv", "xlsx"):
        raise DomainValidationError.single("format", "choice", "csv or xlsx")
    rows: list[list[object]] = [
        [
            d.reference,
            d.programme,
            d.rule_version,
            d.id_number,
            d.full_name,
            "có / yes" if d.eligible else "không / no",
            ", ".join(r["reason"] for r in d.reasons if r["result"] != rules.PASS),
            "; ".join(f"{r['text_vi']}: {r['result']}" for r in d.reasons if r["result"] != rules.PASS),
            timezone.localtime(d.created_at).strftime("%d/%m/%Y %H:%M"),
        ]
        for d in decisions_for(actor, list_id=list_id, limit=100_000)
    ]
    audit.record(ctx, "social_loans.export", detail={"format": fmt, "rows": len(rows), "list": list_id})
    stem = f"xet-vay-von-{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        return f"{stem}.csv", files.write_csv(EXPORT_HEADER, rows)
    return f"{stem}.xlsx", files.write_xlsx({"decisions": (EXPORT_HEADER, rows)})


def get_decision(actor: Actor, reference: str) -> DecisionView:
    _require(actor, LENDER, "social_loans.read")
    d = (
        Decision.objects.select_related("programme", "rule_set", "entry")
        .filter(reference=reference, organisation_id=_org_id(actor))
        .first()
    )
    if d is None:
        raise NotFound("no such decision", field="decision")
    return _decision_view(d)


def recheck(actor: Actor) -> list[DecisionView]:
    """Decide again for everyone the lender last found eligible (per person and programme), with
    the rules in force and the registry's facts as they are now — a death, a move out of the
    commune or a change of household turns the answer. Returns the decisions whose answer changed.
    Run it on a schedule (``dancu social_loans_recheck``); each re-decision is a decision of its own,
    through the gateway, audited."""
    _require(actor, LENDER, "social_loans.decide")
    latest: dict[tuple[str, int], Decision] = {}
    for d in Decision.objects.filter(organisation_id=_org_id(actor)).order_by("created_at", "pk"):
        latest[(d.id_number, d.programme_id)] = d
    changed = []
    for d in latest.values():
        if not d.eligible:
            continue
        again = decide(actor, d.programme.code, d.id_number, entry_id=d.entry_id)
        if not again.eligible:
            changed.append(again)
    return changed
