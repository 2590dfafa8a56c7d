"""Registry service functions: register, correct, move residence, record death, change the ID
number, look up by ID number or old CMND, search by name and date of birth, read the history.

Every function takes an ``AccessContext``; it checks that the purpose allows the operation and
that the actor's organisation may invoke it (``dancu.blocks.organisations.policy``), limits the
result to the actor's jurisdiction and to the fields the purpose allows (least data), and
records an audit event — also for denials. Writes are atomic, take a row lock, bump the record's
version and store a ``CitizenRevision`` (Law on Residence 2020; Law on Identification 2023
Art. 9–10: data are updated, never silently overwritten).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.utils import timezone

from dancu.blocks.adminunits.services import resolve_address_or_error
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.registry import events, pg_read
from dancu.blocks.registry.dto import (
    AddressEvidence,
    CardView,
    CitizenSummary,
    CitizenView,
    HouseholdMember,
    ReferenceRecord,
    RevisionView,
    address_or_none,
)
from dancu.blocks.registry.idnumber import (
    check_consistency,
    parse_id_number,
    validate_cmnd,
    validate_id_number,
)
from dancu.blocks.registry.matching import (
    MATCH,
    IdentityClaim,
    Judgement,
    Reason,
    RecordFacts,
    judge,
)
from dancu.blocks.registry.models import (
    Citizen,
    CitizenRevision,
    Household,
    IdentityCard,
    IdNumberChange,
    OldIdNumber,
)
from dancu.blocks.registry.names import fold, normalise_name, split_name
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound
from dancu.validation import text_problems

WRITE_PURPOSES = frozenset({"registry.administration", "system.import"})
READ_PURPOSES = frozenset(
    {
        "registry.administration",
        "registry.lookup",
        "security.investigation",
        "public_service.processing",
        "data.cleaning",
        # A relying party of the OpenID Connect provider, for the citizen who signed in to it and
        # consented (``blocks/sso``); least data below.
        "sso.claims_release",
    }
)

# Gateway-only reads: purposes that answer a question asked by a member's information system
# through the data exchange gateway (role ``exchange``; Decree 47/2020/NĐ-CP), never a person's
# search or record page. The social-policy bank's eligibility check (model 20; ADR 0015) reads a
# record and its household (the gateway's ``residence`` and ``household`` services) to answer
# yes/no with reason codes — least data, Law 91/2025/QH15 Art. 3 — so it may not search by name,
# look up an old CMND number or read a record's history, and no staff console offers it.
GATEWAY_READ_PURPOSES = frozenset({"social_policy.credit"})
GATEWAY_ROLE = "exchange"  # ``organisations.policy.EXCHANGE``

_ALL_FIELDS = frozenset(f.name for f in fields(CitizenView)) - {
    "citizen_id",
    "id_number",
    "full_name",
    "version",
    "fields_withheld",
}
# Least data per purpose: what each purpose receives beyond id, number, name and version.
FIELDS_BY_PURPOSE: dict[str, frozenset[str]] = {
    "registry.administration": _ALL_FIELDS,
    "registry.lookup": _ALL_FIELDS,
    "security.investigation": _ALL_FIELDS,
    "public_service.processing": _ALL_FIELDS - {"religion"},
    "data.cleaning": frozenset(
        {
            "date_of_birth",
            "dob_precision",
            "sex",
            "permanent_address",
            "life_status",
            "date_of_death",
            "old_id_numbers",
        }
    ),
    # the facts behind a loan-eligibility answer: age, household, residence, alive (ADR 0015)
    "social_policy.credit": frozenset(
        {
            "date_of_birth",
            "dob_precision",
            "relationship_to_head",
            "household_number",
            "permanent_address",
            "life_status",
            "date_of_death",
        }
    ),
    "sso.claims_release": frozenset(
        {
            "date_of_birth",
            "dob_precision",
            "sex",
            "family_name",
            "middle_name",
            "given_name",
            "permanent_address",
        }
    ),
}
# Identity verification (Decree 69/2024/NĐ-CP): establishments verify the person in front of them,
# wherever that person lives — no jurisdiction rule, but the purpose and the organisation policy.
# Electronic identification (Decree 69/2024/NĐ-CP Art. 12–13) matches the applicant the same way:
# ``eid.registration`` (level 1, online) and ``eid.activation`` (level 2, at a police desk).
VERIFY_PURPOSES = frozenset({"identity.verification", "eid.registration", "eid.activation"})
# The most a verification may ever release, and only on a match; which of these an organisation
# receives is decided by the identity block's table (``identity.services.VERIFICATION_FIELDS``).
RELEASABLE_ON_VERIFICATION = frozenset(
    {
        "full_name",
        "date_of_birth",
        "dob_precision",
        "sex",
        "nationality",
        "permanent_address",
        "card_number",
        "card_issued_on",
        "card_expires_on",
        # The ward of permanent residence, as a code: routes an eID registration to the commune
        # police who approve it; ``identity.verify`` releases it only to a residence establishment
        # (``hotel``), with the permanent address it already receives (ADR 0018, fourth step).
        "permanent_ward_code",
    }
)
CORRECTABLE_FIELDS = frozenset(
    {
        "full_name",
        "date_of_birth",
        "dob_precision",
        "sex",
        "nationality",
        "ethnicity",
        "religion",
        "origin_text",
    }
)
MIN_BIRTH_DATE = date(1900, 1, 1)


# --------------------------------------------------------------------------- access checks
def _authorise(
    ctx: AccessContext, allowed: frozenset[str], action: str, subject_id: int | None = None
) -> None:
    """Deny (and audit the denial) unless the purpose fits the operation and the actor may invoke it."""
    get_purpose(ctx.purpose)  # an unknown purpose code is a validation error (422), not a denial
    if ctx.purpose in allowed and ctx.actor.may(ctx.purpose):
        return
    if ctx.purpose not in allowed:
        msg = f"purpose {ctx.purpose!r} does not allow {action}"
    else:
        msg = f"your organisation or role may not use purpose {ctx.purpose!r}"
    _audit_outside_tx(ctx, action, subject_id, AuditEvent.Result.DENIED, {"reason": "purpose"})
    raise AccessDenied(msg)


def _authorise_gateway_read(ctx: AccessContext, action: str) -> None:
    """``_authorise`` for the reads the gateway's services make (a record, a household): the
    interactive read purposes, or a gateway-only purpose used by a gateway member (role
    ``exchange``) — any other actor, even one whose role holds that purpose, is denied (audited)."""
    if ctx.purpose not in GATEWAY_READ_PURPOSES:
        _authorise(ctx, READ_PURPOSES, action)
        return
    if ctx.actor.role == GATEWAY_ROLE:
        _authorise(ctx, GATEWAY_READ_PURPOSES, action)
        return
    get_purpose(ctx.purpose)
    _audit_outside_tx(ctx, action, None, AuditEvent.Result.DENIED, {"reason": "gateway_only"})
    raise AccessDenied(
        f"purpose {ctx.purpose!r} is answered only through the data exchange gateway",
        field="purpose",
        rule="gateway_only",
    )


def _audit_outside_tx(
    ctx: AccessContext, action: str, subject_id: int | None, result: str, detail: dict[str, object]
) -> None:
    """Record a denial or a miss so that it survives the caller's exception."""
    audit.record(ctx, action, subject_citizen_id=subject_id, result=result, detail=detail)


def _in_jurisdiction(ctx: AccessContext, citizen: Citizen) -> bool:
    a = ctx.actor
    if a.is_system:
        return True
    if a.jurisdiction_ward_code:
        return citizen.permanent_ward_code == a.jurisdiction_ward_code
    if a.jurisdiction_province_code:
        return citizen.permanent_province_code == a.jurisdiction_province_code
    return False


def _scope(ctx: AccessContext, qs: QuerySet[Citizen]) -> QuerySet[Citizen]:
    a = ctx.actor
    if a.is_system:
        return qs
    if a.jurisdiction_ward_code:
        return qs.filter(permanent_ward_code=a.jurisdiction_ward_code)
    if a.jurisdiction_province_code:
        return qs.filter(permanent_province_code=a.jurisdiction_province_code)
    return qs.none()


# --------------------------------------------------------------------------- views
_address = address_or_none


_CHILD_FIELDS = frozenset({"old_id_numbers", "previous_id_numbers", "cards"})


def _children(citizen_id: int) -> tuple[list[str], list[str], list[CardView]]:
    """Old CMND numbers, previous ID numbers and cards in one round trip (the look-up hot path)."""
    old_t, hist_t, card_t = (m._meta.db_table for m in (OldIdNumber, IdNumberChange, IdentityCard))
    # Table names come from the models, values are parameters.
    no_date = "CAST(NULL AS DATE)"  # typed, so that PostgreSQL can match the UNION columns
    sql = (
        f"SELECT 'o', number, NULL, {no_date}, {no_date}, NULL FROM {old_t} WHERE citizen_id = %s "  # noqa: S608
        f"UNION ALL SELECT 'h', old_number, NULL, {no_date}, {no_date}, NULL FROM {hist_t} "
        "WHERE citizen_id = %s "
        f"UNION ALL SELECT 'c', card_number, kind, issued_on, expires_on, status FROM {card_t} "
        "WHERE citizen_id = %s"
    )
    olds: list[str] = []
    previous: list[str] = []
    cards: list[CardView] = []
    with connection.cursor() as cur:
        cur.execute(sql, [citizen_id, citizen_id, citizen_id])
        for tag, number, kind, issued, expires, status in cur.fetchall():
            if tag == "o":
                olds.append(number)
            elif tag == "h":
                previous.append(number)
            else:
                cards.append(
                    CardView(kind, number, _as_date(issued), _as_date(expires) if expires else None, status)
                )
    cards.sort(key=lambda k: k.issued_on, reverse=True)
    return olds, previous, cards


def _as_date(value: object) -> date:
    """Raw cursors return dates as ``date`` on PostgreSQL and as ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _view(c: Citizen, purpose: str) -> CitizenView:
    """The DTO for ``purpose``: fields it may not receive are None and listed as withheld."""
    allowed = FIELDS_BY_PURPOSE.get(purpose, frozenset())
    values: dict[str, Any] = {
        "date_of_birth": c.date_of_birth,
        "dob_precision": c.dob_precision,
        "sex": c.sex,
        "family_name": c.family_name,
        "middle_name": c.middle_name,
        "given_name": c.given_name,
        "nationality": c.nationality,
        "ethnicity": c.ethnicity,
        "religion": c.religion,
        "birth_registration_code": c.birth_registration_code,
        "origin": _address(c.origin_text, c.origin_legacy_ward_code),
        "permanent_address": _address(
            c.permanent_address_text,
            c.permanent_legacy_ward_code,
            c.permanent_ward_code,
            c.permanent_province_code,
        ),
        "temporary_address": _address(c.temporary_address_text, "", c.temporary_ward_code),
        "household_number": c.household.household_number if c.household_id and c.household else None,
        "relationship_to_head": c.relationship_to_head or None,
        "life_status": c.life_status,
        "date_of_death": c.date_of_death,
    }
    if allowed & _CHILD_FIELDS:
        values["old_id_numbers"], values["previous_id_numbers"], values["cards"] = _children(c.pk)
    withheld = sorted(_ALL_FIELDS - allowed)
    shown = {k: v for k, v in values.items() if k in allowed}
    return CitizenView(
        citizen_id=c.pk,
        id_number=c.id_number,
        full_name=c.full_name,
        version=c.version,
        fields_withheld=withheld,
        **shown,
    )


def _summary(c: Citizen) -> CitizenSummary:
    return CitizenSummary(
        citizen_id=c.pk,
        id_number=c.id_number,
        full_name=c.full_name,
        date_of_birth=c.date_of_birth,
        dob_precision=c.dob_precision,
        sex=c.sex,
        permanent_ward_code=c.permanent_ward_code,
        life_status=c.life_status,
    )


# --------------------------------------------------------------------------- reads
def _find_by_id_number(id_number: str, *related: str) -> Citizen | None:
    """The citizen holding this number now, or who held it before (``IdNumberChange``)."""
    citizen = Citizen.objects.select_related(*related).filter(id_number=id_number).first()
    if citizen is None:
        change = IdNumberChange.objects.filter(old_number=id_number).only("citizen_id").first()
        if change is not None:
            citizen = Citizen.objects.select_related(*related).filter(pk=change.citizen_id).first()
    return citizen


def _found_in_scope(ctx: AccessContext, citizen: Citizen | None, action: str, looked_up_by: str) -> Citizen:
    """Raise (after auditing) when nothing was found or the citizen is outside the jurisdiction."""
    if citizen is None:
        _audit_outside_tx(ctx, action, None, AuditEvent.Result.NOT_FOUND, {"by": looked_up_by})
        raise NotFound("no citizen with that number", field=looked_up_by)
    if not _in_jurisdiction(ctx, citizen):
        _audit_outside_tx(ctx, action, citizen.pk, AuditEvent.Result.DENIED, {"reason": "jurisdiction"})
        raise _outside_jurisdiction(looked_up_by, citizen.pk)
    return citizen


def _outside_jurisdiction(looked_up_by: str, citizen_id: int) -> AccessDenied:
    return AccessDenied(
        "this citizen is outside your organisation's jurisdiction",
        field=looked_up_by,
        rule="jurisdiction",
        subject_id=citizen_id,
    )


def _fetch(ctx: AccessContext, found: Citizen | None, action: str, looked_up_by: str) -> CitizenView:
    citizen = _found_in_scope(ctx, found, action, looked_up_by)
    with transaction.atomic():
        view = _view(citizen, ctx.purpose)
        audit.record(ctx, action, subject_citizen_id=citizen.pk, detail={"by": looked_up_by}, durable=False)
    return view


def get_by_id_number(ctx: AccessContext, id_number: str) -> CitizenView:
    """The citizen with this 12-digit number (or a previous number of theirs)."""
    _authorise_gateway_read(ctx, "registry.read")
    parse_id_number(id_number)
    db = connections[DEFAULT_DB_ALIAS]  # the thread's connection, looked up once (hot path)
    if db.vendor == "postgresql":
        return _get_by_id_number_pg(ctx, id_number, db)
    return _fetch(ctx, _find_by_id_number(id_number, "household"), "registry.read", "id_number")


def _get_by_id_number_pg(ctx: AccessContext, id_number: str, db: BaseDatabaseWrapper) -> CitizenView:
    """PostgreSQL: read, jurisdiction check and audit event in one prepared statement (ADR 0006);
    the same results, events and errors as the generic path above."""
    allowed = FIELDS_BY_PURPOSE.get(ctx.purpose, frozenset())
    outcome = pg_read.lookup(ctx, id_number, with_children=bool(allowed & _CHILD_FIELDS), db=db)
    return view_of_lookup(ctx, outcome)


def lookup_request(ctx: AccessContext, id_number: str) -> pg_read.Request:
    """``get_by_id_number``'s checks (purpose, number format; a denial is audited) and the
    look-up to run, for a caller that runs ``pg_read.run_batch`` itself in its own transaction
    (the exchange gateway's fast path, ADR 0010 §13). Its outcome goes to ``view_of_lookup``."""
    _authorise_gateway_read(ctx, "registry.read")
    parse_id_number(id_number)
    allowed = FIELDS_BY_PURPOSE.get(ctx.purpose, frozenset())
    return pg_read.Request(ctx, id_number, bool(allowed & _CHILD_FIELDS))


def view_of_lookup(ctx: AccessContext, outcome: pg_read.Outcome) -> CitizenView:
    """The DTO of a ``pg_read`` outcome, or the error ``get_by_id_number`` raises for it."""
    kind, found = outcome
    if kind == "missing":
        raise NotFound("no citizen with that number", field="id_number")
    if kind == "denied":
        raise _outside_jurisdiction("id_number", found)
    allowed = FIELDS_BY_PURPOSE.get(ctx.purpose, frozenset())
    return pg_read.view_from_row(found, ctx.purpose, allowed, _ALL_FIELDS)


def get_by_old_id_number(ctx: AccessContext, old_number: str) -> CitizenView:
    """The citizen who held this old CMND number (9 or 12 digits)."""
    _authorise(ctx, READ_PURPOSES, "registry.read")
    validate_cmnd(old_number)
    link = (
        OldIdNumber.objects.filter(number=old_number).select_related("citizen", "citizen__household").first()
    )
    return _fetch(ctx, link.citizen if link else None, "registry.read", "old_id_number")


def search(
    ctx: AccessContext, name: str, date_of_birth: date | None = None, *, limit: int = 20
) -> list[CitizenSummary]:
    """Accent-insensitive search by name, optionally with date of birth, within the jurisdiction.

    With a date of birth the name may be a prefix ("nguyen van" finds "Nguyễn Văn An"); without
    one the whole name must match. Each citizen shown is recorded in their audit log.
    """
    _authorise(ctx, READ_PURPOSES, "registry.search")
    query = fold(normalise_name(name, field="name"))
    if date_of_birth is not None and date_of_birth > timezone.localdate():
        raise DomainValidationError.single("date_of_birth", "future", "must not be in the future")
    limit = max(1, min(limit, 100))
    qs = Citizen.objects.all()
    if date_of_birth is not None:
        qs = qs.filter(date_of_birth=date_of_birth, name_folded__startswith=query)
    else:
        qs = qs.filter(name_folded=query)
    rows = list(_scope(ctx, qs).order_by("date_of_birth", "id")[:limit])
    with transaction.atomic():
        audit.record_many(
            ctx, "registry.search_hit", [c.pk for c in rows], detail={"results": len(rows)}, durable=False
        )
    return [_summary(c) for c in rows]


def history(ctx: AccessContext, id_number: str) -> list[RevisionView]:
    """The citizen's revisions, newest first; an imported record starts with its import batch."""
    _authorise(ctx, READ_PURPOSES, "registry.history")
    parse_id_number(id_number)
    citizen = _found_in_scope(
        ctx, _find_by_id_number(id_number, "created_batch"), "registry.history", "id_number"
    )
    out = [
        RevisionView(
            r.version,
            r.action,
            r.changed_at,
            r.actor_label,
            r.organisation_name,
            r.reason,
            r.legal_basis,
            r.changes,
        )
        for r in citizen.revisions.order_by("-version")
    ]
    batch = citizen.created_batch
    if batch is not None and not any(r.version == 1 for r in out):
        out.append(
            RevisionView(
                1,
                CitizenRevision.Action.REGISTER,
                batch.started_at,
                batch.actor_label,
                "",
                f"import batch {batch.pk}: {batch.note}".strip(),
                batch.legal_basis,
                {},
            )
        )
    with transaction.atomic():
        audit.record(ctx, "registry.history", subject_citizen_id=citizen.pk, durable=False)
    return out


def household_members(ctx: AccessContext, id_number: str) -> list[HouseholdMember]:
    """The members of this citizen's household (sổ hộ khẩu data, Law on Residence 2020 Art. 24),
    head first; only for purposes that may see the household, each member shown is audited."""
    _authorise_gateway_read(ctx, "registry.household")
    parse_id_number(id_number)
    if "household_number" not in FIELDS_BY_PURPOSE.get(ctx.purpose, frozenset()):
        _audit_outside_tx(ctx, "registry.household", None, AuditEvent.Result.DENIED, {"reason": "fields"})
        raise AccessDenied(f"purpose {ctx.purpose!r} may not see household members", rule="fields")
    citizen = _found_in_scope(ctx, _find_by_id_number(id_number), "registry.household", "id_number")
    if citizen.household_id is None:
        return []
    order = {code: i for i, code in enumerate(Citizen.Relationship.values)}
    members = sorted(
        _scope(ctx, Citizen.objects.filter(household_id=citizen.household_id)),
        key=lambda m: (order.get(m.relationship_to_head, len(order)), m.date_of_birth, m.pk),
    )
    with transaction.atomic():
        audit.record_many(
            ctx,
            "registry.household_member",
            [m.pk for m in members],
            detail={"household": True},
            durable=False,
        )
    return [
        HouseholdMember(
            m.pk,
            m.id_number,
            m.full_name,
            m.date_of_birth,
            m.dob_precision,
            m.sex,
            m.relationship_to_head,
            m.life_status,
        )
        for m in members
    ]


# --------------------------------------------------------------------------- identity verification
@dataclass(frozen=True)
class IdentityMatch:
    """The registry's answer to a verification: the decision, why, the name score, and — only on a
    match and only the fields asked for — the released data. ``citizen_id`` is for the caller's
    receipt (never shown to the requester)."""

    decision: str
    reasons: tuple[Reason, ...]
    name_score: float | None
    citizen_id: int | None
    released: dict[str, object]


def match_identity(
    ctx: AccessContext,
    claim: IdentityClaim,
    *,
    evidence_kind: str,
    mode: str,
    release: frozenset[str] = frozenset(),
    receipt_id: str = "",
    on: date | None = None,
) -> IdentityMatch:
    """Match what an identity document says against the registry (``matching.judge``) and record it.

    Purpose ``identity.verification`` only, for organisations the policy grants it (hotels,
    clinics, notaries, pawn shops…); no jurisdiction rule — an establishment verifies whoever is in
    front of it. Reads the minimum: name, date of birth and its precision, sex, life status, the
    cards, old CMND numbers when the document shows one. ``release`` (data mode) names fields of
    :data:`RELEASABLE_ON_VERIFICATION` to return on a match — least data (Decree 13/2023/NĐ-CP
    Art. 3; Law 91/2025/QH15). One audit event ``identity.verify`` per call, visible to the citizen:
    result ``ok`` when the number is known (``not_found`` otherwise), the detail holds the mode,
    the evidence kind, the decision, the reason codes, the released field names and the receipt —
    never personal data. The event is durable: it backs a receipt given to the requester.
    """
    _authorise(ctx, VERIFY_PURPOSES, "identity.verify")
    not_releasable = sorted(release - RELEASABLE_ON_VERIFICATION)
    if not_releasable:
        raise DomainValidationError.single(
            "release", "not_releasable", f"a verification never releases {', '.join(not_releasable)}"
        )
    parse_id_number(claim.id_number)
    citizen = _find_by_id_number(claim.id_number)
    facts = None
    if citizen is not None:
        cards = tuple(
            CardView(c.kind, c.card_number, c.issued_on, c.expires_on, c.status)
            for c in IdentityCard.objects.filter(citizen_id=citizen.pk).order_by("-issued_on", "-id")
        )
        olds: tuple[str, ...] = ()
        if claim.old_id_number:
            olds = tuple(OldIdNumber.objects.filter(citizen_id=citizen.pk).values_list("number", flat=True))
        facts = RecordFacts(
            citizen_id=citizen.pk,
            full_name=citizen.full_name,
            date_of_birth=citizen.date_of_birth,
            dob_precision=citizen.dob_precision,
            sex=citizen.sex,
            life_status=citizen.life_status,
            number_is_current=citizen.id_number == claim.id_number,
            old_id_numbers=olds,
            cards=cards,
        )
    judgement = judge(claim, facts, on=on or timezone.localdate())
    released = _released(citizen, judgement, release) if citizen is not None else {}
    audit.record(
        ctx,
        "identity.verify",
        subject_citizen_id=citizen.pk if citizen is not None else None,
        result=AuditEvent.Result.OK if citizen is not None else AuditEvent.Result.NOT_FOUND,
        detail={
            "mode": mode,
            "evidence": evidence_kind,
            "decision": judgement.decision,
            "reasons": [r.code for r in judgement.reasons],
            "fields": sorted(released),
            "receipt": receipt_id,
        },
    )
    return IdentityMatch(
        decision=judgement.decision,
        reasons=judgement.reasons,
        name_score=judgement.name.score if judgement.name is not None else None,
        citizen_id=citizen.pk if citizen is not None else None,
        released=released,
    )


def _released(citizen: Citizen, judgement: Judgement, release: frozenset[str]) -> dict[str, object]:
    """The fields asked for, on a match only; the card fields are those of the presented card."""
    if judgement.decision != MATCH or not release:
        return {}
    card = judgement.card
    values: dict[str, object] = {
        "full_name": citizen.full_name,
        "date_of_birth": citizen.date_of_birth,
        "dob_precision": citizen.dob_precision,
        "sex": citizen.sex,
        "nationality": citizen.nationality,
        "permanent_address": citizen.permanent_address_text or None,
        "card_number": card.card_number if card is not None else None,
        "card_issued_on": card.issued_on if card is not None else None,
        "card_expires_on": card.expires_on if card is not None else None,
        "permanent_ward_code": citizen.permanent_ward_code or None,
    }
    return {k: values[k] for k in sorted(release)}


# --------------------------------------------------------------------------- writes
@dataclass(frozen=True)
class NewCitizen:
    """Input to :func:`register_citizen`. ``family_name`` is given explicitly for compound surnames."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str
    dob_precision: str = Citizen.DobPrecision.DAY
    nationality: str = "VN"
    ethnicity: str = "Kinh"
    religion: str = ""
    origin_text: str = ""
    permanent_address_text: str = ""
    temporary_address_text: str = ""
    household_number: str = ""
    relationship_to_head: str = ""
    old_id_numbers: tuple[str, ...] = ()
    family_name: str | None = None


def _check_dob(value: object, precision: str, field: str = "date_of_birth") -> list[FieldProblem]:
    if not isinstance(value, date):
        return [FieldProblem(field, "type", "must be a date (yyyy-mm-dd)")]
    problems = []
    if value > timezone.localdate():
        problems.append(FieldProblem(field, "future", f"{value.isoformat()} is in the future"))
    if value < MIN_BIRTH_DATE:
        problems.append(FieldProblem(field, "too_early", "must be on or after 1900-01-01"))
    if precision not in Citizen.DobPrecision.values:
        problems.append(FieldProblem("dob_precision", "choice", "must be one of day, month, year"))
    elif precision == "month" and value.day != 1:
        problems.append(FieldProblem(field, "precision", "with precision 'month' the day must be 01"))
    elif precision == "year" and (value.month, value.day) != (1, 1):
        problems.append(FieldProblem(field, "precision", "with precision 'year' the date must be 01/01"))
    return problems


# Free text stored as given: checked against its column so that SQLite and PostgreSQL agree.
_FREE_TEXT = ("ethnicity", "religion", "origin_text", "household_number")


def _length_problems(field: str, value: object, model_field: str) -> list[FieldProblem]:
    model = Household if model_field == "household_number" else Citizen
    limit = getattr(model._meta.get_field(model_field), "max_length", None) or 0
    return text_problems(field, value, max_length=limit)


def validate_new_citizen(data: NewCitizen) -> dict[str, Any]:
    """Check every field, collect all problems, and return the model fields (nothing is stored)."""
    problems: list[FieldProblem] = []
    out: dict[str, Any] = {}
    try:
        name = normalise_name(data.full_name)
        parts = split_name(name)
        if data.family_name:
            fam = normalise_name(data.family_name, field="family_name")
            if not name.startswith(fam + " "):
                problems.append(
                    FieldProblem("family_name", "prefix", "must be the first word(s) of full_name")
                )
            else:
                rest = name[len(fam) + 1 :].split()
                parts = type(parts)(fam, " ".join(rest[:-1]), rest[-1])
        out.update(
            full_name=name,
            family_name=parts.family,
            middle_name=parts.middle,
            given_name=parts.given,
            name_folded=fold(name),
        )
    except DomainValidationError as exc:
        problems += exc.problems
    if data.sex not in ("M", "F"):
        problems.append(FieldProblem("sex", "choice", "must be M (Nam) or F (Nữ)"))
    dob_problems = _check_dob(data.date_of_birth, data.dob_precision)
    problems += dob_problems
    try:
        id_parts = parse_id_number(data.id_number)
        if not dob_problems and data.sex in ("M", "F"):
            problems += check_consistency(id_parts, date_of_birth=data.date_of_birth, sex=data.sex)
        out["birth_registration_code"] = id_parts.place_code
    except DomainValidationError as exc:
        problems += exc.problems
    if not (
        isinstance(data.nationality, str)
        and len(data.nationality) == 2
        and data.nationality.isascii()
        and data.nationality.isalpha()
    ):
        problems.append(FieldProblem("nationality", "iso3166", "must be a 2-letter ISO 3166 country code"))
    for i, old in enumerate(data.old_id_numbers):
        try:
            validate_cmnd(old, field=f"old_id_numbers[{i}]")
        except DomainValidationError as exc:
            problems += exc.problems
    if data.relationship_to_head and data.relationship_to_head not in Citizen.Relationship.values:
        problems.append(
            FieldProblem(
                "relationship_to_head", "choice", f"must be one of {', '.join(Citizen.Relationship.values)}"
            )
        )
    for field_name in _FREE_TEXT:
        problems += _length_problems(field_name, getattr(data, field_name), field_name)
    for field_name in ("permanent_address_text", "temporary_address_text"):
        text = getattr(data, field_name)
        if text:
            try:
                resolved = resolve_address_or_error(text, field=field_name)
            except DomainValidationError as exc:
                problems += exc.problems
                continue
            length = _length_problems(field_name, resolved.text, field_name)
            if length:
                problems += length
                continue
            if field_name == "permanent_address_text":
                out.update(
                    permanent_address_text=resolved.text,
                    permanent_legacy_ward_code=resolved.legacy_ward_code,
                    permanent_ward_code=resolved.ward_code,
                    permanent_province_code=resolved.province_code,
                )
            else:
                out.update(temporary_address_text=resolved.text, temporary_ward_code=resolved.ward_code)
    if problems:
        raise DomainValidationError(problems)
    out.update(
        id_number=data.id_number,
        date_of_birth=data.date_of_birth,
        dob_precision=data.dob_precision,
        sex=data.sex,
        nationality=data.nationality.upper(),
        ethnicity=data.ethnicity,
        religion=data.religion,
        origin_text=data.origin_text,
        relationship_to_head=data.relationship_to_head,
    )
    return out


def _revision(
    ctx: AccessContext,
    citizen: Citizen,
    action: str,
    reason: str,
    legal_basis: str,
    changes: dict[str, list[object]],
) -> None:
    CitizenRevision.objects.create(
        citizen=citizen,
        version=citizen.version,
        action=action,
        actor_user_id=ctx.actor.user_id,
        actor_label=ctx.actor.label,
        organisation_name=ctx.actor.organisation_name,
        reason=reason,
        legal_basis=legal_basis,
        changes=changes,
    )


def _require_reason(reason: str, legal_basis: str) -> None:
    """Every change says why and on what legal basis (stored in the revision)."""
    problems = text_problems("reason", reason, max_length=500, required=True)
    problems += text_problems("legal_basis", legal_basis, max_length=255, required=True)
    if problems:
        raise DomainValidationError(problems)


def register_citizen(ctx: AccessContext, data: NewCitizen, *, reason: str, legal_basis: str) -> CitizenView:
    """Register a new citizen (revision 1). Raises ``DomainValidationError`` listing every problem."""
    _authorise(ctx, WRITE_PURPOSES, "registry.register")
    _require_reason(reason, legal_basis)
    values = validate_new_citizen(data)
    try:
        with transaction.atomic():
            if Citizen.objects.filter(id_number=data.id_number).exists():
                raise DomainValidationError.single(
                    "id_number", "unique", f"{data.id_number} is already registered"
                )
            household = None
            if data.household_number:
                household, _ = Household.objects.get_or_create(
                    household_number=data.household_number,
                    defaults={
                        "address_text": values.get("permanent_address_text", ""),
                        "legacy_ward_code": values.get("permanent_legacy_ward_code", ""),
                        "ward_code": values.get("permanent_ward_code", ""),
                    },
                )
            citizen = Citizen.objects.create(household=household, **values)
            for old in data.old_id_numbers:
                OldIdNumber.objects.create(citizen=citizen, number=old)
            _revision(
                ctx,
                citizen,
                CitizenRevision.Action.REGISTER,
                reason,
                legal_basis,
                {k: [None, _jsonable(v)] for k, v in values.items() if v not in ("", None)},
            )
            audit.record(ctx, "registry.register", subject_citizen_id=citizen.pk)
    except IntegrityError:
        raise DomainValidationError.single(
            "id_number", "unique", f"{data.id_number} is already registered"
        ) from None
    return _view(Citizen.objects.select_related("household").get(pk=citizen.pk), "registry.administration")


def _jsonable(v: object) -> object:
    return v.isoformat() if isinstance(v, date) else v


def _locked(id_number: str) -> Citizen:
    parse_id_number(id_number)
    citizen = Citizen.objects.select_for_update().filter(id_number=id_number).first()
    if citizen is None:
        raise NotFound("no citizen with that number", field="id_number")
    return citizen


def _changed(
    kind: events.ChangeKind,
    citizen: Citizen,
    *,
    previous: str = "",
    moved_from: tuple[str, str] | None = None,
) -> None:
    """Publish the change inside the write's transaction (``events``: committed with the write,
    or rolled back with it)."""
    here = (citizen.permanent_province_code, citizen.permanent_ward_code)
    places = (moved_from, here) if moved_from is not None and moved_from != here else (here,)
    events.emit(
        events.Change(
            kind,
            citizen.id_number,
            citizen.pk,
            citizen.updated_at,
            previous_id_number=previous,
            places=places,
        )
    )


@contextmanager
def _write(ctx: AccessContext, action: str) -> Iterator[None]:
    """The transaction of a write. A denial or a miss rolls the write back and is then audited
    on its own, so that it is recorded although the change is not."""
    try:
        with transaction.atomic():
            yield
    except AccessDenied as exc:
        _audit_outside_tx(ctx, action, exc.subject_id, AuditEvent.Result.DENIED, {"reason": exc.rule})
        raise
    except NotFound:
        _audit_outside_tx(ctx, action, None, AuditEvent.Result.NOT_FOUND, {"by": "id_number"})
        raise


def _write_guard(ctx: AccessContext, citizen: Citizen, action: str) -> None:
    if not _in_jurisdiction(ctx, citizen):
        raise AccessDenied(
            "this citizen is outside your organisation's jurisdiction",
            field="id_number",
            rule="jurisdiction",
            subject_id=citizen.pk,
        )
    _living_guard(citizen, action)


def _living_guard(citizen: Citizen, action: str) -> None:
    """The write guard's second check (a deceased citizen's record is only corrected), for a
    caller that established its jurisdiction another way (a guardianship registered at the
    guardian's commune, ``registry.guardianship``)."""
    if citizen.life_status == Citizen.LifeStatus.DECEASED and action != "registry.correct":
        raise DomainValidationError.single("id_number", "deceased", "the citizen is recorded as deceased")


def correct_citizen(
    ctx: AccessContext, id_number: str, changes: dict[str, object], *, reason: str, legal_basis: str
) -> CitizenView:
    """Correct personal details; the ID number must stay consistent with date of birth and sex
    (otherwise change the number first with :func:`change_id_number`)."""
    _authorise(ctx, WRITE_PURPOSES, "registry.correct")
    _require_reason(reason, legal_basis)
    unknown = sorted(set(changes) - CORRECTABLE_FIELDS)
    if unknown:
        raise DomainValidationError(
            [FieldProblem(k, "not_correctable", "cannot be corrected this way") for k in unknown]
        )
    with _write(ctx, "registry.correct"):
        citizen = _locked(id_number)
        _write_guard(ctx, citizen, "registry.correct")
        current = NewCitizen(
            id_number=citizen.id_number,
            full_name=citizen.full_name,
            date_of_birth=citizen.date_of_birth,
            sex=citizen.sex,
            dob_precision=citizen.dob_precision,
            nationality=citizen.nationality,
            ethnicity=citizen.ethnicity,
            religion=citizen.religion,
            origin_text=citizen.origin_text,
            relationship_to_head=citizen.relationship_to_head,
        )
        proposed = replace(current, **changes)  # type: ignore[arg-type]
        if " " in citizen.family_name:  # keep a recorded compound surname while the name begins with it
            try:
                keep = normalise_name(proposed.full_name).startswith(citizen.family_name + " ")
            except DomainValidationError:
                keep = False  # the bad name is reported by validate_new_citizen below
            if keep:
                proposed = replace(proposed, family_name=citizen.family_name)
        values = validate_new_citizen(proposed)
        diff: dict[str, list[object]] = {}
        for key, new in values.items():
            old = getattr(citizen, key)
            if old != new:
                diff[key] = [_jsonable(old), _jsonable(new)]
                setattr(citizen, key, new)
        if not diff:
            raise DomainValidationError.single(
                "changes", "no_change", "nothing differs from the current record"
            )
        citizen.version += 1
        citizen.updated_at = timezone.now()
        citizen.save()
        _revision(ctx, citizen, CitizenRevision.Action.CORRECT, reason, legal_basis, diff)
        audit.record(ctx, "registry.correct", subject_citizen_id=citizen.pk, detail={"fields": sorted(diff)})
        _changed(events.ChangeKind.CORRECTED, citizen)
    return _view(Citizen.objects.select_related("household").get(pk=citizen.pk), "registry.administration")


def move_residence(
    ctx: AccessContext,
    id_number: str,
    *,
    permanent_address_text: str,
    household_number: str = "",
    relationship_to_head: str = "",
    reason: str,
    legal_basis: str,
) -> CitizenView:
    """Register a new permanent residence (Law on Residence 2020 Art. 20–22)."""
    _authorise(ctx, WRITE_PURPOSES, "registry.move")
    _require_reason(reason, legal_basis)
    resolved = resolve_address_or_error(permanent_address_text, field="permanent_address_text")
    too_long = _length_problems("permanent_address_text", resolved.text, "permanent_address_text")
    too_long += _length_problems("household_number", household_number, "household_number")
    if too_long:
        raise DomainValidationError(too_long)
    if relationship_to_head and relationship_to_head not in Citizen.Relationship.values:
        raise DomainValidationError.single(
            "relationship_to_head", "choice", f"must be one of {', '.join(Citizen.Relationship.values)}"
        )
    with _write(ctx, "registry.move"):
        citizen = _locked(id_number)
        _write_guard(ctx, citizen, "registry.move")
        before = {
            "permanent_address_text": citizen.permanent_address_text,
            "permanent_legacy_ward_code": citizen.permanent_legacy_ward_code,
            "permanent_ward_code": citizen.permanent_ward_code,
            "permanent_province_code": citizen.permanent_province_code,
            "household": citizen.household.household_number if citizen.household else "",
        }
        household = None
        if household_number:
            household, _ = Household.objects.get_or_create(
                household_number=household_number,
                defaults={
                    "address_text": resolved.text,
                    "legacy_ward_code": resolved.legacy_ward_code,
                    "ward_code": resolved.ward_code,
                },
            )
        citizen.permanent_address_text = resolved.text
        citizen.permanent_legacy_ward_code = resolved.legacy_ward_code
        citizen.permanent_ward_code = resolved.ward_code
        citizen.permanent_province_code = resolved.province_code
        citizen.household = household
        citizen.relationship_to_head = relationship_to_head
        citizen.version += 1
        citizen.updated_at = timezone.now()
        citizen.save()
        after = {
            "permanent_address_text": citizen.permanent_address_text,
            "permanent_legacy_ward_code": citizen.permanent_legacy_ward_code,
            "permanent_ward_code": citizen.permanent_ward_code,
            "permanent_province_code": citizen.permanent_province_code,
            "household": household_number,
        }
        diff: dict[str, list[object]] = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        _revision(ctx, citizen, CitizenRevision.Action.MOVE, reason, legal_basis, diff)
        audit.record(ctx, "registry.move", subject_citizen_id=citizen.pk)
        _changed(
            events.ChangeKind.MOVED,
            citizen,
            moved_from=(before["permanent_province_code"], before["permanent_ward_code"]),
        )
    return _view(Citizen.objects.select_related("household").get(pk=citizen.pk), "registry.administration")


def register_temporary_residence(
    ctx: AccessContext, id_number: str, *, temporary_address_text: str, reason: str, legal_basis: str
) -> CitizenView:
    """Register a temporary residence (Law on Residence 2020 Art. 27–28): the place where the
    citizen now lives besides the permanent one. Jurisdiction is that of the writing actor."""
    _authorise(ctx, WRITE_PURPOSES, "registry.temporary")
    _require_reason(reason, legal_basis)
    resolved = resolve_address_or_error(temporary_address_text, field="temporary_address_text")
    too_long = _length_problems("temporary_address_text", resolved.text, "temporary_address_text")
    if too_long:
        raise DomainValidationError(too_long)
    with _write(ctx, "registry.temporary"):
        citizen = _locked(id_number)
        _write_guard(ctx, citizen, "registry.temporary")
        before = [citizen.temporary_address_text, citizen.temporary_ward_code]
        citizen.temporary_address_text = resolved.text
        citizen.temporary_ward_code = resolved.ward_code
        citizen.version += 1
        citizen.updated_at = timezone.now()
        citizen.save()
        diff: dict[str, list[object]] = {
            "temporary_address_text": [before[0], resolved.text],
            "temporary_ward_code": [before[1], resolved.ward_code],
        }
        _revision(ctx, citizen, CitizenRevision.Action.TEMPORARY, reason, legal_basis, diff)
        audit.record(ctx, "registry.temporary", subject_citizen_id=citizen.pk)
    return _view(Citizen.objects.select_related("household").get(pk=citizen.pk), "registry.administration")


def record_death(
    ctx: AccessContext, id_number: str, *, date_of_death: date, reason: str, legal_basis: str
) -> CitizenView:
    """Record a death (after death registration, Law on Civil Status 2014 Art. 32–34)."""
    _authorise(ctx, WRITE_PURPOSES, "registry.death")
    _require_reason(reason, legal_basis)
    if not isinstance(date_of_death, date):
        raise DomainValidationError.single("date_of_death", "type", "must be a date (yyyy-mm-dd)")
    if date_of_death > timezone.localdate():
        raise DomainValidationError.single("date_of_death", "future", "must not be in the future")
    with _write(ctx, "registry.death"):
        citizen = _locked(id_number)
        _write_guard(ctx, citizen, "registry.death")
        if date_of_death < citizen.date_of_birth:
            raise DomainValidationError.single(
                "date_of_death", "before_birth", "must not be before the date of birth"
            )
        old_status = citizen.life_status
        citizen.life_status = Citizen.LifeStatus.DECEASED
        citizen.date_of_death = date_of_death
        citizen.version += 1
        citizen.updated_at = timezone.now()
        citizen.save()
        _revision(
            ctx,
            citizen,
            CitizenRevision.Action.DEATH,
            reason,
            legal_basis,
            {"life_status": [old_status, "deceased"], "date_of_death": [None, date_of_death.isoformat()]},
        )
        audit.record(ctx, "registry.death", subject_citizen_id=citizen.pk)
        _changed(events.ChangeKind.DIED, citizen)
    return _view(Citizen.objects.select_related("household").get(pk=citizen.pk), "registry.administration")


def change_id_number(
    ctx: AccessContext,
    id_number: str,
    *,
    new_id_number: str,
    new_sex: str | None = None,
    reason: str,
    legal_basis: str,
) -> CitizenView:
    """Give the citizen a new 12-digit number (e.g. after a legal change of sex); the old number
    stays in the history and still finds the record."""
    _authorise(ctx, WRITE_PURPOSES, "registry.id_change")
    _require_reason(reason, legal_basis)
    with _write(ctx, "registry.id_change"):
        citizen = _locked(id_number)
        _write_guard(ctx, citizen, "registry.id_change")
        sex = new_sex or citizen.sex
        if sex not in ("M", "F"):
            raise DomainValidationError.single("new_sex", "choice", "must be M (Nam) or F (Nữ)")
        new_parts = validate_id_number(
            new_id_number, date_of_birth=citizen.date_of_birth, sex=sex, field="new_id_number"
        )
        if (
            Citizen.objects.filter(id_number=new_id_number).exists()
            or IdNumberChange.objects.filter(old_number=new_id_number).exists()
        ):
            raise DomainValidationError.single(
                "new_id_number", "unique", f"{new_id_number} is already in use"
            )
        IdNumberChange.objects.create(
            citizen=citizen, old_number=citizen.id_number, new_number=new_id_number, reason=reason
        )
        diff: dict[str, list[object]] = {"id_number": [citizen.id_number, new_id_number]}
        if sex != citizen.sex:
            diff["sex"] = [citizen.sex, sex]
        if new_parts.place_code != citizen.birth_registration_code:  # derived from the number: keep in step
            diff["birth_registration_code"] = [citizen.birth_registration_code, new_parts.place_code]
            citizen.birth_registration_code = new_parts.place_code
        citizen.id_number = new_id_number
        citizen.sex = sex
        citizen.version += 1
        citizen.updated_at = timezone.now()
        citizen.save()
        IdentityCard.objects.filter(citizen=citizen, status=IdentityCard.Status.VALID).update(
            status=IdentityCard.Status.REPLACED
        )
        _revision(ctx, citizen, CitizenRevision.Action.ID_CHANGE, reason, legal_basis, diff)
        audit.record(ctx, "registry.id_change", subject_citizen_id=citizen.pk)
        _changed(events.ChangeKind.ID_NUMBER_CHANGED, citizen, previous=str(diff["id_number"][0]))
    return _view(Citizen.objects.select_related("household").get(pk=citizen.pk), "registry.administration")


# --------------------------------------------------------------------------- civil status and cards
# (public services, issue 7: marriage, card re-issue, residence removal after a death)
# eid.registration: a parent registering their child's eID account is checked against the
# child's parent links (Decree 69/2024/NĐ-CP Art. 7; blocks/eid/family.py, ADR 0017).
FAMILY_PURPOSES = frozenset({"registry.administration", "public_service.processing", "eid.registration"})
# Marriage and Family Law 2014 Art. 8 cl. 1(a): a man from full 20 years, a woman from full 18.
MARRIAGE_AGE = {"M": 20, "F": 18}
# Law on Identification 2023 Art. 21: the card is renewed at 14, 25, 40 and 60 (cl. 1; a card can
# be issued under 14 on request, Art. 19); a card issued or renewed within 2 years before one of these
# ages stays valid until the next one (cl. 2); from 60: no expiry.
CARD_RENEWAL_AGES = (14, 25, 40, 60)


@dataclass(frozen=True)
class FamilyLinks:
    """The family facts a civil-status procedure checks: the spouse and the parents, by number."""

    id_number: str
    sex: str
    date_of_birth: date
    life_status: str
    spouse_id_number: str | None
    father_id_number: str | None
    mother_id_number: str | None


def family_links(ctx: AccessContext, id_number: str) -> FamilyLinks:
    """Spouse and parents of a citizen (Marriage and Family Law 2014 Art. 5 cl. 2: no marriage
    while married, nor between direct-line relatives or siblings). Audited like a read."""
    _authorise(ctx, FAMILY_PURPOSES, "registry.family")
    parse_id_number(id_number)
    citizen = _found_in_scope(
        ctx, _find_by_id_number(id_number, "spouse", "father", "mother"), "registry.family", "id_number"
    )
    with transaction.atomic():
        audit.record(ctx, "registry.family", subject_citizen_id=citizen.pk, durable=False)
    return FamilyLinks(
        citizen.id_number,
        citizen.sex,
        citizen.date_of_birth,
        citizen.life_status,
        citizen.spouse.id_number if citizen.spouse else None,
        citizen.father.id_number if citizen.father else None,
        citizen.mother.id_number if citizen.mother else None,
    )


def _save_new_version(citizen: Citizen) -> None:
    citizen.version += 1
    citizen.updated_at = timezone.now()
    citizen.save()


def age_on(born: date, on: date) -> int:
    """Full years from ``born`` to ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _birthday(born: date, age: int) -> date:
    try:
        return born.replace(year=born.year + age)
    except ValueError:  # 29 February
        return date(born.year + age, 3, 1)


def card_expiry(born: date, issued_on: date) -> date | None:
    """The expiry of a card issued on ``issued_on`` (Law on Identification 2023 Art. 21): the day
    the holder reaches the next renewal age, skipping one that is at most 2 years away; None from
    the last (no expiry)."""
    for age in CARD_RENEWAL_AGES:
        due = _birthday(born, age)
        if due <= issued_on:
            continue
        if _birthday(born, age - 2) <= issued_on:  # within 2 years before: valid to the next age
            continue
        return due
    return None


def record_marriage(
    ctx: AccessContext, id_number: str, partner_id_number: str, *, on: date, reason: str, legal_basis: str
) -> tuple[CitizenView, CitizenView]:
    """Record a registered marriage (Law on Civil Status 2014 Art. 17–18): each becomes the
    other's spouse. Refused when either is married, deceased, under the marriage age on ``on``,
    or both are of the same sex (Marriage and Family Law 2014 Art. 5, 8)."""
    _authorise(ctx, WRITE_PURPOSES, "registry.marriage")
    _require_reason(reason, legal_basis)
    if id_number == partner_id_number:
        raise DomainValidationError.single("partner_id_number", "self", "the two parties must differ")
    with _write(ctx, "registry.marriage"):
        first, second = sorted((_locked(id_number), _locked(partner_id_number)), key=lambda c: c.pk)
        pair = {first.id_number: first, second.id_number: second}
        a, b = pair[id_number], pair[partner_id_number]
        problems: list[FieldProblem] = []
        for field_name, c in (("id_number", a), ("partner_id_number", b)):
            _write_guard(ctx, c, "registry.marriage")
            if c.spouse_id is not None:
                problems.append(FieldProblem(field_name, "already_married", "is recorded as married"))
            if age_on(c.date_of_birth, on) < MARRIAGE_AGE.get(c.sex, 20):
                problems.append(FieldProblem(field_name, "marriage_age", "is under the marriage age"))
        if a.sex == b.sex:
            problems.append(
                FieldProblem("partner_id_number", "same_sex", "same-sex marriage is not recognised")
            )
        if problems:
            raise DomainValidationError(problems)
        for c, other in ((a, b), (b, a)):
            c.spouse = other
            _save_new_version(c)
            _revision(
                ctx,
                c,
                CitizenRevision.Action.CORRECT,
                reason,
                legal_basis,
                {"spouse": [None, other.id_number]},
            )
            audit.record(ctx, "registry.marriage", subject_citizen_id=c.pk)
            _changed(events.ChangeKind.CORRECTED, c)
    loaded = Citizen.objects.select_related("household")
    return (
        _view(loaded.get(pk=a.pk), "registry.administration"),
        _view(loaded.get(pk=b.pk), "registry.administration"),
    )


def reissue_card(
    ctx: AccessContext, id_number: str, *, lost: bool, on: date, reason: str, legal_basis: str
) -> CardView:
    """Issue a new căn cước card in place of the holder's valid one (Law on Identification 2023
    Art. 24): the old card becomes ``lost`` (re-issue, cấp lại) or ``replaced`` (exchange, cấp
    đổi) and can no longer be verified as valid. The card number is the personal ID number."""
    _authorise(ctx, WRITE_PURPOSES, "registry.card")
    _require_reason(reason, legal_basis)
    with _write(ctx, "registry.card"):
        citizen = _locked(id_number)
        _write_guard(ctx, citizen, "registry.card")
        old = list(IdentityCard.objects.filter(citizen=citizen, status=IdentityCard.Status.VALID))
        if not old:
            raise DomainValidationError.single("cards", "no_valid_card", "the holder has no valid card")
        IdentityCard.objects.filter(pk__in=[c.pk for c in old]).update(
            status=IdentityCard.Status.LOST if lost else IdentityCard.Status.REPLACED
        )
        card = IdentityCard.objects.create(
            citizen=citizen,
            kind=IdentityCard.Kind.CAN_CUOC,
            card_number=citizen.id_number,
            issued_on=on,
            expires_on=card_expiry(citizen.date_of_birth, on),
        )
        _save_new_version(citizen)
        _revision(
            ctx,
            citizen,
            CitizenRevision.Action.CORRECT,
            reason,
            legal_basis,
            {"card": [f"{old[0].kind} {old[0].issued_on.isoformat()}", f"{card.kind} {on.isoformat()}"]},
        )
        audit.record(ctx, "registry.card", subject_citizen_id=citizen.pk, detail={"lost": lost})
    return CardView(card.kind, card.card_number, card.issued_on, card.expires_on, card.status)


def remove_permanent_residence(
    ctx: AccessContext, id_number: str, *, reason: str, legal_basis: str
) -> CitizenView:
    """Remove the permanent residence registration (xóa đăng ký thường trú, Law on Residence 2020
    Art. 24 cl. 1(a): the citizen has died) — the address and household go, the revision keeps
    them; the ward codes stay as the last place of residence (whose officials keep jurisdiction)."""
    _authorise(ctx, WRITE_PURPOSES, "registry.deregister")
    _require_reason(reason, legal_basis)
    with _write(ctx, "registry.deregister"):
        citizen = _locked(id_number)
        if not _in_jurisdiction(ctx, citizen):
            raise AccessDenied(
                "this citizen is outside your organisation's jurisdiction",
                field="id_number",
                rule="jurisdiction",
                subject_id=citizen.pk,
            )
        if citizen.life_status != Citizen.LifeStatus.DECEASED:
            raise DomainValidationError.single(
                "id_number", "alive", "only a deceased citizen's residence is removed"
            )
        if not citizen.permanent_address_text:
            raise DomainValidationError.single(
                "id_number", "no_residence", "no permanent residence to remove"
            )
        diff: dict[str, list[object]] = {
            "permanent_address_text": [citizen.permanent_address_text, ""],
            "household": [citizen.household.household_number if citizen.household else "", ""],
        }
        citizen.permanent_address_text = ""
        citizen.permanent_legacy_ward_code = ""
        citizen.household = None
        citizen.relationship_to_head = ""
        _save_new_version(citizen)
        _revision(ctx, citizen, CitizenRevision.Action.MOVE, reason, legal_basis, diff)
        audit.record(ctx, "registry.deregister", subject_citizen_id=citizen.pk)
    return _view(Citizen.objects.select_related("household").get(pk=citizen.pk), "registry.administration")


# --------------------------------------------------------------------------- data cleaning (issue 8)
CLEANING_PURPOSES = frozenset({"data.cleaning"})


_CLEANING_COLUMNS = (
    "id",
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


def _reference_page(rows: list[tuple[Any, ...]]) -> list[ReferenceRecord]:
    """The records of one page of ``_CLEANING_COLUMNS`` rows, with their old CMND and previous ID
    numbers (two queries for the page)."""
    ids = [r[0] for r in rows]
    olds: dict[int, list[str]] = {}
    previous: dict[int, list[str]] = {}
    for cid, number in OldIdNumber.objects.filter(citizen_id__in=ids).values_list("citizen_id", "number"):
        olds.setdefault(cid, []).append(number)
    for cid, number in IdNumberChange.objects.filter(citizen_id__in=ids).values_list(
        "citizen_id", "old_number"
    ):
        previous.setdefault(cid, []).append(number)
    return [
        ReferenceRecord(
            citizen_id=r[0],
            id_number=r[1],
            full_name=r[2],
            date_of_birth=_as_date(r[3]),
            dob_precision=r[4],
            sex=r[5],
            permanent_address_text=r[6],
            permanent_ward_code=r[7],
            permanent_legacy_ward_code=r[8],
            life_status=r[9],
            date_of_death=r[10],
            old_id_numbers=tuple(olds.get(r[0], ())),
            previous_id_numbers=tuple(previous.get(r[0], ())),
        )
        for r in rows
    ]


def cleaning_reference(ctx: AccessContext, *, job_reference: str) -> list[ReferenceRecord]:
    """Every citizen of the actor's jurisdiction, in the fields ``data.cleaning`` allows, for
    matching a sector file against the registry (``blocks/linkage``).

    A bulk read is audited once, for the job (action ``registry.cleaning_extract``, with the count);
    each citizen the job then *matches* gets an event of their own through
    :func:`record_cleaning_matches` — the citizen sees which agency's file named them, not every
    job that merely scanned the registry (ADR 0012).
    """
    return [r for page in cleaning_reference_batches(ctx, job_reference=job_reference) for r in page]


def cleaning_reference_batches(
    ctx: AccessContext, *, job_reference: str, batch: int = 5000
) -> Iterator[list[ReferenceRecord]]:
    """Every citizen of the actor's jurisdiction as :func:`cleaning_reference` gives them, ``batch`` at a
    time (keyset pages by id), for
    a cleaning job too large to hold the jurisdiction's registry in memory (the scale path of
    ``linkage.services``, ADR 0012). The same fields and the same single audit event per job
    (``registry.cleaning_extract``, recorded before the first page with the count)."""
    _authorise(ctx, CLEANING_PURPOSES, "registry.cleaning_extract")
    qs = _scope(ctx, Citizen.objects.all())
    audit.record(
        ctx, "registry.cleaning_extract", detail={"job": job_reference, "records": qs.count()}, durable=False
    )
    last = 0
    while rows := list(qs.filter(id__gt=last).order_by("id").values_list(*_CLEANING_COLUMNS)[:batch]):
        last = rows[-1][0]
        yield _reference_page(rows)


def record_cleaning_matches(
    ctx: AccessContext, citizen_ids: list[int], *, job_reference: str, candidates: list[int] | None = None
) -> int:
    """One audit event per citizen a cleaning job matched (action ``registry.cleaning_match``), so
    that the citizen can see that the organisation's file was linked to their record; and one per
    citizen put in front of an official as an uncertain candidate (``registry.cleaning_candidate``:
    their fields are shown side by side in the review queue)."""
    _authorise(ctx, CLEANING_PURPOSES, "registry.cleaning_match")
    detail: dict[str, object] = {"job": job_reference}
    with transaction.atomic():
        n = audit.record_many(ctx, "registry.cleaning_match", sorted(set(citizen_ids)), detail=detail)
        if candidates:
            n += audit.record_many(ctx, "registry.cleaning_candidate", sorted(set(candidates)), detail=detail)
        return n


def cleaning_address_evidence(
    ctx: AccessContext, claims: Iterable[tuple[int, str]], *, job_reference: str, batch: int = 5000
) -> dict[tuple[int, str], AddressEvidence]:
    """For citizens a cleaning job linked to a row whose ward is not their permanent one
    (``claims``: pairs of citizen id and the row's current ward code), whether the registry knows
    them in that ward: a permanent residence they left (a ``move`` revision whose old ward is the
    row's, Law on Residence 2020 Art. 22 — the file's address is a *previous* one: ``previous``,
    with the date of the latest such move), or a temporary residence registered there (Art. 27–28:
    the file gives where the citizen lives: ``temporary``, which wins over ``previous``). The
    answer is per claim and says nothing else of the citizen's history (least data, Decree
    13/2023 Art. 3); a claim with no such record is absent.

    Only citizens of the actor's jurisdiction are looked at (as :func:`cleaning_reference` reads
    them) and only for a ward other than their permanent one; each citizen looked at gets one
    audit event (``registry.cleaning_address_check`` with the job), whatever the answer — their
    residence history was read for that job."""
    _authorise(ctx, CLEANING_PURPOSES, "registry.cleaning_address_check")
    wanted: dict[int, set[str]] = {}
    for cid, ward in claims:
        if ward:
            wanted.setdefault(int(cid), set()).add(ward)
    found: dict[tuple[int, str], AddressEvidence] = {}
    looked: list[int] = []
    ids = sorted(wanted)
    for start in range(0, len(ids), batch):
        page = ids[start : start + batch]
        rows = _scope(ctx, Citizen.objects.filter(id__in=page)).values_list(
            "id", "permanent_ward_code", "temporary_ward_code"
        )
        asked: dict[int, set[str]] = {}
        for cid, permanent, temporary in rows:
            wards = wanted[cid] - {permanent}  # the citizen's own ward is no claim of another
            if not wards:
                continue
            asked[cid] = wards
            if temporary in wards:
                found[(cid, temporary)] = AddressEvidence(cid, temporary, "temporary")
        moves = (
            CitizenRevision.objects.filter(citizen_id__in=asked, action=CitizenRevision.Action.MOVE)
            .order_by("citizen_id", "version")
            .values_list("citizen_id", "changed_at", "changes")
        )
        for cid, changed_at, changes in moves:  # versions ascend: the latest move away wins
            old = (changes or {}).get("permanent_ward_code")
            left = str(old[0]) if isinstance(old, list) and old and old[0] else ""
            if left in asked[cid] and getattr(found.get((cid, left)), "kind", "previous") == "previous":
                found[(cid, left)] = AddressEvidence(cid, left, "previous", timezone.localdate(changed_at))
        looked.extend(sorted(asked))
    if looked:
        audit.record_many(
            ctx, "registry.cleaning_address_check", looked, detail={"job": job_reference}, durable=False
        )
    return found
