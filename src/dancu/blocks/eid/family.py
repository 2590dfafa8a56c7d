"""Children's accounts, registered and managed by a parent or a guardian until the child is 14
(Decree 69/2024/NĐ-CP; domain-vn §4; ADR 0017).

Rules:

* **Who may have one** (domain-vn §4; Decree 69/2024 Art. 7 as reported by secondary sources,
  ADR 0017): a Vietnamese citizen under 6 may hold level 1 only; from 6 to under 14, level 1 and —
  on request, in person — level 2; from 14 the holder's own account, levels 1 and 2.
* **Who registers and manages it**: a person with their own active level-2 account whom the
  population registry records as able to act for the child on the day
  (``registry.guardianship.parental_authority``, purpose ``eid.registration``): the father or the
  mother with no court restriction of their rights in force (Marriage and Family Law 2014 Art.
  85–87), or the guardian in office (giám hộ, Civil Code 2015 Art. 46–62, registered with the
  civil-status authority). Anyone else — no link, a restricted parent, an ended guardianship — gets
  the same refusal as wrong data (no oracle on who is whose parent or guardian).
* **Checks**: the child's data — ID number, name, date of birth and the issue date of the child's
  card — match the registry with a valid card; then the registry's authority. With every check
  passed the account is active at level 1 at once (automated rule: registry match + registry
  authority + the manager's level 2 — recorded as such).
* **Managed**: the child's account has no password and no phone of its own; the manager sees it on
  their page, presents it with a signed, short-lived QR (:func:`presentation_token`, checked by
  :func:`verify_presentation`) and reads the child's data-access history
  (:func:`child_access_history`). Each use re-checks the registry: a manager who lost the
  authority loses the management (:func:`end_management`), and a person who gained it (a newly
  appointed guardian) takes the account over by registering the child again.
* **Hand-over at 14** (domain-vn §4: from 14 the holder has levels 1 and 2 themselves): on the
  14th birthday the management ends — on access, or by the daily command ``eid_hand_over``
  (:func:`hand_over_due`); the manager's period is closed with what they did (presentations,
  history reads) and the holder claims the account (:func:`claim_own_account`): their own card's
  data matched against the registry, their own phone, a password, a face photo — the same data
  domain-vn §4 lists for level 1. Those data are known to a parent too, so the claim is approved
  only in person, by the level-2 activation with the holder's card, where the desk sets the
  holder's own phone and the claim's password is cleared (``services.activate_level2``); the
  phones and e-mails of the child's parents and guardians are refused (ADR 0017, amendment). An
  account whose management ended before 14 is handed over on the 14th birthday all the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.audit.services import AccessRecord
from dancu.blocks.eid import factors
from dancu.blocks.eid.models import Account, GuardianPeriod, PresentationUse, Registration
from dancu.blocks.eid.services import (
    ACTIVATION,
    REGISTRATION,
    SELF_ACCESS,
    SELF_SERVICE,
    RegistrationReceipt,
    _face,
    _notify,
    _representatives_contact,
    _thumbnail,
    age_on,
    applicant_checks,
    identity_problems,
    max_level_for_age,
    record_account_event,
)
from dancu.blocks.registry import guardianship
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.matching import MATCH, CardClaim, IdentityClaim
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

# From this age the holder has their own account (domain-vn §4; Decree 69/2024 Art. 7 cl. 1).
OWN_ACCOUNT_AGE = 14
FACE_AGE = 6
PRESENTATION_SECONDS = 300
_SALT = "dancu.eid.child-presentation"
_NOT_YOURS = (
    "the population registry does not record you as a parent or guardian who may act for a child "
    "with these data (check the ID number, name, date of birth and card issue date)"
)
# Why a management period ended (GuardianPeriod.end_reason).
AGE_14, AUTHORITY_ENDED, TAKEN_OVER = "age_14", "authority_ended", "taken_over"


@dataclass(frozen=True)
class ChildInput:
    """What the parent or guardian declares about the child (as on the child's card); the face
    photo is required from 6."""

    id_number: str
    full_name: str
    date_of_birth: date
    card_issued_on: date
    photo: bytes = b""


@dataclass(frozen=True)
class ChildView:
    account_id: int
    id_number: str
    relationship: str
    level: int
    max_level: int
    registered_at: datetime
    managed_until: date | None = None


def _guardian_actor(parent_user_id: int) -> Actor:
    """The parent or guardian acting for the child: the registry is read by the eID system on
    their behalf (no jurisdiction: they are not officials), for purpose ``eid.registration`` only,
    and every read is audited to the child with their user id."""
    return Actor(
        user_id=parent_user_id,
        label=(
            "Cha/mẹ hoặc người giám hộ đăng ký định danh điện tử cho con / "
            "a parent or guardian acting for a child"
        ),
        allowed_purposes=frozenset({REGISTRATION}),
        is_system=True,
    )


def _representative_actor(parent_user_id: int) -> Actor:
    """The parent or guardian reading the child's data-access history for the child (the data
    subject's right to know, exercised by the legal representative; Law 91/2025/QH15, children's
    data with their representative — domain-vn §8)."""
    return Actor(
        user_id=parent_user_id,
        label="Cha/mẹ hoặc người giám hộ xem thay con / a parent or guardian on the child's behalf",
        allowed_purposes=frozenset({SELF_ACCESS}),
    )


def _parent(parent_user_id: int) -> Account:
    parent = Account.objects.filter(user_id=parent_user_id).first()
    if (
        parent is None
        or parent.status != Account.Status.ACTIVE
        or parent.level < 2
        or parent.citizen_id is None
        or parent.guardian_id is not None
    ):
        raise DomainValidationError.single(
            "account",
            "level2_required",
            "a parent or guardian registers a child's account with their own active level-2 account",
        )
    return parent


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return date(born.year + years, 3, 1)


def _authority(manager: Account, child_id_number: str, on: date) -> str:
    """father / mother / guardian, or "" — read from the registry, audited to the child."""
    return guardianship.parental_authority(
        AccessContext(_guardian_actor(manager.user_id), REGISTRATION),
        child_id_number,
        manager.id_number,
        on=on,
    ).relationship


def _count(child: Account, manager: Account, action: str, since: datetime) -> int:
    if child.citizen_id is None:
        return 0
    return AuditEvent.objects.filter(
        subject_citizen_id=child.citizen_id,
        actor_user_id=manager.user_id,
        action=action,
        result=AuditEvent.Result.OK,
        occurred_at__gte=since,
    ).count()


def end_management(child: Account, reason: str, *, at: datetime | None = None) -> None:
    """End the current manager's management of a child's account (at 14, or when the registry
    no longer records them as able to act for the child): the period is closed with the number of
    presentations and history reads they made, both are audited to the child and the manager is
    told. At 14 the account is marked handed over (the holder claims it)."""
    moment = at or timezone.now()
    with transaction.atomic():
        locked = Account.objects.select_for_update().filter(pk=child.pk).first()
        if locked is None or locked.guardian_id is None:
            return
        manager = Account.objects.get(pk=locked.guardian_id)
        period = (
            GuardianPeriod.objects.select_for_update()
            .filter(account=locked, manager=manager, ended_at__isnull=True)
            .first()
        )
        if period is None:  # accounts registered before periods were kept
            period = GuardianPeriod.objects.create(
                account=locked,
                manager=manager,
                relationship=locked.guardian_relationship,
                started_at=locked.created_at,
            )
        period.ended_at = moment
        period.end_reason = reason
        period.presentations = _count(locked, manager, "eid.child.present", period.started_at)
        period.history_views = _count(locked, manager, "citizen.access_log.representative", period.started_at)
        period.save()
        locked.guardian = None
        locked.guardian_relationship = ""
        fields = ["guardian", "guardian_relationship"]
        if reason == AGE_14:
            locked.handed_over_at = moment
            fields.append("handed_over_at")
        locked.save(update_fields=fields)
        audit.record(
            AccessContext(Actor.system("eid-child-management"), REGISTRATION),
            "eid.child.management_end",
            subject_citizen_id=locked.citizen_id,
            detail={
                "reason": reason,
                "relationship": period.relationship,
                "presentations": period.presentations,
                "history_views": period.history_views,
            },
        )
    record_account_event(manager.user_id, "eid.child.management_end", detail={"reason": reason})
    _notify(
        manager,
        "eid.child.management_end",
        "dancu: ban khong con quan ly tai khoan dinh danh cua con. / "
        "You no longer manage your child's eID account.",
    )
    child.refresh_from_db()


def _due(child: Account, on: date) -> bool:
    return child.managed_until is not None and child.managed_until <= on


def _fill_managed_until(today: date) -> None:
    """Managed accounts registered before ``managed_until`` existed (eid/0006; the data migration
    eid/0008 fills those whose holder the registry knows): the 14th birthday from the registry's
    date of birth, read for the manager (purpose ``eid.registration``, audited to the child)."""
    rows = Account.objects.filter(guardian__isnull=False, managed_until__isnull=True).select_related(
        "guardian"
    )
    for child in rows.order_by("pk"):
        assert child.guardian is not None
        try:
            born = guardianship.parental_authority(
                AccessContext(Actor.system("eid-child-management"), REGISTRATION),
                child.id_number,
                child.guardian.id_number,
                on=today,
            ).child_date_of_birth
        except NotFound:
            continue
        Account.objects.filter(pk=child.pk).update(managed_until=_birthday(born, OWN_ACCOUNT_AGE))


def hand_over_due(*, on: date | None = None) -> int:
    """The daily hand-over (command ``eid_hand_over``): every managed account whose holder is 14
    on ``on`` leaves its manager; an account whose management ended before 14 (a restricted
    parent, an ended guardianship) is marked handed over on the 14th birthday all the same, so
    that its holder may claim it (ADR 0017, amendment). Returns how many were handed over."""
    today = on or timezone.localdate()
    _fill_managed_until(today)
    due = Account.objects.filter(guardian__isnull=False, managed_until__lte=today).order_by("pk")
    count = 0
    for child in due:
        end_management(child, AGE_14)
        count += 1
    unmanaged = Account.objects.filter(
        guardian__isnull=True, managed_until__lte=today, handed_over_at__isnull=True
    ).order_by("pk")
    for child in unmanaged:
        _mark_handed_over(child, timezone.now())
        count += 1
    return count


def _mark_handed_over(child: Account, moment: datetime) -> None:
    """The account of a holder 14 or over, managed by nobody now: handed over (audited)."""
    with transaction.atomic():
        if Account.objects.filter(pk=child.pk, handed_over_at__isnull=True).update(handed_over_at=moment):
            audit.record(
                AccessContext(Actor.system("eid-child-management"), REGISTRATION),
                "eid.child.hand_over",
                subject_citizen_id=child.citizen_id,
                detail={"reason": "age_14_unmanaged"},
            )
    child.refresh_from_db()


def register_child(parent_user_id: int, data: ChildInput, *, on: date | None = None) -> ChildView:
    """A parent or guardian registers a level-1 account for a child under 14 (module docstring),
    or takes over the child's account when its previous manager no longer may act for the child.
    Errors name the field and the rule; nothing is written unless every check passes."""
    today = on or timezone.localdate()
    parent = _parent(parent_user_id)
    problems = identity_problems(data.id_number, data.full_name)
    if data.date_of_birth > today:
        problems.append(FieldProblem("date_of_birth", "past", "the date of birth is in the future"))
    elif age_on(data.date_of_birth, today) >= OWN_ACCOUNT_AGE:
        problems.append(
            FieldProblem(
                "date_of_birth",
                "eligibility_age",
                "from 14 the holder registers their own account (Decree 69/2024/NĐ-CP Art. 7)",
            )
        )
    if data.card_issued_on > today:
        problems.append(FieldProblem("card_issued_on", "past", "the card's issue date is in the future"))
    # The face is captured from 6 (the draft Decree's procedure, and the card of a child under 6
    # carries no portrait; ADR 0017): under 6 the photo is optional.
    face = ("", "")
    if data.photo or age_on(min(data.date_of_birth, today), today) >= FACE_AGE:
        try:
            face = _face(data.photo, "photo")
        except DomainValidationError as exc:
            problems += exc.problems
    if problems:
        raise DomainValidationError(problems)
    ctx = AccessContext(_guardian_actor(parent_user_id), REGISTRATION)
    receipt = str(uuid.uuid4())
    match = registry.match_identity(
        ctx,
        IdentityClaim(
            id_number=data.id_number,
            full_name=data.full_name.strip(),
            date_of_birth=data.date_of_birth,
            card=CardClaim(issued_on=data.card_issued_on),
        ),
        evidence_kind="eid_guardian_registration",
        mode="data",
        release=frozenset({"date_of_birth", "permanent_ward_code"}),
        receipt_id=receipt,
        on=today,
    )
    # The registry's authority is read whether or not the data matched, and its answer used only
    # on a match: the same work on every path, no timing or audit-count oracle telling that the
    # typed data are a child's true data (ADR 0017, amendment).
    try:
        authority = _authority(parent, data.id_number, today)
    except NotFound:  # no citizen with this number: the same lookup was made
        authority = ""
    relationship = authority if match.decision == MATCH and match.citizen_id is not None else ""
    if not relationship:
        audit.record(
            ctx,
            "eid.registration.guardian",
            subject_citizen_id=match.citizen_id if match.decision == MATCH else None,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "no_authority_or_no_match", "receipt": receipt},
        )
        raise DomainValidationError.single("id_number", "not_your_child", _NOT_YOURS)
    born_value = match.released.get("date_of_birth")
    born = born_value if isinstance(born_value, date) else data.date_of_birth
    age = age_on(born, today)
    if age >= OWN_ACCOUNT_AGE:  # the registry's date of birth decides
        raise DomainValidationError.single(
            "date_of_birth", "eligibility_age", "from 14 the holder registers their own account"
        )
    existing = Account.objects.filter(id_number=data.id_number).first()
    if existing is not None:
        return _take_over(parent, existing, relationship, today, receipt)
    now = timezone.now()
    try:
        with transaction.atomic():
            user = get_user_model().objects.create(username=data.id_number, password=make_password(None))
            child = Account.objects.create(
                user=user,
                id_number=data.id_number,
                citizen_id=match.citizen_id,
                ward_code=str(match.released.get("permanent_ward_code") or ""),
                level=1,
                max_level=max_level_for_age(age),
                status=Account.Status.ACTIVE,
                phone="",
                guardian=parent,
                guardian_relationship=relationship,
                managed_until=_birthday(born, OWN_ACCOUNT_AGE),
            )
            GuardianPeriod.objects.create(
                account=child, manager=parent, relationship=relationship, started_at=now
            )
            registration = Registration.objects.create(
                account=child,
                ward_code=child.ward_code,
                status=Registration.Status.APPROVED,
                match_decision=match.decision,
                exact_match=True,
                face_sha256=face[0],
                face_dhash=face[1],
                auto_approved=True,
                decided_at=now,
                decided_by_user_id=None,
                decided_by_label="automated rule: registry match, registry parent or guardian, their level 2",
                decision_reason=f"registered by the {relationship}",
            )
            audit.record(
                ctx,
                "eid.registration.guardian",
                subject_citizen_id=match.citizen_id,
                detail={"registration": registration.pk, "relationship": relationship, "receipt": receipt},
            )
    except IntegrityError:  # the same child registered concurrently (by the other parent)
        raise Conflict("this child already has an eID account", field="id_number") from None
    record_account_event(parent_user_id, "eid.child.registered", detail={"relationship": relationship})
    _notify(
        parent,
        "eid.child.registered",
        "dancu: tai khoan dinh danh muc 1 cua con ban da duoc cap. / Your child's level-1 account is ready.",
    )
    return _view(child, today)


def _take_over(parent: Account, child: Account, relationship: str, today: date, receipt: str) -> ChildView:
    """The child already has an account. The registry has just recorded ``parent`` as able to act
    for the child; they take the account over when nobody manages it (the previous manager's
    authority ended) or when its manager no longer holds the authority. A manager who still holds
    it (the other parent) keeps it: a conflict. An account of the holder's own is never taken."""
    if child.guardian_id == parent.pk:
        raise Conflict("you manage this child's account already", field="id_number")
    if child.handed_over_at is not None or child.managed_until is None or child.user.has_usable_password():
        raise Conflict("this child already has an eID account", field="id_number")
    if child.guardian_id is not None:
        current = Account.objects.get(pk=child.guardian_id)
        if _authority(current, child.id_number, today):
            raise Conflict(
                "this child's account is managed by the other parent or guardian", field="id_number"
            )
        end_management(child, TAKEN_OVER)
    with transaction.atomic():
        Account.objects.filter(pk=child.pk, guardian__isnull=True).update(
            guardian=parent, guardian_relationship=relationship
        )
        GuardianPeriod.objects.create(account=child, manager=parent, relationship=relationship)
        audit.record(
            AccessContext(_guardian_actor(parent.user_id), REGISTRATION),
            "eid.child.take_over",
            subject_citizen_id=child.citizen_id,
            detail={"relationship": relationship, "receipt": receipt},
        )
    record_account_event(parent.user_id, "eid.child.take_over", detail={"relationship": relationship})
    child.refresh_from_db()
    return _view(child, today)


def _view(c: Account, today: date) -> ChildView:
    """The manager's view of a child's account; the highest level follows the child's age today
    (domain-vn §4: under 6 level 1 only, from 6 level 2 on request), not the age at registration."""
    max_level = c.max_level
    if c.managed_until is not None:
        max_level = max_level_for_age(age_on(_birthday(c.managed_until, -OWN_ACCOUNT_AGE), today))
    return ChildView(
        c.pk, c.id_number, c.guardian_relationship, c.level, max_level, c.created_at, c.managed_until
    )


def children_of(parent_user_id: int, *, on: date | None = None) -> list[ChildView]:
    """The accounts the parent or guardian manages, oldest first. On access, a child who has
    turned 14 is handed over, and an account whose manager the registry no longer records as able
    to act for the child leaves them (``end_management``); neither is listed."""
    today = on or timezone.localdate()
    out = []
    for c in (
        Account.objects.filter(guardian__user_id=parent_user_id)
        .select_related("guardian")
        .order_by("created_at", "pk")
    ):
        if _due(c, today):
            end_management(c, AGE_14)
        elif c.guardian is not None and not _authority(c.guardian, c.id_number, today):
            end_management(c, AUTHORITY_ENDED)
        else:
            out.append(_view(c, today))
    return out


def _managed(parent_user_id: int, child_account_id: int, action: str, today: date) -> Account:
    """The child's account, if ``parent_user_id`` manages it and may still: under 14 (else it is
    handed over now) and still recorded by the registry as able to act for the child (else the
    management ends now). Another child's account, or one no longer managed: not found."""
    child = (
        Account.objects.filter(pk=child_account_id, guardian__user_id=parent_user_id)
        .select_related("guardian")
        .first()
    )
    if child is not None and _due(child, today):
        end_management(child, AGE_14)
        child = None
    if (
        child is not None
        and child.guardian is not None
        and not _authority(child.guardian, child.id_number, today)
    ):
        end_management(child, AUTHORITY_ENDED)
        child = None
    if child is None:
        record_account_event(
            parent_user_id, action, result=AuditEvent.Result.DENIED, detail={"reason": "not_managed"}
        )
        raise NotFound("no child account of yours with this number", field="child")
    return child


def presentation_token(parent_user_id: int, child_account_id: int, *, on: date | None = None) -> str:
    """A signed (HMAC-SHA256, Django signing), short-lived token the manager shows as a QR to
    present the child's account — only for a child they manage. Audited to the child."""
    child = _managed(parent_user_id, child_account_id, "eid.child.present", on or timezone.localdate())
    audit.record(
        AccessContext(_guardian_actor(parent_user_id), REGISTRATION),
        "eid.child.present",
        subject_citizen_id=child.citizen_id,
        durable=False,
    )
    return signing.dumps({"a": child.pk, "g": child.guardian_id, "n": uuid.uuid4().hex}, salt=_SALT)


def child_access_history(
    parent_user_id: int, child_account_id: int, *, on: date | None = None, limit: int = 200
) -> list[AccessRecord]:
    """Who looked at or changed the child's data, as the holder's own page shows it
    (``services.access_history``), for the parent or guardian who manages the child's account —
    while they manage it: not another child's, not after the hand-over at 14, not after their
    authority ended. The reading is itself recorded on the child's history."""
    child = _managed(
        parent_user_id, child_account_id, "citizen.access_log.representative", on or timezone.localdate()
    )
    if child.citizen_id is None:
        return []
    audit.record(
        AccessContext(_representative_actor(parent_user_id), SELF_ACCESS),
        "citizen.access_log.representative",
        subject_citizen_id=child.citizen_id,
        durable=False,
    )
    return [
        e
        for e in audit.events_for_citizen(child.citizen_id, limit=limit)
        if not hidden_from_representative(e.purpose_code)
    ]


# Reads of the child's data the representative does not see (the holder sees them on their own
# page from 14): police investigation and alert screening — the parent may be the one
# investigated — and child protection (ADR 0017, amendment; Law 91/2025/QH15 on the limits of
# the subject's right to know where it harms national security, public order or others' rights).
HIDDEN_FROM_REPRESENTATIVE = frozenset({"security.investigation", "security.alert_screening"})
HIDDEN_FROM_REPRESENTATIVE_PREFIXES = ("child_protection.", "security.child_protection")


def hidden_from_representative(purpose_code: str) -> bool:
    return purpose_code in HIDDEN_FROM_REPRESENTATIVE or purpose_code.startswith(
        HIDDEN_FROM_REPRESENTATIVE_PREFIXES
    )


@dataclass(frozen=True)
class ManagementRecord:
    """One period of management of my account while I was under 14, as I see it after 14."""

    relationship: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str
    presentations: int
    history_views: int


def management_record(user_id: int) -> list[ManagementRecord]:
    """Who managed my account before I was 14, when, and how often they presented it or read my
    history (the holder's own page)."""
    return [
        ManagementRecord(
            p.relationship, p.started_at, p.ended_at, p.end_reason, p.presentations, p.history_views
        )
        for p in GuardianPeriod.objects.filter(account__user_id=user_id).order_by("started_at", "pk")
    ]


@dataclass(frozen=True)
class ClaimInput:
    """What the holder gives at 14 to take their account: their card's data (as for a child's
    registration), and what every level-1 applicant gives (domain-vn §4): phone, optional
    e-mail, password, face photo."""

    id_number: str
    full_name: str
    date_of_birth: date
    card_issued_on: date
    phone: str
    password: str
    photo: bytes
    email: str = ""


def claim_own_account(data: ClaimInput, *, on: date | None = None) -> RegistrationReceipt:
    """The holder, 14 or over, activates the account a parent or guardian managed (module
    docstring). Validation errors name the field and the rule. Then every path answers alike (as
    ``services.register`` does: a code to the typed phone; no oracle on the registry or on who
    has an account). On a registry match with a valid card for an account that was managed and is
    not yet claimed, the management ends if it had not, the account waits (status pending, level
    1: a level 2 given before 14 is asked for again in person) with the claim's password and
    phone and is marked handed over. It is approved only in person, at level 2, where the desk
    replaces that password and phone (``services.activate_level2``); online the ward may only
    reject it (``services.decide_registration``). A phone or e-mail of the former manager or of
    any parent or guardian the registry records for the child is refused, with the answer of a
    mismatch: the holder uses their own (ADR 0017, amendment)."""
    today = on or timezone.localdate()
    problems = identity_problems(data.id_number, data.full_name)
    phone, face = applicant_checks(problems, data.phone, data.email, data.password, data.photo)
    if data.date_of_birth > today or age_on(data.date_of_birth, today) < OWN_ACCOUNT_AGE:
        problems.append(
            FieldProblem(
                "date_of_birth",
                "eligibility_age",
                "the holder takes their account from 14; before, the parent or guardian manages it",
            )
        )
    if data.card_issued_on > today:
        problems.append(FieldProblem("card_issued_on", "past", "the card's issue date is in the future"))
    if problems:
        raise DomainValidationError(problems)
    assert face is not None
    password_hash = make_password(data.password)  # on every path: the same work
    ctx = AccessContext(SELF_SERVICE, REGISTRATION)
    receipt = str(uuid.uuid4())
    match = registry.match_identity(
        ctx,
        IdentityClaim(
            id_number=data.id_number,
            full_name=data.full_name.strip(),
            date_of_birth=data.date_of_birth,
            card=CardClaim(issued_on=data.card_issued_on),
        ),
        evidence_kind="eid_hand_over",
        mode="data",
        release=frozenset({"date_of_birth"}),
        receipt_id=receipt,
        on=today,
    )
    account = (
        Account.objects.select_related("user").filter(id_number=data.id_number).first()
        if match.decision == MATCH
        else None
    )
    claimable = (
        account is not None
        and account.citizen_id == match.citizen_id
        and account.managed_until is not None
        and account.managed_until <= today
        and not account.user.has_usable_password()
        and not account.registrations.filter(status=Registration.Status.PENDING).exists()
    )
    if account is None or not claimable:
        audit.record(
            ctx,
            "eid.child.claim",
            subject_citizen_id=match.citizen_id if match.decision == MATCH else None,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "no_match_or_not_claimable", "receipt": receipt},
        )
        return RegistrationReceipt(matched=False, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    if account.guardian_id is not None:
        end_management(account, AGE_14)
    reason = _family_contact(account, phone, data.email)
    if reason:
        # The holder uses their own phone and e-mail, not a parent's or guardian's; answered like
        # a mismatch (a field error here would tell that the data matched a child's account).
        audit.record(
            ctx,
            "eid.child.claim",
            subject_citizen_id=account.citizen_id,
            result=AuditEvent.Result.DENIED,
            detail={"reason": reason, "receipt": receipt},
        )
        return RegistrationReceipt(matched=False, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    with transaction.atomic():
        user = account.user
        user.password = password_hash
        user.save(update_fields=["password"])
        account.status = Account.Status.PENDING
        account.level = 1
        account.max_level = 2
        account.phone, account.email, account.phone_verified_at = phone, data.email, None
        # Whatever ended the management (14, a restriction, an ended guardianship): handed over.
        account.handed_over_at = account.handed_over_at or timezone.now()
        account.save(
            update_fields=[
                "status",
                "level",
                "max_level",
                "phone",
                "email",
                "phone_verified_at",
                "handed_over_at",
            ]
        )
        registration = Registration.objects.create(
            is_claim=True,
            account=account,
            ward_code=account.ward_code,
            match_decision=match.decision,
            exact_match=True,
            face_sha256=face[0],
            face_dhash=face[1],
            thumbnail=_thumbnail(data.photo),
        )
        audit.record(
            ctx,
            "eid.child.claim",
            subject_citizen_id=account.citizen_id,
            detail={"registration": registration.pk, "receipt": receipt},
        )
    factors.issue_code(account.user_id, "phone")
    return RegistrationReceipt(matched=True, handle=int(registration.pk))


def _family_contact(account: Account, phone: str, email: str) -> str:
    """Why the claim's phone or e-mail is refused, or "": a former manager's, or that of any
    account whose holder the registry records as the child's father or mother (restricted or
    not) or as a guardian at any time (``guardianship.is_recorded_representative``)."""
    mail = email.strip().lower()
    for manager_phone, manager_email in GuardianPeriod.objects.filter(account=account).values_list(
        "manager__phone", "manager__email"
    ):
        if manager_phone == phone or (mail and str(manager_email).lower() == mail):
            return "former_manager_phone"
    return "family_contact" if _representatives_contact(account, phone, email) else ""


@dataclass(frozen=True)
class Presentation:
    id_number: str
    level: int
    presented_by: str  # "father" / "mother" / "guardian"


VERIFY_PURPOSES = frozenset({"identity.verification", ACTIVATION, REGISTRATION})


def verify_presentation(
    ctx: AccessContext, token: str, *, max_age: int = PRESENTATION_SECONDS, on: date | None = None
) -> Presentation:
    """Check a presented child's token for an organisation that verifies identities (purpose
    ``identity.verification``) or the eID desk: signature, age of the token, that the account is
    still active and managed by the same person, that this person's account is still active at
    level 2 and still recorded by the registry as able to act for the child (parent without a
    restriction, or guardian in office), and that the child is still under 14 (domain-vn §4: from
    14 the holder has their own account). Each token is single-use: its nonce is recorded on the
    first successful check (:class:`PresentationUse`). Audited to the child."""
    today = on or timezone.localdate()
    get_purpose(ctx.purpose)
    if ctx.purpose not in VERIFY_PURPOSES or not ctx.actor.may(ctx.purpose):
        audit.record(ctx, "eid.child.verify", result=AuditEvent.Result.DENIED, detail={"reason": "purpose"})
        raise AccessDenied(f"purpose {ctx.purpose!r} may not verify a presented eID account")
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise DomainValidationError.single(
            "token", "expired", "the QR has expired: ask for a new one"
        ) from None
    except signing.BadSignature:
        raise DomainValidationError.single(
            "token", "signature", "the QR is not one this platform issued"
        ) from None
    child = (
        Account.objects.filter(pk=data.get("a"), guardian_id=data.get("g")).select_related("guardian").first()
    )
    if child is None or child.status != Account.Status.ACTIVE or child.guardian is None:
        raise DomainValidationError.single("token", "inactive", "the account is no longer active")
    guardian = child.guardian
    if guardian.status != Account.Status.ACTIVE or guardian.level < 2:
        raise DomainValidationError.single(
            "token", "guardian", "the parent's or guardian's account is no longer active at level 2"
        )
    authority = guardianship.parental_authority(
        AccessContext(_guardian_actor(guardian.user_id), REGISTRATION),
        child.id_number,
        guardian.id_number,
        on=today,
    )
    if age_on(authority.child_date_of_birth, today) >= OWN_ACCOUNT_AGE:
        raise DomainValidationError.single(
            "token", "age", "the holder is 14 or over and presents their own account (Decree 69/2024 Art. 7)"
        )
    if not authority.relationship:
        raise DomainValidationError.single(
            "token", "guardian", "the registry no longer records the presenter as able to act for the child"
        )
    now = timezone.now()
    PresentationUse.objects.filter(used_at__lt=now - timedelta(seconds=2 * PRESENTATION_SECONDS)).delete()
    try:
        with transaction.atomic():
            PresentationUse.objects.create(nonce=str(data.get("n", ""))[:32], used_at=now)
            audit.record(ctx, "eid.child.verify", subject_citizen_id=child.citizen_id, durable=False)
    except IntegrityError:
        raise DomainValidationError.single(
            "token", "used", "this QR was already presented: ask the parent for a new one"
        ) from None
    return Presentation(child.id_number, child.level, authority.relationship)
