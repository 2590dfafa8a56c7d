"""Driving schools and test centres (model 17 of Project 06): enrol a learner with a verified
card, verify the learner again at each training session and at the test, and flag impersonation.

Every identification goes through ``identity.services.verify`` in ``data`` mode with purpose
``identity.verification`` (the organisation's kind ``driving_school`` receives name, date of
birth, sex and whether the chip's face passed passive authentication); the registry and audit
are the identity block's business. This module keeps the application's own records.

Impersonation rules (each a named finding with fixed vi/en messages shown to staff; severity
``block`` makes a check *flagged*, ``warning`` makes it a *warning*, ``info`` changes nothing):

* ``verification_failed`` (block): the verification decision is not ``match`` (no such person,
  deceased, card not valid, invalid evidence); the verification's own reasons follow as info.
* ``different_person`` (block): the card shown carries another ID number than the enrolled card.
* ``card_replaced`` (warning): same ID number, another card issue date — the card was replaced
  since enrolment; the face reference is of the earlier card, so it is not compared.
* ``face_mismatch`` (block): the chip's portrait is not the enrolled one — SHA-256 differs and
  the 256-bit dHash is more than ``faces.FACE_MATCH_THRESHOLD`` (10) bits away.
* ``face_not_compared`` (info): a face reference exists but this check read no chip portrait.
* ``double_enrolment`` (block, at enrolment): the person is enrolled at another school for the
  same licence class with overlapping course dates — the enrolment is refused. The rule holds
  under concurrency: enrolments of one card and class take a row lock (``EnrolmentGuard``)
  before looking, so of two schools enrolling the same card at the same moment the second is
  refused.
* ``already_enrolled`` (block, at enrolment): the same, at this school.

Access: staff of a ``driving_school`` organisation whose role may verify identities. A school
(``DrivingSite`` absent or role ``school``) enrols and checks its own learners at theory,
simulator and on-road sessions; a test centre looks an enrolment up by ID number across schools
(each lookup recorded with who looked and why) and checks the learner at the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from dancu.apps.driving.faces import FACE_MATCH_THRESHOLD, FaceReference, face_reference, same_portrait
from dancu.apps.driving.models import (
    LICENCE_CLASSES,
    DrivingSite,
    Enrolment,
    EnrolmentGuard,
    EnrolmentLookup,
    SessionCheck,
)
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.identity.chip import ChipData, parse_dg2, parse_dg13
from dancu.blocks.identity.mrz import MrzTD1, parse_mrz
from dancu.blocks.identity.qr import parse_card_qr
from dancu.blocks.identity.services import (
    ChipChallengeIssued,
    ChipEvidence,
    Evidence,
    MrzEvidence,
    QrEvidence,
    VerificationResult,
    issue_chip_challenge,
    verify,
)
from dancu.blocks.registry.idnumber import parse_id_number
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

VERIFY_PURPOSE = "identity.verification"
DRIVING_SCHOOL = "driving_school"
SCHOOL_KINDS = (SessionCheck.Kind.THEORY, SessionCheck.Kind.SIMULATOR, SessionCheck.Kind.ON_ROAD)
TEST_KINDS = (SessionCheck.Kind.TEST,)
BLOCK, WARNING, INFO = "block", "warning", "info"

# code -> (severity, Vietnamese, English). Fixed texts, never personal data.
RULES: dict[str, tuple[str, str, str]] = {
    "verification_failed": (
        BLOCK,
        "Xác thực danh tính không thành công: không khẳng định được người xuất trình là chủ thẻ",
        "Identity verification did not match: the card holder is not confirmed",
    ),
    "different_person": (
        BLOCK,
        "Thẻ xuất trình khác thẻ đã dùng khi nhập học (số định danh khác): nghi vấn học thay, thi hộ",
        "A different card than the one enrolled (another ID number): impersonation suspected",
    ),
    "card_replaced": (
        WARNING,
        "Thẻ đã được cấp đổi sau khi nhập học (cùng số định danh, ngày cấp khác): "
        "đối chiếu khuôn mặt trực tiếp",
        "Card replaced since enrolment (same ID number, another issue date): compare the face in person",
    ),
    "face_mismatch": (
        BLOCK,
        "Ảnh khuôn mặt trong chip không khớp với ảnh đã ghi nhận khi nhập học",
        "The face image in the chip does not match the face enrolled",
    ),
    "face_not_compared": (
        INFO,
        "Chưa đối chiếu khuôn mặt: lần kiểm tra này không đọc ảnh từ chip",
        "Face not compared: no chip face image was read at this check",
    ),
    "double_enrolment": (
        BLOCK,
        "Người học đang theo học cùng hạng giấy phép tại một cơ sở đào tạo khác trong thời gian trùng",
        "Already enrolled at another school for the same licence class with overlapping course dates",
    ),
    "already_enrolled": (
        BLOCK,
        "Người học đã được ghi danh tại cơ sở này cho hạng giấy phép này trong thời gian trùng",
        "Already enrolled at this school for this licence class with overlapping course dates",
    ),
}


# --------------------------------------------------------------------------- DTOs
@dataclass(frozen=True)
class Finding:
    """One finding of a check or an enrolment: a stable code, its severity and fixed messages."""

    code: str
    severity: str
    message_vi: str
    message_en: str
    field: str = ""
    detail: str = ""


def finding(code: str, *, field: str = "", detail: str = "") -> Finding:
    severity, vi, en = RULES[code]
    return Finding(code, severity, vi, en, field, detail)


@dataclass(frozen=True)
class EnrolmentView:
    enrolment_id: int
    school_name: str
    licence_class: str
    course_start: date
    course_end: date
    id_number: str
    card_issued_on: date | None
    full_name: str
    date_of_birth: str  # dd/mm/yyyy, mm/yyyy or yyyy, as precise as the registry knows
    sex: str
    evidence_kind: str
    receipt_id: str
    has_face_reference: bool
    enrolled_by: str
    enrolled_at: datetime


@dataclass(frozen=True)
class EnrolResult:
    """The enrolment made, or None with the findings that refused it."""

    enrolment: EnrolmentView | None
    decision: str
    receipt_id: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class CheckView:
    check_id: int
    enrolment_id: int
    learner_name: str
    licence_class: str
    kind: str
    instructor: str
    checked_at: datetime
    organisation_name: str
    actor_label: str
    evidence_kind: str
    receipt_id: str
    decision: str
    outcome: str
    findings: tuple[Finding, ...]
    face_distance: int | None

    @property
    def flagged(self) -> bool:
        return self.outcome == SessionCheck.Outcome.FLAGGED


@dataclass(frozen=True)
class LookupView:
    organisation_name: str
    actor_label: str
    purpose: str
    looked_up_at: datetime


@dataclass(frozen=True)
class History:
    enrolment: EnrolmentView
    checks: tuple[CheckView, ...]
    lookups: tuple[LookupView, ...]


# --------------------------------------------------------------------------- access
def site_role(organisation_id: int | None) -> str:
    """``school`` (the default) or ``test_centre`` for a driving_school organisation."""
    if organisation_id is None:
        return DrivingSite.Role.SCHOOL
    site = DrivingSite.objects.filter(organisation_id=organisation_id).first()
    return site.role if site is not None else DrivingSite.Role.SCHOOL


def designate_site(organisation_id: int, role: str) -> None:
    """Record whether a driving_school organisation is a school or a test centre (administration)."""
    if role not in DrivingSite.Role.values:
        raise DomainValidationError.single("role", "choice", "must be school or test_centre")
    DrivingSite.objects.update_or_create(organisation_id=organisation_id, defaults={"role": role})


def may_use(actor: Actor) -> bool:
    """Staff of a driving_school organisation whose role may verify identities."""
    return actor.organisation_kind == DRIVING_SCHOOL and actor.may(VERIFY_PURPOSE)


def _require(actor: Actor, role: str | None = None) -> int:
    """The actor's organisation id, if its staff may use this service (and it has ``role``)."""
    if not may_use(actor) or actor.organisation_id is None:
        raise AccessDenied(
            "only staff of a driving school or test centre may use this service",
            field="organisation",
            rule="driving_school_only",
        )
    if role is not None and site_role(actor.organisation_id) != role:
        what = "a driving school" if role == DrivingSite.Role.SCHOOL else "a test centre"
        raise AccessDenied(f"only {what} may do this", field="organisation", rule=f"{role}_only")
    return actor.organisation_id


def _ctx(actor: Actor, case_reference: str = "") -> AccessContext:
    return AccessContext(actor=actor, purpose=VERIFY_PURPOSE, case_reference=case_reference)


def chip_challenge(actor: Actor) -> ChipChallengeIssued:
    """A one-time Active Authentication challenge for the next chip read on this page (ICAO 9303
    part 11 §6.1; ADR 0017 §16): a card whose chip offers AA must answer it, a clone cannot."""
    _require(actor)
    return issue_chip_challenge(_ctx(actor))


# --------------------------------------------------------------------------- evidence
@dataclass(frozen=True)
class _CardSeen:
    """The card shown, as its (verified) evidence says: number, issue date, chip portrait."""

    id_number: str
    issued_on: date | None
    face: FaceReference | None


def _card_seen(evidence: Evidence, result: VerificationResult, day: date) -> _CardSeen:
    """Read the card's identity from evidence the verification has just accepted (a match), so
    parsing succeeds; the chip's portrait only when passive authentication covered it."""
    if isinstance(evidence, QrEvidence):
        card = parse_card_qr(evidence.text, reference=day)
        return _CardSeen(card.id_number, card.issue_date, None)
    if isinstance(evidence, ChipEvidence):
        chip = ChipData.from_dict(evidence.files)
        dg13 = parse_dg13(chip.dg13 or b"")
        face = None
        if chip.dg2 is not None and (result.data or {}).get("face_available") is True:
            face = face_reference(parse_dg2(chip.dg2).image)
        return _CardSeen(dg13.id_number, dg13.issue_date, face)
    if isinstance(evidence, MrzEvidence):
        parsed = parse_mrz(evidence.text, reference=day)
        id_number = parsed.id_number if isinstance(parsed, MrzTD1) else ""
        return _CardSeen(id_number, None, None)
    return _CardSeen(evidence.id_number, evidence.card_issued_on, None)


def _verification_findings(result: VerificationResult) -> list[Finding]:
    out = [finding("verification_failed", field="decision", detail=result.decision)]
    out += [Finding(r.code, INFO, r.message_vi, r.message_en, r.field, r.detail) for r in result.reasons]
    return out


# --------------------------------------------------------------------------- enrolment
def enrol(
    actor: Actor,
    evidence: Evidence,
    *,
    licence_class: str,
    course_start: date,
    course_end: date,
    at: datetime | None = None,
) -> EnrolResult:
    """Enrol the learner whose card is ``evidence`` at the actor's school.

    The card is verified (``data`` mode); on a match the enrolment keeps the card's ID number and
    issue date, the released name, date of birth and sex, the receipt, and for a chip the face
    reference (``faces.py``; never the photo). Refused — nothing stored but the verification
    receipt — when the verification does not match, or an enrolment for the same licence class
    with overlapping course dates exists (``double_enrolment`` at another school,
    ``already_enrolled`` here). Raises ``AccessDenied`` for anyone but school staff and
    ``DomainValidationError`` for a bad class or dates.
    """
    org = _require(actor, DrivingSite.Role.SCHOOL)
    problems = []
    if licence_class not in LICENCE_CLASSES:
        problems.append(FieldProblem("licence_class", "choice", "unknown licence class"))
    if course_end < course_start:
        problems.append(FieldProblem("course_end", "after_start", "the course must end after it starts"))
    if problems:
        raise DomainValidationError(problems)
    moment = at or timezone.now()
    result = verify(_ctx(actor, "driving:enrolment"), evidence, mode="data", at=moment)
    if not result.matches:
        return EnrolResult(None, result.decision, result.receipt_id, tuple(_verification_findings(result)))
    seen = _card_seen(evidence, result, timezone.localdate(moment))
    data = result.data or {}
    with transaction.atomic():
        _lock_card_and_class(seen.id_number, licence_class)
        overlapping = _overlapping(seen.id_number, licence_class, course_start, course_end)
        if overlapping:
            code = "already_enrolled" if org in overlapping else "double_enrolment"
            refused = finding(code, field="licence_class", detail=licence_class)
            return EnrolResult(None, result.decision, result.receipt_id, (refused,))
        enrolment = Enrolment.objects.create(
            school_organisation_id=org,
            school_name=actor.organisation_name,
            licence_class=licence_class,
            course_start=course_start,
            course_end=course_end,
            id_number=seen.id_number,
            card_issued_on=seen.issued_on,
            full_name=str(data.get("full_name") or ""),
            date_of_birth=str(data.get("date_of_birth") or ""),
            sex=str(data.get("sex") or ""),
            evidence_kind=result.evidence_kind,
            receipt_id=result.receipt_id,
            face_sha256=seen.face.sha256 if seen.face else "",
            face_dhash=seen.face.dhash if seen.face else "",
            enrolled_by_user_id=actor.user_id,
            enrolled_by=actor.label,
            enrolled_at=moment,
        )
    return EnrolResult(_enrolment_view(enrolment), result.decision, result.receipt_id, ())


def _overlapping(id_number: str, licence_class: str, start: date, end: date) -> list[int]:
    """The schools (organisation ids) where this card is enrolled for ``licence_class`` with a
    course overlapping ``start``–``end``. Call it holding :func:`_lock_card_and_class`."""
    return list(
        Enrolment.objects.filter(
            id_number=id_number, licence_class=licence_class, course_start__lte=end, course_end__gte=start
        ).values_list("school_organisation_id", flat=True)
    )


def _lock_card_and_class(id_number: str, licence_class: str) -> None:
    """Lock the ``EnrolmentGuard`` row of this card and licence class for the rest of the
    transaction, creating it on first use. Every enrolment of the same card and class takes this
    lock before it looks for overlapping enrolments, so concurrent enrolments run one after the
    other and the later one sees the earlier one's row (``select_for_update`` alone could not
    lock enrolments that do not exist yet). Of two concurrent first uses, the unique constraint
    makes one insert wait for the other and fail; it then locks the row the other committed.
    On SQLite a write transaction already holds the whole database, and ``FOR UPDATE`` is a no-op."""
    guards = EnrolmentGuard.objects.select_for_update()
    if list(guards.filter(id_number=id_number, licence_class=licence_class).values_list("pk", flat=True)):
        return
    try:
        with transaction.atomic():
            EnrolmentGuard.objects.create(id_number=id_number, licence_class=licence_class)
    except IntegrityError:  # another enrolment created it meanwhile (and has committed): lock it
        guards.get(id_number=id_number, licence_class=licence_class)


def enrolments_of_school(actor: Actor, *, limit: int = 100) -> list[EnrolmentView]:
    """The school's enrolments, newest first (a test centre has none of its own)."""
    org = _require(actor)
    rows = Enrolment.objects.filter(school_organisation_id=org)[:limit]
    return [_enrolment_view(e) for e in rows]


def find_for_test(actor: Actor, id_number: str, licence_class: str, *, at: datetime | None = None) -> int:
    """A test centre looks up, across schools, the enrolment of the learner with ``id_number``
    for ``licence_class`` (the latest); the lookup is recorded (who, organisation, purpose, when).
    Returns the enrolment id; ``NotFound`` when there is none, ``AccessDenied`` for non-centres."""
    org = _require(actor, DrivingSite.Role.TEST_CENTRE)
    parse_id_number(id_number)  # DomainValidationError naming the rule
    if licence_class not in LICENCE_CLASSES:
        raise DomainValidationError.single("licence_class", "choice", "unknown licence class")
    enrolment = Enrolment.objects.filter(id_number=id_number, licence_class=licence_class).first()
    if enrolment is None:
        raise NotFound("no enrolment for this ID number and licence class", field="id_number")
    EnrolmentLookup.objects.create(
        enrolment=enrolment,
        organisation_id=org,
        organisation_name=actor.organisation_name,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        purpose=VERIFY_PURPOSE,
        looked_up_at=at or timezone.now(),
    )
    return enrolment.pk


def _enrolment_for(actor: Actor, enrolment_id: int) -> tuple[Enrolment, str, int]:
    """The enrolment if the actor's organisation may see it (its school, or a test centre that
    looked it up), with the organisation's site role; otherwise ``NotFound`` (no existence leak)."""
    org = _require(actor)
    role = site_role(org)
    enrolment = Enrolment.objects.filter(pk=enrolment_id).first()
    if enrolment is not None:
        if role == DrivingSite.Role.SCHOOL and enrolment.school_organisation_id == org:
            return enrolment, role, org
        if (
            role == DrivingSite.Role.TEST_CENTRE
            and EnrolmentLookup.objects.filter(enrolment=enrolment, organisation_id=org).exists()
        ):
            return enrolment, role, org
    raise NotFound("no such enrolment for your organisation", field="enrolment")


def enrolment(actor: Actor, enrolment_id: int) -> EnrolmentView:
    return _enrolment_view(_enrolment_for(actor, enrolment_id)[0])


# --------------------------------------------------------------------------- checks
def check_session(
    actor: Actor,
    enrolment_id: int,
    evidence: Evidence,
    *,
    kind: str,
    instructor: str = "",
    at: datetime | None = None,
) -> CheckView:
    """Verify the learner at a session (school: theory, simulator, on-road) or at the test (test
    centre) and store the ``SessionCheck`` with its outcome and findings (module docstring)."""
    record, role, org = _enrolment_for(actor, enrolment_id)
    allowed = TEST_KINDS if role == DrivingSite.Role.TEST_CENTRE else SCHOOL_KINDS
    if kind not in allowed:
        raise DomainValidationError.single(
            "kind", "choice", "must be one of: " + ", ".join(str(k) for k in allowed)
        )
    instructor = instructor.strip()
    if len(instructor) > 100 or not all(ch.isprintable() for ch in instructor):
        raise DomainValidationError.single("instructor", "text", "at most 100 printable characters")
    moment = at or timezone.now()
    result = verify(_ctx(actor, f"driving:enrolment:{record.pk}"), evidence, mode="data", at=moment)
    findings, distance = _compare(record, evidence, result, timezone.localdate(moment))
    severities = {f.severity for f in findings}
    outcome = (
        SessionCheck.Outcome.FLAGGED
        if BLOCK in severities
        else SessionCheck.Outcome.WARNING
        if WARNING in severities
        else SessionCheck.Outcome.PASSED
    )
    check = SessionCheck.objects.create(
        enrolment=record,
        kind=kind,
        instructor=instructor,
        checked_at=moment,
        organisation_id=org,
        organisation_name=actor.organisation_name,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        evidence_kind=result.evidence_kind,
        receipt_id=result.receipt_id,
        decision=result.decision,
        outcome=outcome,
        findings=[_finding_json(f) for f in findings],
        face_distance=distance,
    )
    return _check_view(check, record)


def _compare(
    record: Enrolment, evidence: Evidence, result: VerificationResult, day: date
) -> tuple[list[Finding], int | None]:
    """The impersonation rules, in order; returns the findings and the face distance if compared."""
    if not result.matches:
        return _verification_findings(result), None
    seen = _card_seen(evidence, result, day)
    findings: list[Finding] = []
    replaced = False
    if seen.id_number != record.id_number:
        findings.append(finding("different_person", field="id_number"))
    elif seen.issued_on and record.card_issued_on and seen.issued_on != record.card_issued_on:
        replaced = True
        findings.append(
            finding(
                "card_replaced",
                field="card_issued_on",
                detail=f"{record.card_issued_on:%d/%m/%Y} → {seen.issued_on:%d/%m/%Y}",
            )
        )
    distance = None
    if record.face_dhash and not replaced:
        if seen.face is None:
            findings.append(finding("face_not_compared", field="face"))
        else:
            same, distance = same_portrait(FaceReference(record.face_sha256, record.face_dhash), seen.face)
            if not same:
                findings.append(
                    finding("face_mismatch", field="face", detail=f"{distance}/256 > {FACE_MATCH_THRESHOLD}")
                )
    return findings, distance


def history(actor: Actor, enrolment_id: int) -> History:
    """The enrolment, every check (newest first) and every test-centre lookup of it."""
    record, _, _ = _enrolment_for(actor, enrolment_id)
    checks = tuple(_check_view(c, record) for c in record.checks.all())
    lookups = tuple(
        LookupView(x.organisation_name, x.actor_label, x.purpose, x.looked_up_at)
        for x in record.lookups.all()
    )
    return History(_enrolment_view(record), checks, lookups)


def flagged_checks(actor: Actor, *, limit: int = 200) -> list[CheckView]:
    """Checks flagged or warned: of the school's learners, or (test centre) made by the centre."""
    org = _require(actor)
    rows = SessionCheck.objects.select_related("enrolment").exclude(outcome=SessionCheck.Outcome.PASSED)
    if site_role(org) == DrivingSite.Role.TEST_CENTRE:
        rows = rows.filter(organisation_id=org)
    else:
        rows = rows.filter(enrolment__school_organisation_id=org)
    return [_check_view(c, c.enrolment) for c in rows[:limit]]


# --------------------------------------------------------------------------- conversions
def _finding_json(f: Finding) -> dict[str, str]:
    return {
        "code": f.code,
        "severity": f.severity,
        "message_vi": f.message_vi,
        "message_en": f.message_en,
        "field": f.field,
        "detail": f.detail,
    }


def _display_date(iso: str) -> str:
    """``1985-03-02`` → ``02/03/1985``; ``1985-03`` → ``03/1985``; ``1985`` stays."""
    return "/".join(reversed(iso.split("-"))) if iso else ""


def _enrolment_view(e: Enrolment) -> EnrolmentView:
    return EnrolmentView(
        enrolment_id=e.pk,
        school_name=e.school_name,
        licence_class=e.licence_class,
        course_start=e.course_start,
        course_end=e.course_end,
        id_number=e.id_number,
        card_issued_on=e.card_issued_on,
        full_name=e.full_name,
        date_of_birth=_display_date(e.date_of_birth),
        sex=e.sex,
        evidence_kind=e.evidence_kind,
        receipt_id=e.receipt_id,
        has_face_reference=bool(e.face_dhash),
        enrolled_by=e.enrolled_by,
        enrolled_at=e.enrolled_at,
    )


def _check_view(c: SessionCheck, e: Enrolment) -> CheckView:
    return CheckView(
        check_id=c.pk,
        enrolment_id=e.pk,
        learner_name=e.full_name,
        licence_class=e.licence_class,
        kind=c.kind,
        instructor=c.instructor,
        checked_at=c.checked_at,
        organisation_name=c.organisation_name,
        actor_label=c.actor_label,
        evidence_kind=c.evidence_kind,
        receipt_id=c.receipt_id,
        decision=c.decision,
        outcome=c.outcome,
        findings=tuple(Finding(**f) for f in c.findings),
        face_distance=c.face_distance,
    )
