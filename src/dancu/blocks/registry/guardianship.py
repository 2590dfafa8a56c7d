"""Who may act for a minor: parents, guardians, and court restrictions of a parent's rights.

Rules (the article numbers are from the Civil Code 2015 and the Marriage and Family Law 2014; they
are not in domain-vn.md, see ADR 0017 §"Guardians"):

* **Guardianship** (giám hộ, Civil Code 2015 Art. 46–62): a minor without a parent able to act
  for them (Art. 47 cl. 1(a)–(b): no parent, or parents deceased, lacking capacity, or whose rights
  over the child are restricted) has a guardian — by law (Art. 52: an elder sibling, then the
  grandparents) or appointed (Art. 54). The guardianship is registered with the civil-status
  authority (Art. 46 cl. 3; Law on Civil Status 2014 Art. 20–23), and that registration is what
  :func:`record_guardianship` records, with its record number, legal basis and reason. An
  individual guardian is an adult (Art. 49 cl. 1, full civil capacity). A ward has one guardian at a
  time (Art. 48 cl. 2; the exception of parents or grandparents acting jointly is not modelled).
  It ends by :func:`end_guardianship` (Art. 62) and in any case when the ward reaches 18
  (Art. 20–21: full age).
* **Restriction of a parent's rights** (Marriage and Family Law 2014 Art. 85–87): a court decision
  takes from a parent, for a term, the right to act for the child; :func:`record_parental_restriction`
  records it with the decision's number, date and court. A court may lift it before its term:
  :func:`lift_parental_restriction` records the lifting decision (number, date, court) and the day
  from which the parent acts again; the row stays.
* **Who records them**: the commune People's Committee's judicial and civil-status officer (role
  ``civil_status``, purpose ``civil_status.guardianship``: guardianship is registered at the
  commune, Law on Civil Status 2014 Art. 20–23) or the registry's officers (``registry.
  administration``) — for a child whose permanent residence is in their ward or commune (the
  registry's jurisdiction check; a province's registry officer: the province). A guardianship is
  registered by the commune of the place of residence **of the ward or of the guardian** (Law on
  Civil Status 2014 Art. 19; procedures: Art. 20, appointed guardianship, Art. 21, guardianship by law): an
  officer with a ward jurisdiction may also record the guardianship of a child living elsewhere
  when the guardian's permanent residence is in their ward or commune and the guardian is
  eligible; where it was registered is kept (``Guardianship.registered_ward_code``). Its
  termination is filed with the authority that registered it (Art. 22 cl. 1), so
  :func:`end_guardianship` is open to the child's commune and to the registering commune.
  Restrictions of a parent's rights are recorded by the child's commune only.
  :func:`child_record` shows the child's current and past guardianships and restrictions to the
  child's commune, and to a commune that registered one of the child's guardianships only the
  guardianships registered there.
* **Who may act for the child** (:func:`parental_authority`): the registry's father or mother
  without a restriction in force on the day, or the guardian in office on the day — only while the
  child is a minor. The answer is about one named person, never a list of the child's family.

Every function checks the purpose and writes an audit event to the child's record (denials too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.idnumber import parse_id_number
from dancu.blocks.registry.models import Citizen, Guardianship, ParentalRestriction
from dancu.blocks.registry.services import (
    WRITE_PURPOSES,
    _audit_outside_tx,
    _authorise,
    _find_by_id_number,
    _found_in_scope,
    _in_jurisdiction,
    _living_guard,
    _require_reason,
    _write,
    _write_guard,
    age_on,
)
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

# Reading who may act for a child: the registry's own officers, a public service processing a
# child's case, and the eID system checking a parent or guardian who registers or manages a
# child's account (Decree 69/2024/NĐ-CP Art. 7; blocks/eid/family.py, ADR 0017).
AUTHORITY_PURPOSES = frozenset({"registry.administration", "public_service.processing", "eid.registration"})
# Recording guardianships and restrictions: the registry's own writers and the commune's
# judicial and civil-status officer (organisations/policy.py; ADR 0017 §2b).
CIVIL_STATUS = "civil_status.guardianship"
RECORD_PURPOSES = WRITE_PURPOSES | {CIVIL_STATUS}
# Reading a child's guardianships and restrictions (the officer's page, the API).
CHILD_RECORD_PURPOSES = frozenset({"registry.administration", CIVIL_STATUS})
FULL_AGE = 18  # Civil Code 2015 Art. 20 cl. 1: an adult is a person from full 18 years
FATHER, MOTHER, GUARDIAN = "father", "mother", "guardian"
GUARDIAN_NOT_ELIGIBLE = "not_eligible"
# What :func:`child_record` shows: the child's commune sees the whole record; a commune that
# registered one of the child's guardianships (at the guardian's residence, Law on Civil Status
# 2014 Art. 19) only the guardianships registered there.
WHOLE_RECORD, REGISTERED_HERE = "whole", "registered_here"
NEITHER_RESIDES_HERE = (
    "neither the ward's nor the guardian's permanent residence is in your ward or commune "
    "(Law on Civil Status 2014 Art. 19)"
)


@dataclass(frozen=True)
class GuardianshipView:
    guardianship_id: int
    ward_id_number: str
    guardian_id_number: str
    kind: str
    record_number: str
    started_on: date
    ended_on: date | None
    registered_ward_code: str = ""


@dataclass(frozen=True)
class ParentalAuthority:
    """Whether ``person_id_number`` may act for the child on ``on``: ``relationship`` is
    ``father``, ``mother`` or ``guardian``, or empty (no link, a restricted parent, an ended
    guardianship, or an adult child)."""

    child_id_number: str
    child_citizen_id: int
    child_date_of_birth: date
    person_id_number: str
    relationship: str
    legal_basis: str


def _authorise_officer(ctx: AccessContext, purposes: Iterable[str], action: str) -> None:
    """The registry's purpose check, and for the civil-status purpose a ward jurisdiction: the
    guardianship is registered at the commune (Law on Civil Status 2014 Art. 20–23), so a member
    with role ``civil_status`` of a People's Committee with no ward code (a city's or a
    province's) is denied, audited (security review of ADR 0017; organisations/policy.py)."""
    _authorise(ctx, frozenset(purposes), action)
    if ctx.purpose == CIVIL_STATUS and not ctx.actor.is_system and not ctx.actor.jurisdiction_ward_code:
        _audit_outside_tx(ctx, action, None, AuditEvent.Result.DENIED, {"reason": "ward_jurisdiction"})
        raise AccessDenied(
            "the civil-status purpose is for a ward or commune's officer only",
            rule="ward_jurisdiction",
        )


def _locked_citizen(id_number: str, field: str) -> Citizen:
    try:
        parse_id_number(id_number)
    except DomainValidationError as exc:
        raise DomainValidationError([FieldProblem(field, p.rule, p.message) for p in exc.problems]) from None
    citizen = Citizen.objects.select_for_update().filter(id_number=id_number).first()
    if citizen is None:
        raise NotFound("no citizen with that number", field=field)
    return citizen


class _GuardianNotEligible(DomainValidationError):
    """The one refusal of a guardian (:func:`_eligible_guardian`); ``subject_id`` is the citizen
    the number names, if any, to whose record the refusal is audited (``citizen``: that one)."""

    def __init__(self, subject_id: int | None, citizen: Citizen | None = None) -> None:
        super().__init__(
            [
                FieldProblem(
                    "guardian_id_number",
                    GUARDIAN_NOT_ELIGIBLE,
                    "guardian not eligible: a guardian is a living adult in the registry "
                    "(Civil Code 2015 Art. 49)",
                )
            ]
        )
        self.subject_id = subject_id
        self.citizen = citizen


class _RefusedForTheWard(DomainValidationError):
    """A refusal about the ward (deceased, not a minor, a guardian in office) to an officer whose
    jurisdiction comes from the guardian's residence only (:func:`_guardians_commune`): audited
    ``denied`` to the ward's record, so that the child's family sees who asked, and to the
    guardian's (``guardian_id``), whom the request found eligible in the officer's ward."""

    def __init__(self, problems: list[FieldProblem], subject_id: int, guardian_id: int) -> None:
        super().__init__(problems)
        self.subject_id = subject_id
        self.guardian_id = guardian_id


class _NeitherResidesHere(AccessDenied):
    """The one refusal of the guardian's route (:func:`_guardians_commune`), audited ``denied`` to
    the ward by ``_write``. ``guardian_id``: the named citizen when they live in the officer's
    ward or commune but are not eligible — the refusal (against going on to the ward's checks
    for an eligible one) tells the officer that, so it goes on their record too, as the
    ``not_eligible`` refusal does at the ward's commune (security review of ADR 0017, (ii))."""

    def __init__(self, ward_id: int, guardian_id: int | None) -> None:
        super().__init__(
            NEITHER_RESIDES_HERE, field="ward_id_number", rule="jurisdiction", subject_id=ward_id
        )
        self.guardian_id = guardian_id


def _eligible_guardian(id_number: str, on: date) -> Citizen:
    """The guardian, if eligible on ``on``: a living adult in the registry (Civil Code 2015 Art. 49
    cl. 1). Otherwise one generic refusal, ``guardian_id_number``/``not_eligible``, whether the
    number is unknown, the person deceased or a minor: the refusal must not tell the officer a
    citizen's age, death or existence (security review of ADR 0017). The caller audits it."""
    try:
        parse_id_number(id_number)
    except DomainValidationError as exc:
        raise DomainValidationError(
            [FieldProblem("guardian_id_number", p.rule, p.message) for p in exc.problems]
        ) from None
    guardian = Citizen.objects.select_for_update().filter(id_number=id_number).first()
    if guardian is None:
        raise _GuardianNotEligible(None)
    if guardian.life_status == Citizen.LifeStatus.DECEASED or age_on(guardian.date_of_birth, on) < FULL_AGE:
        raise _GuardianNotEligible(guardian.pk, guardian)
    return guardian


def _guard(ctx: AccessContext, citizen: Citizen, action: str, field: str) -> None:
    """The registry's write guard (jurisdiction: the citizen's permanent ward or province; not
    deceased), its refusals naming the request's field."""
    try:
        _write_guard(ctx, citizen, action)
    except AccessDenied as exc:
        raise AccessDenied(str(exc), field=field, rule=exc.rule, subject_id=exc.subject_id) from None
    except DomainValidationError as exc:
        raise DomainValidationError(
            [
                FieldProblem(field if p.field == "id_number" else p.field, p.rule, p.message)
                for p in exc.problems
            ]
        ) from None


def _guardianship_view(g: Guardianship) -> GuardianshipView:
    return GuardianshipView(
        g.pk,
        g.ward.id_number,
        g.guardian.id_number,
        g.kind,
        g.record_number,
        g.started_on,
        g.ended_on,
        g.registered_ward_code,
    )


def _officers_ward(ctx: AccessContext) -> str:
    """The officer's ward or commune (current code): where a guardianship they record is
    registered. Empty for the system and for an officer without a ward (a province's)."""
    return "" if ctx.actor.is_system else (ctx.actor.jurisdiction_ward_code or "")


def _guardians_commune(
    ctx: AccessContext, action: str, ward: Citizen, guardian_id_number: str, started_on: date
) -> Citizen:
    """The ward's permanent residence is outside the officer's jurisdiction: the guardianship may
    still be registered here if the guardian's permanent residence is in the officer's ward or
    commune (Law on Civil Status 2014 Art. 19) and the guardian is eligible on
    ``started_on`` (:func:`_eligible_guardian`). The jurisdiction test is the registry's
    (``_in_jurisdiction``), for an officer with a ward only (the caller refuses a province's
    registry officer as before). Otherwise — the number unknown, the person deceased, a minor or
    living elsewhere alike — ONE refusal, ``ward_id_number``/``jurisdiction``, audited ``denied``
    to the ward's record by ``_write`` as the ward's jurisdiction refusal is: it tells an officer
    without jurisdiction nothing about the guardian (security review of ADR 0017). A citizen of
    the officer's own ward named but not eligible is audited ``denied`` to their record too
    (:class:`_NeitherResidesHere`): for them the refusal does tell (with the start date, their age
    by bisection). A deceased ward is then refused as by the write guard
    (:class:`_RefusedForTheWard`)."""
    named: Citizen | None
    try:
        guardian: Citizen | None = _eligible_guardian(guardian_id_number, started_on)
        named = guardian
    except _GuardianNotEligible as exc:
        guardian, named = None, exc.citizen
    here = named if named is not None and _in_jurisdiction(ctx, named) else None
    if guardian is None or here is None:
        raise _NeitherResidesHere(ward.pk, here.pk if here is not None else None)
    try:
        _living(ward, action, "ward_id_number")
    except DomainValidationError as exc:
        raise _RefusedForTheWard(exc.problems, ward.pk, guardian.pk) from None
    return guardian


def _living(citizen: Citizen, action: str, field: str) -> None:
    """The rest of the write guard (not deceased), when the jurisdiction came another way."""
    try:
        _living_guard(citizen, action)
    except DomainValidationError as exc:
        raise DomainValidationError(
            [
                FieldProblem(field if p.field == "id_number" else p.field, p.rule, p.message)
                for p in exc.problems
            ]
        ) from None


def record_guardianship(
    ctx: AccessContext,
    ward_id_number: str,
    guardian_id_number: str,
    *,
    kind: str,
    started_on: date,
    record_number: str,
    reason: str,
    legal_basis: str,
) -> GuardianshipView:
    """Record a registered guardianship of a minor (module docstring). Refused, naming the field
    and the rule: an unknown kind, no record number, a start in the future or before the ward's
    birth, the ward already 18 or deceased, a guardian who is the ward, a ward who already has a
    guardian in office. The ward is checked first; only then the guardian, with one generic refusal
    (``guardian_id_number``/``not_eligible``: unknown, deceased or under 18 alike), audited as
    ``denied`` to the named citizen's record.

    Jurisdiction (Law on Civil Status 2014 Art. 19: the commune of the ward's or
    the guardian's residence): the ward's permanent residence in the officer's ward or commune
    (checked first, as before), or else the guardian's, the guardian being eligible
    (:func:`_guardians_commune`). Neither: one refusal ``ward_id_number``/``jurisdiction``,
    whatever the guardian's reason, audited ``denied`` to the ward. At the guardian's commune a
    refusal about the ward (deceased, not a minor, a guardian in office — that one alone) is
    audited ``denied`` to the ward too. The row keeps the officer's ward
    (``registered_ward_code``)."""
    action = "registry.guardianship.record"
    _authorise_officer(ctx, RECORD_PURPOSES, action)
    _require_reason(reason, legal_basis)
    problems: list[FieldProblem] = []
    if kind not in Guardianship.Kind.values:
        problems.append(FieldProblem("kind", "choice", "de_jure (Civil Code Art. 52) or appointed (Art. 54)"))
    if not record_number.strip() or len(record_number) > 80:
        problems.append(
            FieldProblem(
                "record_number", "required", "the civil-status registration number (1–80 characters)"
            )
        )
    if started_on > timezone.localdate():
        problems.append(FieldProblem("started_on", "past", "the guardianship cannot start in the future"))
    if ward_id_number == guardian_id_number:
        problems.append(FieldProblem("guardian_id_number", "self", "a person cannot be their own guardian"))
    # The guardian's number is checked in form here, before anyone is looked up: on the
    # guardian's route a malformed number would otherwise be refused only once the ward was
    # found (422 for a citizen who exists, 404 for one who does not, unaudited).
    try:
        parse_id_number(guardian_id_number, field="guardian_id_number")
    except DomainValidationError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DomainValidationError(problems)
    try:
        return _record_guardianship(
            ctx,
            action,
            ward_id_number,
            guardian_id_number,
            kind,
            started_on,
            record_number,
            reason,
            legal_basis,
        )
    except _GuardianNotEligible as exc:
        # Rolled back by the refusal; recorded on its own, on the named citizen's record.
        _audit_outside_tx(
            ctx, action, exc.subject_id, AuditEvent.Result.DENIED, {"reason": "guardian_not_eligible"}
        )
        raise
    except _NeitherResidesHere as exc:  # audited to the ward by ``_write``
        if exc.guardian_id is not None:
            _audit_outside_tx(
                ctx, action, exc.guardian_id, AuditEvent.Result.DENIED, {"reason": "guardian_not_eligible"}
            )
        raise
    except _RefusedForTheWard as exc:
        detail: dict[str, object] = {
            "reason": "ward_refused_at_guardians_commune",
            "rules": sorted(p.rule for p in exc.problems),
        }
        _audit_outside_tx(ctx, action, exc.subject_id, AuditEvent.Result.DENIED, detail)
        _audit_outside_tx(ctx, action, exc.guardian_id, AuditEvent.Result.DENIED, {**detail, "as": GUARDIAN})
        raise


def _record_guardianship(
    ctx: AccessContext,
    action: str,
    ward_id_number: str,
    guardian_id_number: str,
    kind: str,
    started_on: date,
    record_number: str,
    reason: str,
    legal_basis: str,
) -> GuardianshipView:
    problems: list[FieldProblem] = []
    with _write(ctx, action):
        # The ward first (jurisdiction, age, guardian in office): a request refused for the ward
        # never looks at the guardian, so it tells nothing about them (security review, item 1).
        # Outside the ward's commune the guardian is looked at only to find a jurisdiction, and
        # every way of not finding one is the same refusal (:func:`_guardians_commune`).
        ward = _locked_citizen(ward_id_number, "ward_id_number")
        guardian: Citizen | None = None
        if _in_jurisdiction(ctx, ward) or not _officers_ward(ctx):
            _guard(ctx, ward, action, "ward_id_number")  # the ward's commune (or province), as before
        else:  # the guardian's commune, or one refusal
            guardian = _guardians_commune(ctx, action, ward, guardian_id_number, started_on)
        has_guardian = Guardianship.objects.filter(ward=ward, ended_on__isnull=True).exists()
        # At the guardian's commune a ward with a guardian in office is refused for that alone:
        # the answer does not vary with the start date, so it gives no bisection of the date of
        # birth of a child outside the officer's jurisdiction.
        if not (guardian is not None and has_guardian) and (
            started_on < ward.date_of_birth or age_on(ward.date_of_birth, started_on) >= FULL_AGE
        ):
            problems.append(
                FieldProblem("started_on", "minor", "the ward must be a minor (under 18) on the start date")
            )
        if has_guardian:
            problems.append(
                FieldProblem(
                    "ward_id_number",
                    "has_guardian",
                    "the ward has a guardian in office: end that guardianship first (Civil Code Art. 48, 62)",
                )
            )
        if problems:
            raise (
                DomainValidationError(problems)
                if guardian is None
                else _RefusedForTheWard(problems, ward.pk, guardian.pk)
            )
        if guardian is None:
            guardian = _eligible_guardian(guardian_id_number, started_on)
        row = Guardianship.objects.create(
            ward=ward,
            guardian=guardian,
            kind=kind,
            record_number=record_number.strip(),
            started_on=started_on,
            reason=reason.strip(),
            legal_basis=legal_basis.strip(),
            recorded_by_user_id=ctx.actor.user_id,
            recorded_by_label=ctx.actor.label,
            organisation_name=ctx.actor.organisation_name,
            registered_ward_code=_officers_ward(ctx),
        )
        audit.record(ctx, action, subject_citizen_id=ward.pk, detail={"guardianship": row.pk, "kind": kind})
        audit.record(
            ctx, action, subject_citizen_id=guardian.pk, detail={"guardianship": row.pk, "as": GUARDIAN}
        )
    return _guardianship_view(row)


def end_guardianship(
    ctx: AccessContext, ward_id_number: str, *, ended_on: date, end_reason: str, legal_basis: str
) -> GuardianshipView:
    """End the ward's guardianship in office (Civil Code 2015 Art. 62: e.g. a parent able to act
    again, the guardian replaced under Art. 60). The row stays, with the end date and reason.

    Jurisdiction: the ward's commune (as before), or the commune that registered the guardianship
    in office (``registered_ward_code`` is the officer's ward: the termination is filed with the
    authority that registered it, Law on Civil Status 2014 Art. 22 cl. 1). Anyone else is refused
    ``ward_id_number``/``jurisdiction`` as before, audited — whether or not a guardian is in office.
    A deceased ward is not refused: the ward's death ends the guardianship (Art. 62 cl. 1(b))."""
    action = "registry.guardianship.end"
    _authorise_officer(ctx, RECORD_PURPOSES, action)
    _require_reason(end_reason, legal_basis)
    with _write(ctx, action):
        ward = _locked_citizen(ward_id_number, "ward_id_number")
        here = _officers_ward(ctx)
        # The jurisdiction only, not the write guard's "deceased": the ward's death ends the
        # guardianship (Civil Code 2015 Art. 62 cl. 1(b)) and its termination is registered
        # (Law on Civil Status 2014 Art. 22), so it is not refused.
        if not _in_jurisdiction(ctx, ward) and not (
            here
            and Guardianship.objects.filter(
                ward=ward, ended_on__isnull=True, registered_ward_code=here
            ).exists()
        ):
            raise AccessDenied(
                "this citizen is outside your organisation's jurisdiction",
                field="ward_id_number",
                rule="jurisdiction",
                subject_id=ward.pk,
            )
        row = (
            Guardianship.objects.select_for_update()
            .select_related("ward", "guardian")
            .filter(ward=ward, ended_on__isnull=True)
            .first()
        )
        if row is None:
            raise NotFound("this citizen has no guardian in office", field="ward_id_number")
        if ended_on < row.started_on or ended_on > timezone.localdate():
            raise DomainValidationError.single(
                "ended_on", "range", "the end date is between the start date and today"
            )
        row.ended_on = ended_on
        row.end_reason = f"{end_reason.strip()} ({legal_basis.strip()})"[:300]
        row.save(update_fields=["ended_on", "end_reason"])
        audit.record(ctx, action, subject_citizen_id=ward.pk, detail={"guardianship": row.pk})
        audit.record(
            ctx, action, subject_citizen_id=row.guardian_id, detail={"guardianship": row.pk, "as": GUARDIAN}
        )
    return _guardianship_view(row)


def record_parental_restriction(
    ctx: AccessContext,
    child_id_number: str,
    parent_id_number: str,
    *,
    decision: str,
    restricted_from: date,
    restricted_until: date | None,
    reason: str,
    legal_basis: str,
    decided_on: date | None = None,
    court: str = "",
) -> int:
    """Record a court's decision restricting a parent's rights over their minor child (Marriage
    and Family Law 2014 Art. 85–87), with the decision's number, date and court (the officer's
    desk and the API require the date and the court; the block accepts rows without them, as
    recorded before registry/0004). The parent must be the child's registered father or mother;
    the term ends after it starts; the decision is not dated in the future. Returns the row's id."""
    action = "registry.parental_restriction.record"
    _authorise_officer(ctx, RECORD_PURPOSES, action)
    _require_reason(reason, legal_basis)
    problems = _decision_problems(decision, decided_on, court)
    if restricted_until is not None and restricted_until <= restricted_from:
        problems.append(FieldProblem("restricted_until", "order", "the term ends after it starts"))
    if problems:
        raise DomainValidationError(problems)
    with _write(ctx, action):
        child = _locked_citizen(child_id_number, "child_id_number")
        _guard(ctx, child, action, "child_id_number")
        parent = Citizen.objects.filter(id_number=parent_id_number).only("pk").first()
        if parent is None or parent.pk not in (child.father_id, child.mother_id):
            raise DomainValidationError.single(
                "parent_id_number",
                "not_parent",
                "the registry does not record this person as the child's parent",
            )
        row = ParentalRestriction.objects.create(
            child=child,
            parent=parent,
            decision=decision.strip(),
            decided_on=decided_on,
            court=court.strip(),
            restricted_from=restricted_from,
            restricted_until=restricted_until,
            reason=reason.strip(),
            legal_basis=legal_basis.strip(),
            recorded_by_user_id=ctx.actor.user_id,
            recorded_by_label=ctx.actor.label,
            organisation_name=ctx.actor.organisation_name,
        )
        audit.record(ctx, action, subject_citizen_id=child.pk, detail={"restriction": row.pk})
        audit.record(ctx, action, subject_citizen_id=parent.pk, detail={"restriction": row.pk})
    return int(row.pk)


def _decision_problems(decision: str, decided_on: date | None, court: str) -> list[FieldProblem]:
    """A court decision's number (required), date (not in the future) and court (at most 200)."""
    problems: list[FieldProblem] = []
    if not decision.strip() or len(decision) > 80:
        problems.append(FieldProblem("decision", "required", "the court decision's number (1–80 characters)"))
    if decided_on is not None and decided_on > timezone.localdate():
        problems.append(FieldProblem("decided_on", "past", "the decision is not dated in the future"))
    if len(court) > 200:
        problems.append(FieldProblem("court", "max_length", "the court's name (at most 200 characters)"))
    return problems


def lift_parental_restriction(
    ctx: AccessContext,
    child_id_number: str,
    restriction_id: int,
    *,
    lifted_on: date,
    decision: str,
    decided_on: date,
    court: str,
    reason: str,
    legal_basis: str,
) -> int:
    """Record a court's decision lifting a restriction of a parent's rights before its term: from
    ``lifted_on`` the parent acts for the child again (:func:`parental_authority`). Refused,
    naming the field and the rule: no decision number, date or court, a decision dated in the
    future, a restriction of another child (not found), one already lifted (``lifted``), a
    ``lifted_on`` before the restriction started, on or after the end of its term, before the
    lifting decision or in the future (``range``). The row stays with the lifting decision;
    audited to the child and to the parent. Returns the row's id."""
    action = "registry.parental_restriction.lift"
    _authorise_officer(ctx, RECORD_PURPOSES, action)
    _require_reason(reason, legal_basis)
    problems = _decision_problems(decision, decided_on, court)
    if not court.strip():
        problems.append(FieldProblem("court", "required", "the court that decided the lifting"))
    if lifted_on > timezone.localdate():
        problems.append(FieldProblem("lifted_on", "past", "a lifting is recorded once it takes effect"))
    if problems:
        raise DomainValidationError(problems)
    with _write(ctx, action):
        child = _locked_citizen(child_id_number, "child_id_number")
        _guard(ctx, child, action, "child_id_number")
        row = ParentalRestriction.objects.select_for_update().filter(pk=restriction_id, child=child).first()
        if row is None:
            raise NotFound("this child has no such restriction", field="restriction_id")
        if row.lifted_on is not None:
            raise DomainValidationError.single(
                "restriction_id",
                "lifted",
                f"the restriction was already lifted on {row.lifted_on.isoformat()}",
            )
        if (
            lifted_on < row.restricted_from
            or lifted_on < decided_on
            or (row.restricted_until is not None and lifted_on >= row.restricted_until)
        ):
            raise DomainValidationError.single(
                "lifted_on",
                "range",
                "the lifting takes effect from the decision's date, within the restriction's term",
            )
        row.lifted_on = lifted_on
        row.lift_decision = decision.strip()
        row.lift_decided_on = decided_on
        row.lift_court = court.strip()
        row.lift_reason = f"{reason.strip()} ({legal_basis.strip()})"[:500]
        row.lift_recorded_by_label = ctx.actor.label[:150]
        row.save(
            update_fields=[
                "lifted_on",
                "lift_decision",
                "lift_decided_on",
                "lift_court",
                "lift_reason",
                "lift_recorded_by_label",
            ]
        )
        audit.record(ctx, action, subject_citizen_id=child.pk, detail={"restriction": row.pk})
        audit.record(ctx, action, subject_citizen_id=row.parent_id, detail={"restriction": row.pk})
    return int(row.pk)


@dataclass(frozen=True)
class RestrictionView:
    restriction_id: int
    parent_id_number: str
    parent_name: str
    relationship: str  # father / mother
    decision: str
    decided_on: date | None
    court: str
    restricted_from: date
    restricted_until: date | None
    lifted_on: date | None
    lift_decision: str
    lift_decided_on: date | None
    lift_court: str
    state: str  # in_force / upcoming / ended / lifted
    recorded_by: str
    organisation_name: str


@dataclass(frozen=True)
class GuardianshipRow:
    guardianship_id: int
    guardian_id_number: str
    guardian_name: str
    kind: str
    record_number: str
    started_on: date
    ended_on: date | None
    end_reason: str
    reason: str
    legal_basis: str
    recorded_by: str
    organisation_name: str
    registered_ward_code: str = ""  # empty: recorded before registry/0006, or by a province's officer


@dataclass(frozen=True)
class ChildRecord:
    """What the civil-status officer sees of a child: who they are, who acts for them. ``scope``
    is :data:`WHOLE_RECORD` (the child's commune) or :data:`REGISTERED_HERE` (a commune that
    registered one of the child's guardianships: only those, no parents, no restrictions)."""

    child_id_number: str
    full_name: str
    date_of_birth: date
    age: int
    father_id_number: str
    father_name: str
    mother_id_number: str
    mother_name: str
    guardianships: list[GuardianshipRow]
    restrictions: list[RestrictionView]
    scope: str = WHOLE_RECORD

    @property
    def guardian_in_office(self) -> GuardianshipRow | None:
        return next((g for g in self.guardianships if g.ended_on is None), None)


def _state(r: ParentalRestriction, today: date) -> str:
    if r.lifted_on is not None and r.lifted_on <= today:
        return "lifted"
    if r.restricted_from > today:
        return "upcoming"
    if r.restricted_until is not None and r.restricted_until <= today:
        return "ended"
    return "in_force"


def _restriction_views(child: Citizen, today: date) -> list[RestrictionView]:
    return [
        RestrictionView(
            r.pk,
            r.parent.id_number,
            r.parent.full_name,
            FATHER if r.parent_id == child.father_id else MOTHER,
            r.decision,
            r.decided_on,
            r.court,
            r.restricted_from,
            r.restricted_until,
            r.lifted_on,
            r.lift_decision,
            r.lift_decided_on,
            r.lift_court,
            _state(r, today),
            r.recorded_by_label,
            r.organisation_name,
        )
        for r in ParentalRestriction.objects.filter(child=child)
        .select_related("parent")
        .order_by("-restricted_from", "-pk")
    ]


def child_record(ctx: AccessContext, child_id_number: str) -> ChildRecord:
    """The child's current and past guardianships and restrictions of a parent's rights, for the
    officer who records them (purposes ``civil_status.guardianship``, ``registry.administration``;
    a child of the officer's ward or commune). The reading is audited to the child and to every
    guardian and parent the answer names (they see it on their access history); a denial or a
    miss is audited too. The child's parents are named because the officer records restrictions
    of their rights. A citizen of 18 or over is refused (``adult``, audited) unless a guardianship
    or restriction is on their record; then only those rows are shown, the parents' fields empty.

    The officer of a commune that registered one of the child's guardianships (at the guardian's
    residence, Law on Civil Status 2014 Art. 19; it may end it, Art. 22 cl. 1) but is
    not the child's opens the record too, scope :data:`REGISTERED_HERE`: only the guardianships
    registered at that commune — no parents, no restrictions, no other guardianship — audited to
    the child and to those guardians. Anyone else: refused ``jurisdiction`` as before."""
    action = "registry.guardianship.read"
    _authorise_officer(ctx, CHILD_RECORD_PURPOSES, action)
    try:
        parse_id_number(child_id_number)
    except DomainValidationError as exc:
        raise DomainValidationError(
            [FieldProblem("child_id_number", p.rule, p.message) for p in exc.problems]
        ) from None
    found = _find_by_id_number(child_id_number, "father", "mother")
    here = _officers_ward(ctx)
    if (
        found is not None
        and here
        and not _in_jurisdiction(ctx, found)
        and Guardianship.objects.filter(ward=found, registered_ward_code=here).exists()
    ):
        child, scope = found, REGISTERED_HERE
    else:
        child, scope = _found_in_scope(ctx, found, action, "child_id_number"), WHOLE_RECORD
    whole = scope == WHOLE_RECORD
    shown = Guardianship.objects.filter(ward=child)
    if not whole:
        shown = shown.filter(registered_ward_code=here)
    today = timezone.localdate()
    adult = age_on(child.date_of_birth, today) >= FULL_AGE
    if adult and not (shown.exists() or (whole and ParentalRestriction.objects.filter(child=child).exists())):
        # An adult's record is not a child's record: no parents, no family (security review of
        # ADR 0017). Only an adult who was once a ward or whose parent's rights were restricted
        # has one, and then only those rows (below).
        _audit_outside_tx(ctx, action, child.pk, AuditEvent.Result.DENIED, {"reason": "adult"})
        raise AccessDenied(
            "this citizen is an adult and has no guardianship or restriction on record",
            field="child_id_number",
            rule="adult",
            subject_id=child.pk,
        )
    guardianships = [
        GuardianshipRow(
            g.pk,
            g.guardian.id_number,
            g.guardian.full_name,
            g.kind,
            g.record_number,
            g.started_on,
            g.ended_on,
            g.end_reason,
            g.reason,
            g.legal_basis,
            g.recorded_by_label,
            g.organisation_name,
            g.registered_ward_code,
        )
        for g in shown.select_related("guardian").order_by("-started_on", "-pk")
    ]
    restrictions = _restriction_views(child, today) if whole else []
    named = {g.guardian_id for g in shown.only("guardian_id")}
    if whole and adult:
        named |= set(ParentalRestriction.objects.filter(child=child).values_list("parent_id", flat=True))
    elif whole:
        named |= {pk for pk in (child.father_id, child.mother_id) if pk is not None}
    father = child.father if whole and not adult else None
    mother = child.mother if whole and not adult else None
    with transaction.atomic():
        audit.record(ctx, action, subject_citizen_id=child.pk, durable=False)
        for pk in sorted(named):
            audit.record(
                ctx, action, subject_citizen_id=pk, detail={"as": "named_on_child_record"}, durable=False
            )
    return ChildRecord(
        child.id_number,
        child.full_name,
        child.date_of_birth,
        age_on(child.date_of_birth, today),
        father.id_number if father else "",
        father.full_name if father else "",
        mother.id_number if mother else "",
        mother.full_name if mother else "",
        guardianships,
        restrictions,
        scope,
    )


def _restricted(child: Citizen, parent_id: int, on: date) -> bool:
    return (
        ParentalRestriction.objects.filter(child=child, parent_id=parent_id, restricted_from__lte=on)
        .filter(Q(restricted_until__isnull=True) | Q(restricted_until__gt=on))
        .filter(Q(lifted_on__isnull=True) | Q(lifted_on__gt=on))
        .exists()
    )


def parental_authority(
    ctx: AccessContext, child_id_number: str, person_id_number: str, *, on: date | None = None
) -> ParentalAuthority:
    """Whether ``person_id_number`` may act for the child on ``on`` (module docstring): the
    child's father or mother with no restriction in force, or the guardian in office; nothing
    once the child is 18. Audited to the child (a miss and a denial too)."""
    action = "registry.parental_authority"
    _authorise(ctx, AUTHORITY_PURPOSES, action)
    day = on or timezone.localdate()
    parse_id_number(child_id_number)
    child = _found_in_scope(
        ctx, _find_by_id_number(child_id_number, "father", "mother"), action, "child_id_number"
    )
    relationship, basis = "", ""
    if age_on(child.date_of_birth, day) < FULL_AGE:
        for parent, name in ((child.father, FATHER), (child.mother, MOTHER)):
            if (
                parent is not None
                and parent.id_number == person_id_number
                and not _restricted(child, parent.pk, day)
            ):
                relationship, basis = (
                    name,
                    "Bộ luật Dân sự 2015 Điều 136; Luật Hôn nhân và gia đình 2014 Điều 73",
                )
                break
        if not relationship:
            g = (
                Guardianship.objects.filter(
                    ward=child, guardian__id_number=person_id_number, started_on__lte=day
                )
                .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))
                .first()
            )
            if g is not None:
                relationship, basis = GUARDIAN, f"{g.legal_basis} — {g.record_number}"
    with transaction.atomic():
        audit.record(
            ctx, action, subject_citizen_id=child.pk, detail={"holds": bool(relationship)}, durable=False
        )
    return ParentalAuthority(
        child.id_number, child.pk, child.date_of_birth, person_id_number, relationship, basis
    )


def is_recorded_representative(
    ctx: AccessContext, child_id_number: str, person_id_numbers: Iterable[str]
) -> bool:
    """Whether any of the named persons is, or was, recorded as able to act for the child: the
    registry's father or mother (whether or not a court restricted their rights, Marriage and
    Family Law 2014 Art. 85–87) or a guardian at any time (Civil Code 2015 Art. 46–62). Used by
    the eID block to refuse a parent's or guardian's phone or e-mail on the holder's own account
    at 14 (ADR 0017). Answers about named persons only, never lists the child's family; audited
    to the child."""
    action = "registry.representative_check"
    _authorise(ctx, AUTHORITY_PURPOSES, action)
    names = {n for n in person_id_numbers if n}
    child = _found_in_scope(
        ctx, _find_by_id_number(child_id_number, "father", "mother"), action, "child_id_number"
    )
    found = bool(names) and (
        (child.father is not None and child.father.id_number in names)
        or (child.mother is not None and child.mother.id_number in names)
        or Guardianship.objects.filter(ward=child, guardian__id_number__in=names).exists()
    )
    with transaction.atomic():
        audit.record(ctx, action, subject_citizen_id=child.pk, detail={"holds": found}, durable=False)
    return found
