"""Electronic identification accounts: registration (level 1), approval, activation in person
(level 2), organisation accounts, and what a citizen sees of their account.

Rules (Decree 69/2024/NĐ-CP on electronic identification and authentication; domain-vn §4):

* **Level 1** (Art. 12 cl. 1, Art. 14): the citizen registers online with their ID number, name,
  date of birth, phone, optional e-mail and a face photo; the data are matched against the
  population database (``registry.match_identity``, purpose ``eid.registration``, audited to the
  citizen). The commune police of the ward of permanent residence approve or reject; an automated
  rule approves when the match is exact and the phone was verified with a one-time code.
* **Level 2** (Art. 13, Art. 16): in person at a commune police desk: the chip of the card is read
  and passes passive authentication (ICAO 9303 part 11), the holder is matched against the
  registry (card valid), the live face photo is compared with the chip's DG2 portrait, then the
  account is upgraded (who, where, when, audited) — or created at level 2 for a citizen without one.
* **Eligibility by age** (Art. 7 per three secondary sources, ADR 0017; domain-vn §4): from 14
  with a card, levels 1 and 2; from 6 to 14, on request; under 6, level 1 only. A parent with a
  level-2 account registers a child under 14 (``family.py``); online self-registration under 6
  is refused with that explanation. Foreign residents: ``foreigners.py``.
  A holder recorded as deceased is refused (without telling the applicant why).
* **No enumeration**: registering a number that already has an account, or data that do not
  match, never reveals whether the number exists or has an account: the same answers, the same
  work (a match and a password hash) on every path.
* **Organisation accounts** (Art. 12 cl. 3): an enterprise's account names its enterprise code,
  head office and a legal representative with a level-2 account; its staff get accounts under it.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.audit.services import AccessRecord
from dancu.blocks.eid import assurance, factors
from dancu.blocks.eid.models import Account, Enterprise, EnterpriseStaff, Level2Request, Registration
from dancu.blocks.identity.chip import ChipData, chip_active_authentication, passive_authentication
from dancu.blocks.identity.faces import face_reference, same_portrait
from dancu.blocks.identity.trust import configured_trust_store
from dancu.blocks.messaging import services as messaging
from dancu.blocks.registry import guardianship
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.idnumber import parse_id_number
from dancu.blocks.registry.matching import MATCH, CardClaim, IdentityClaim
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

REGISTRATION = "eid.registration"
ACTIVATION = "eid.activation"
ACCOUNT = "eid.account"
SELF_ACCESS = "citizen.self_access"
MAX_PHOTO_BYTES = 5 * 1024 * 1024
THUMBNAIL_SIZE = 64
_PHONE = re.compile(r"^(0|\+84)(3|5|7|8|9)\d{8}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Exact: the registry matched the name as typed (or only without accents); the only note is that
# no card was checked (online registration shows none).
_EXACT_NOTES = frozenset({"card_not_checked"})

SELF_SERVICE = Actor(
    user_id=None,
    label="Công dân tự đăng ký định danh điện tử / citizen self-registration",
    allowed_purposes=frozenset({REGISTRATION}),
)


# --------------------------------------------------------------------------- helpers
# From 14 a holder manages their own account (domain-vn §4; ``family.OWN_ACCOUNT_AGE``).
HAND_OVER_AGE = 14


def age_on(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def max_level_for_age(age: int) -> int:
    """Decree 69/2024 Art. 7 (domain-vn §4): under 6, level 1 only; from 6, levels 1 and 2."""
    return 1 if age < 6 else 2


def account_actor(user_id: int) -> Actor:
    """The account holder acting on their own account (log-ins, factors, sessions)."""
    return Actor(
        user_id=user_id,
        label="Chủ tài khoản định danh điện tử / the eID account holder",
        allowed_purposes=frozenset({ACCOUNT, SELF_ACCESS}),
    )


_LOOK_UP: Any = object()


def record_account_event(
    user_id: int,
    action: str,
    *,
    result: str = AuditEvent.Result.OK,
    detail: dict[str, object] | None = None,
    citizen_id: int | None = _LOOK_UP,
) -> None:
    """An account event (log-in, failure, lockout, factor change) in the audit log; with the
    holder's citizen id, so that they see it on their page. No personal data in ``detail``.
    ``citizen_id``: the account's citizen when the caller has just read the account (None for an
    account without one); otherwise it is looked up."""
    if citizen_id is _LOOK_UP:
        account = Account.objects.filter(user_id=user_id).only("citizen_id").first()
        citizen_id = account.citizen_id if account is not None else None
    audit.record(
        AccessContext(account_actor(user_id), ACCOUNT),
        action,
        subject_citizen_id=citizen_id,
        result=result,
        detail=detail or {},
    )


def _authorise(ctx: AccessContext, purpose: str, action: str) -> None:
    get_purpose(ctx.purpose)
    if ctx.purpose == purpose and ctx.actor.may(purpose):
        return
    audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={"reason": "purpose"})
    if ctx.purpose != purpose:
        raise AccessDenied(f"purpose {ctx.purpose!r} does not allow {action}; use {purpose}")
    raise AccessDenied(f"your organisation or role may not use purpose {purpose!r}")


def validate_phone(phone: str, field: str = "phone") -> str:
    value = phone.strip().replace(" ", "")
    if not _PHONE.match(value):
        raise DomainValidationError.single(
            field, "phone_vn", "a Vietnamese mobile number: 10 digits starting 03, 05, 07, 08 or 09 (or +84)"
        )
    return value


def _face(photo: bytes, field: str) -> tuple[str, str]:
    if not photo:
        raise DomainValidationError.single(field, "required", "a face photo is required")
    if len(photo) > MAX_PHOTO_BYTES:
        raise DomainValidationError.single(field, "size", "the photo must be at most 5 MB")
    try:
        ref = face_reference(photo)
    except DomainValidationError:
        raise DomainValidationError.single(field, "image", "the photo cannot be read as an image") from None
    return ref.sha256, ref.dhash


def identity_problems(id_number: str, full_name: str) -> list[FieldProblem]:
    """The ID number's structure (Circular 59/2021/TT-BCA) and a name as on the card."""
    problems: list[FieldProblem] = []
    try:
        parse_id_number(id_number)
    except DomainValidationError as exc:
        problems += exc.problems
    if not full_name.strip() or len(full_name) > 100:
        problems.append(
            FieldProblem("full_name", "required", "the full name as on the card (1–100 characters)")
        )
    return problems


def applicant_checks(
    problems: list[FieldProblem], phone: str, email: str, password: str, photo: bytes
) -> tuple[str, tuple[str, str] | None]:
    """What every online applicant gives: a Vietnamese mobile number, an optional e-mail, a
    password meeting the policy and a face photo. Problems are added to ``problems``; returns
    the normalised phone and the face's (SHA-256, dHash)."""
    normalised = ""
    try:
        normalised = validate_phone(phone)
    except DomainValidationError as exc:
        problems += exc.problems
    if email and not _EMAIL.match(email):
        problems.append(FieldProblem("email", "email", "an e-mail address like ten@example.vn"))
    try:
        validate_password(password)
    except ValidationError as exc:
        problems += [FieldProblem("password", "password_policy", m) for m in exc.messages]
    face: tuple[str, str] | None = None
    try:
        face = _face(photo, "photo")
    except DomainValidationError as exc:
        problems += exc.problems
    return normalised, face


def _thumbnail(photo: bytes) -> bytes:
    """A 64×64 greyscale PNG: enough for the approver to see a face, no more (least data)."""
    from PIL import Image

    with Image.open(io.BytesIO(photo)) as im:
        small = im.convert("L")
        small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        out = io.BytesIO()
        small.save(out, format="PNG")
    return out.getvalue()


def _notify(account: Account, kind: str, body: str) -> None:
    if account.phone:
        messaging.send("sms", account.phone, kind, body)


# --------------------------------------------------------------------------- level 1
@dataclass(frozen=True)
class RegistrationInput:
    id_number: str
    full_name: str
    date_of_birth: date
    phone: str
    password: str
    photo: bytes
    email: str = ""


@dataclass(frozen=True)
class RegistrationReceipt:
    """What the applicant's next step needs; the applicant is told the same thing on every path
    (go to the phone step, a code was sent to the typed phone). ``handle``: the registration to
    confirm (0: none — a non-matching or an already registered number); then ``decoy`` checks the
    code sent to the typed phone, and ``matched`` says what the phone step tells after a right
    code: "received" (True) or "cannot be registered online" without naming a field (False)."""

    matched: bool
    handle: int
    decoy: str = ""


def phone_on_record(citizen_id: int) -> str | None:
    """The citizen's phone as recorded by the population registry, or None: the registry of this
    platform keeps no phone yet, so no application is approved by the automated rule and all go
    to the ward police (ADR 0008 §3). Read here when the registry gains one."""
    del citizen_id
    return None


def register(data: RegistrationInput, *, on: date | None = None) -> RegistrationReceipt:
    """Self-registration of a level-1 account (Decree 69/2024 Art. 12 cl. 1, Art. 14).

    Validation errors name the field and the rule. Then the registry match (audited to the
    citizen), and — on a match for a number without an account — a pending account and
    registration, and a one-time code to the phone. A number that has an account gets the same
    answer and its holder an SMS warning.
    """
    today = on or timezone.localdate()
    problems = identity_problems(data.id_number, data.full_name)
    phone, face = applicant_checks(problems, data.phone, data.email, data.password, data.photo)
    if data.date_of_birth > today:
        problems.append(FieldProblem("date_of_birth", "past", "the date of birth is in the future"))
    elif age_on(data.date_of_birth, today) < 6:
        problems.append(
            FieldProblem(
                "date_of_birth",
                "eligibility_age",
                "a child under 6 gets a level-1 account registered by a parent from the parent's "
                "own level-2 account, page “My account” (Decree 69/2024/NĐ-CP Art. 7; ADR 0017)",
            )
        )
    if problems:
        raise DomainValidationError(problems)
    assert face is not None

    ctx = AccessContext(SELF_SERVICE, REGISTRATION)
    receipt = str(uuid.uuid4())
    match = registry.match_identity(
        ctx,
        IdentityClaim(
            id_number=data.id_number, full_name=data.full_name.strip(), date_of_birth=data.date_of_birth
        ),
        evidence_kind="eid_registration",
        mode="data",
        release=frozenset({"date_of_birth", "permanent_ward_code"}),
        receipt_id=receipt,
        on=today,
    )
    password_hash = make_password(data.password)  # on every path: the same work
    if match.decision != MATCH or match.citizen_id is None:
        # The same answer as a match: a code to the typed phone; the phone step then tells that
        # the data cannot be registered online, naming no field (no oracle on registry data).
        return RegistrationReceipt(matched=False, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    existing = Account.objects.filter(id_number=data.id_number).first()
    if existing is not None and existing.status != Account.Status.REJECTED:
        _notify(
            existing,
            "eid.registration.duplicate",
            "dancu: co nguoi vua dang ky tai khoan dinh danh voi so cua ban. Neu khong phai ban, "
            "hay bao cong an xa. / Someone tried to register an eID account with your number.",
        )
        return RegistrationReceipt(matched=True, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    born = match.released.get("date_of_birth")
    age = age_on(born, today) if isinstance(born, date) else age_on(data.date_of_birth, today)
    exact = {r.code for r in match.reasons} <= _EXACT_NOTES
    try:
        with transaction.atomic():
            if existing is not None:  # a rejected application may be made again
                user = existing.user
                user.password = password_hash
                user.save(update_fields=["password"])
                account = existing
                account.status = Account.Status.PENDING
                account.phone, account.email, account.phone_verified_at = phone, data.email, None
                account.save()
            else:
                user = get_user_model().objects.create(username=data.id_number, password=password_hash)
                account = Account.objects.create(
                    user=user,
                    id_number=data.id_number,
                    citizen_id=match.citizen_id,
                    ward_code=str(match.released.get("permanent_ward_code") or ""),
                    max_level=max_level_for_age(age),
                    phone=phone,
                    email=data.email,
                )
            registration = Registration.objects.create(
                account=account,
                ward_code=account.ward_code,
                match_decision=match.decision,
                exact_match=exact,
                face_sha256=face[0],
                face_dhash=face[1],
                thumbnail=_thumbnail(data.photo),
            )
            audit.record(
                ctx,
                "eid.registration.submit",
                subject_citizen_id=match.citizen_id,
                detail={"registration": registration.pk, "exact": exact, "receipt": receipt},
            )
    except IntegrityError:  # the same number registered concurrently
        return RegistrationReceipt(matched=True, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    factors.issue_code(user.pk, "phone")
    return RegistrationReceipt(matched=True, handle=registration.pk)


def verify_phone(handle: int, code: str) -> bool:
    """The applicant's phone code (the handle from :func:`register`). On success the phone is
    verified and the automated rule approves only when the registry match was exact *and* the
    phone is the one on record for that citizen (:func:`phone_on_record`): a code to a phone the
    applicant chose proves nothing about who they are. Otherwise the ward police decide."""
    registration = (
        Registration.objects.select_related("account").filter(pk=handle).first() if handle else None
    )
    if registration is None or registration.status != Registration.Status.PENDING:
        return False
    account = registration.account
    if not factors.check_code(account.user_id, "phone", code):
        return False
    account.phone_verified_at = timezone.now()
    account.save(update_fields=["phone_verified_at"])
    on_record = phone_on_record(account.citizen_id) if account.citizen_id is not None else None
    if registration.exact_match and on_record and validate_phone(on_record) == account.phone:
        _decide(
            registration,
            AccessContext(Actor.system("eid-auto-approval"), REGISTRATION),
            approve=True,
            reason="automated rule: exact registry match and the phone on record verified",
            auto=True,
        )
    return True


@dataclass(frozen=True)
class PendingRegistration:
    registration_id: int
    id_number: str
    submitted_at: datetime
    exact_match: bool
    phone_verified: bool
    thumbnail: bytes | None
    is_claim: bool = False  # a claim at 14: approved only in person (ADR 0017, amendment)


def pending_registrations(ctx: AccessContext) -> list[PendingRegistration]:
    """Applications waiting in the officer's ward (Decree 69/2024 Art. 14: the commune police of
    the ward of permanent residence decide). Listing is audited per applicant."""
    _authorise(ctx, REGISTRATION, "eid.registration.list")
    ward = ctx.actor.jurisdiction_ward_code
    if not ward:
        return []
    rows = list(
        Registration.objects.select_related("account")
        .filter(status=Registration.Status.PENDING, ward_code=ward)
        .order_by("created_at")[:200]
    )
    out = [
        PendingRegistration(
            r.pk,
            r.account.id_number,
            r.created_at,
            r.exact_match,
            r.account.phone_verified_at is not None,
            bytes(r.thumbnail) if r.thumbnail else None,
            r.is_claim,
        )
        for r in rows
    ]
    ids = [r.account.citizen_id for r in rows if r.account.citizen_id]
    if ids:
        audit.record_many(ctx, "eid.registration.list", ids)
    return out


def decide_registration(ctx: AccessContext, registration_id: int, *, approve: bool, reason: str = "") -> None:
    """An officer approves or rejects a pending application of their ward; a rejection names its
    reason. Denials (purpose, jurisdiction) are audited."""
    _authorise(ctx, REGISTRATION, "eid.registration.decide")
    registration = Registration.objects.select_related("account").filter(pk=registration_id).first()
    if registration is None or registration.status != Registration.Status.PENDING:
        raise NotFound("no pending registration with this number", field="registration")
    ward = ctx.actor.jurisdiction_ward_code
    if not ctx.actor.is_system and (not ward or ward != registration.ward_code):
        audit.record(
            ctx,
            "eid.registration.decide",
            subject_citizen_id=registration.account.citizen_id,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "jurisdiction"},
        )
        raise AccessDenied(
            "this applicant lives outside your ward: the commune police of their ward decide",
            field="registration",
            rule="jurisdiction",
        )
    if not approve and not reason.strip():
        raise DomainValidationError.single("reason", "required", "a rejection states its reason")
    if approve and registration.is_claim:
        # A claim at 14 asks only for data the parent knows as well: it is approved in person,
        # where the holder shows her card and sets her own phone and password (ADR 0017, amendment).
        audit.record(
            ctx,
            "eid.registration.decide",
            subject_citizen_id=registration.account.citizen_id,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "claim_in_person"},
        )
        raise DomainValidationError.single(
            "registration",
            "in_person",
            "a claim of an account managed before 14 is approved only in person, with the holder's "
            "card, at level 2 (the desk sets the holder's own phone and password)",
        )
    _decide(registration, ctx, approve=approve, reason=reason.strip()[:300], auto=False)


def _decide(
    registration: Registration, ctx: AccessContext, *, approve: bool, reason: str, auto: bool
) -> None:
    account = registration.account
    with transaction.atomic():
        registration.status = Registration.Status.APPROVED if approve else Registration.Status.REJECTED
        registration.decided_at = timezone.now()
        registration.decided_by_user_id = ctx.actor.user_id
        registration.decided_by_label = ctx.actor.label
        registration.decision_reason = reason
        registration.auto_approved = auto
        registration.thumbnail = None  # least data: the approver's thumbnail goes with the decision
        registration.save()
        if approve:
            account.status = Account.Status.ACTIVE
            account.level = max(account.level, 1)
        elif account.level == 0:
            account.status = Account.Status.REJECTED
        elif registration.is_claim:
            # A claim at 14 refused (``family.claim_own_account``): the password and phone it set
            # go, the account stays waiting for its holder's next claim (ADR 0017).
            account.user.set_unusable_password()
            account.user.save(update_fields=["password"])
            account.phone, account.email, account.phone_verified_at = "", "", None
        account.save(update_fields=["status", "level", "phone", "email", "phone_verified_at"])
        audit.record(
            ctx,
            "eid.registration.approve" if approve else "eid.registration.reject",
            subject_citizen_id=account.citizen_id,
            detail={"registration": registration.pk, "automated": auto},
        )
    if approve:
        _notify(
            account,
            "eid.registration.approved",
            "dancu: tai khoan dinh danh muc 1 da duoc duyet. / Approved.",
        )
    else:
        _notify(
            account, "eid.registration.rejected", "dancu: dang ky tai khoan dinh danh bi tu choi. / Rejected."
        )


# --------------------------------------------------------------------------- level 2
@dataclass(frozen=True)
class Activation:
    account_id: int
    created: bool
    face_distance: int
    receipt_id: str
    claimed: bool = False  # an account managed before 14: phone set here, password by code


def activate_level2(
    ctx: AccessContext,
    *,
    chip_files: Mapping[str, str],
    live_photo: bytes,
    create: bool = False,
    phone: str = "",
    email: str = "",
    at: datetime | None = None,
    request_reference: str = "",
    aa_challenge: bytes | None = None,
    aa_answer: bytes | None = None,
) -> Activation:
    """Level 2 in person (Decree 69/2024 Art. 13, 16): passive authentication of the chip, a
    registry match with the card (valid, holder alive), the live photo against DG2, then the
    account is upgraded — or, with ``create``, made at level 2 (the holder sets a password with a
    code sent to ``phone``). Any commune police unit may activate (the holder chooses the desk).
    Each refusal names the field and the rule; the match is audited to the citizen. With
    ``request_reference`` (opened from the ward's queue) the card must be the requester's. A chip
    that offers Active Authentication (DG15 in its SOD) must sign ``aa_challenge``, the 8 bytes
    the desk issued for this read, with its DG15 key (``aa_answer``; ICAO 9303 part 11 §6.1):
    else refused ``chip``/``active_authentication.<step>``, audited (ADR 0017 §14)."""
    _authorise(ctx, ACTIVATION, "eid.activate")
    moment = at or timezone.now()
    if create:
        phone = validate_phone(phone)
        if email and not _EMAIL.match(email):
            raise DomainValidationError.single("email", "email", "an e-mail address like ten@example.vn")
    try:
        chip = ChipData.from_dict(chip_files)
    except (DomainValidationError, TypeError, AttributeError):
        raise DomainValidationError.single("chip", "format", "the chip read is not readable") from None
    report = passive_authentication(chip, configured_trust_store(), at=moment)
    dg13, portrait = report.dg13, report.face
    if not report.ok or dg13 is None or portrait is None:
        failed = report.failures[0].name if report.failures else "incomplete"
        raise DomainValidationError.single(
            "chip", f"passive_authentication.{failed}", "the chip failed passive authentication"
        )
    active = chip_active_authentication(chip, report, aa_challenge, aa_answer)
    if active is not None and not active.ok:
        # A chip whose signed files were copied onto another chip: it cannot sign the challenge.
        step = active.failures[0].name if active.failures else "aa.signature"
        audit.record(
            ctx,
            "eid.activate",
            result=AuditEvent.Result.DENIED,
            detail={"reason": "active_authentication", "step": step},
        )
        raise DomainValidationError.single(
            "chip",
            f"active_authentication.{step}",
            active.failures[0].detail if active.failures else "the chip failed Active Authentication",
        )
    if request_reference:
        requester = (
            Level2Request.objects.filter(reference=request_reference[:40])
            .values_list("account__id_number", flat=True)
            .first()
        )
        if requester != dg13.id_number:
            raise DomainValidationError.single(
                "chip", "request_mismatch", "this card is not the card of the request's holder"
            )
    live = face_reference(live_photo) if live_photo else None
    if live is None:
        raise DomainValidationError.single("live_photo", "required", "take the holder's photo at the desk")
    account = Account.objects.select_related("user").filter(id_number=dg13.id_number).first()
    if account is None and not create:
        raise NotFound("this card's holder has no eID account: create one at level 2", field="id_number")
    if account is not None and create:
        raise Conflict("this card's holder already has an eID account: activate it", field="id_number")
    # An account managed before 14, claimed online or not yet claimed: the claim's password and
    # phone may be a parent's (the claim asks only for data a parent knows), so they go, and the
    # holder's own phone is set here, in person; she sets a password with a code sent to it
    # (ADR 0017, amendment of 01/12/2026).
    # Still managed although the holder is 14 (the daily hand-over has not run yet, or could not
    # date it): the management ends here and the account is taken over at the desk like a claim.
    still_managed = (
        account is not None
        and account.guardian_id is not None
        and age_on(dg13.date_of_birth, timezone.localdate(moment)) >= HAND_OVER_AGE
    )
    claimed = account is not None and (
        still_managed
        or account.registrations.filter(status=Registration.Status.PENDING, is_claim=True).exists()
        or (account.handed_over_at is not None and not account.user.has_usable_password())
    )
    if claimed:
        if not phone.strip():
            raise DomainValidationError.single(
                "phone",
                "required",
                "the holder's own phone, given at the desk: the account was managed before 14",
            )
        phone = validate_phone(phone)
        if email and not _EMAIL.match(email):
            raise DomainValidationError.single("email", "email", "an e-mail address like ten@example.vn")
    receipt = str(uuid.uuid4())
    match = registry.match_identity(
        ctx,
        IdentityClaim(
            id_number=dg13.id_number,
            full_name=dg13.full_name,
            date_of_birth=dg13.date_of_birth,
            sex=dg13.sex if dg13.sex in ("M", "F") else None,
            card=CardClaim(issued_on=dg13.issue_date, expires_on=dg13.expiry_date, expiry_known=True),
        ),
        evidence_kind="chip",
        mode="data",
        release=frozenset({"date_of_birth", "permanent_ward_code"}),
        receipt_id=receipt,
        on=timezone.localdate(moment),
    )
    if match.decision != MATCH or match.citizen_id is None:
        raise DomainValidationError.single(
            "chip",
            match.decision,
            "the card does not match a living holder with a valid card in the registry",
        )
    born = match.released.get("date_of_birth")
    age = age_on(born if isinstance(born, date) else dg13.date_of_birth, timezone.localdate(moment))
    if max_level_for_age(age) < 2:
        raise DomainValidationError.single(
            "date_of_birth",
            "eligibility_age",
            "a child under 6 may hold a level-1 account only (Decree 69/2024 Art. 7)",
        )
    if claimed and account is not None and _representatives_contact(account, phone, email):
        # The parent may come with the holder: the phone set here is the holder's own.
        raise DomainValidationError.single(
            "phone",
            "family_contact",
            "this phone or e-mail is a parent's or guardian's: the holder gives their own (ADR 0017)",
        )
    same, distance = same_portrait(face_reference(portrait.image), live)
    if not same:
        audit.record(
            ctx,
            "eid.activate",
            subject_citizen_id=match.citizen_id,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "face_mismatch", "distance": distance, "receipt": receipt},
        )
        raise DomainValidationError.single(
            "live_photo", "face_mismatch", "the live photo is not the portrait on the chip"
        )
    created = account is None
    with transaction.atomic():
        if account is None:
            user = get_user_model().objects.create(username=dg13.id_number, password=make_password(None))
            account = Account.objects.create(
                user=user, id_number=dg13.id_number, phone=phone, email=email, phone_verified_at=None
            )
        if still_managed:
            from dancu.blocks.eid import family  # the hand-over at 14 (ADR 0017)

            family.end_management(account, family.AGE_14, at=moment)
            account.refresh_from_db()
        if claimed:
            account.user.set_unusable_password()
            account.user.save(update_fields=["password"])
            account.phone, account.email, account.phone_verified_at = phone, email, None
        account.citizen_id = match.citizen_id
        account.ward_code = str(match.released.get("permanent_ward_code") or account.ward_code)
        account.level = 2
        account.max_level = 2
        account.status = Account.Status.ACTIVE
        account.level2_at = moment
        account.level2_by_user_id = ctx.actor.user_id
        account.level2_by_label = ctx.actor.label
        account.level2_organisation_name = ctx.actor.organisation_name
        account.level2_receipt = receipt
        account.level2_evidence = "card_chip"  # passive authentication + live photo (ADR 0017 §10)
        account.save()
        Level2Request.objects.filter(account=account, status=Level2Request.Status.PENDING).update(
            status=Level2Request.Status.ACTIVATED, activated_at=moment
        )
        Registration.objects.filter(account=account, status=Registration.Status.PENDING).update(
            status=Registration.Status.APPROVED,
            decided_at=moment,
            decided_by_user_id=ctx.actor.user_id,
            decided_by_label=ctx.actor.label,
            decision_reason=(
                "activated at level 2 in person; the holder's phone and password set at the desk"
                if claimed
                else "activated at level 2 in person"
            ),
            thumbnail=None,
        )
        audit.record(
            ctx,
            "eid.activate",
            subject_citizen_id=match.citizen_id,
            detail={
                "level": 2,
                "created": created,
                "claimed": claimed,
                "distance": distance,
                "receipt": receipt,
            },
        )
    if created or claimed:
        factors.issue_code(account.user_id, "recovery")  # the holder sets a password with it
    _notify(account, "eid.activated", "dancu: tai khoan dinh danh da duoc nang len muc 2. / Now level 2.")
    return Activation(account.pk, created, distance, receipt, claimed)


# The eID system checking whether a phone's or e-mail's holder is the child's parent or guardian.
_CONTACT_CHECK = Actor(
    user_id=None,
    label=(
        "Hệ thống định danh điện tử kiểm tra liên lạc của cha mẹ, người giám hộ / "
        "the eID system checking the contacts of a child's parents and guardians"
    ),
    allowed_purposes=frozenset({REGISTRATION}),
    is_system=True,
)


def _representatives_contact(account: Account, phone: str, email: str) -> bool:
    """Whether ``phone`` or ``email`` belongs to another account whose holder the registry records
    as the child's father or mother (restricted or not) or as a guardian at any time
    (``guardianship.is_recorded_representative``, audited to the child; ADR 0017, amendment)."""
    mail = email.strip().lower()
    contact = Q(phone=phone) | Q(email__iexact=mail) if mail else Q(phone=phone)
    holders = list(
        Account.objects.filter(contact).exclude(pk=account.pk).values_list("id_number", flat=True)[:50]
    )
    return bool(holders) and guardianship.is_recorded_representative(
        AccessContext(_CONTACT_CHECK, REGISTRATION), account.id_number, holders
    )


# --------------------------------------------------------------------------- level-2 requests
@dataclass(frozen=True)
class PendingLevel2:
    reference: str
    id_number: str
    appointment: date
    requested_at: datetime


def request_level2(user_id: int, *, ward_code: str, appointment: date, reference: str) -> str:
    """Queue the holder's request for level 2 at the commune police of ``ward_code`` (Decree
    69/2024 Art. 13: in person, with a valid card). The holder's own active level-1 account only;
    the same ``reference`` again returns the same request. Returns its status."""
    account = Account.objects.filter(user_id=user_id, status=Account.Status.ACTIVE).first()
    if account is None:
        raise NotFound("no active eID account", field="account")
    if account.level >= 2:
        raise DomainValidationError.single("account", "already_level2", "the account is at level 2 already")
    request, created = Level2Request.objects.get_or_create(
        reference=reference[:40],
        defaults={"account": account, "ward_code": ward_code, "appointment": appointment},
    )
    if request.account_id != account.pk:
        raise Conflict("this reference belongs to another request", field="reference")
    if created:
        record_account_event(user_id, "eid.level2.request", detail={"ward": ward_code})
    return request.status


def level2_request_status(reference: str) -> str | None:
    return Level2Request.objects.filter(reference=reference).values_list("status", flat=True).first()


def pending_level2_requests(ctx: AccessContext) -> list[PendingLevel2]:
    """The requests waiting at the officer's ward desk, by appointment (purpose
    ``eid.activation``; listing is audited per holder)."""
    _authorise(ctx, ACTIVATION, "eid.level2.list")
    ward = ctx.actor.jurisdiction_ward_code
    if not ward:
        return []
    rows = list(
        Level2Request.objects.select_related("account")
        .filter(status=Level2Request.Status.PENDING, ward_code=ward)
        .order_by("appointment", "created_at")[:200]
    )
    ids = [r.account.citizen_id for r in rows if r.account.citizen_id]
    if ids:
        audit.record_many(ctx, "eid.level2.list", ids)
    return [PendingLevel2(r.reference, r.account.id_number, r.appointment, r.created_at) for r in rows]


@dataclass(frozen=True)
class Level2RequestView:
    """A level-2 request as the ward desk sees it: the channel's reference (e.g. the public-service
    dossier's tracking code), the holder's ID number, the appointment day the holder chose, and —
    once closed — when and by which desk the account was raised to level 2."""

    reference: str
    id_number: str
    appointment: date
    requested_at: datetime
    status: str
    activated_at: datetime | None
    activated_by: str


CLOSED_SHOWN_DAYS = 30


def _request_view(r: Level2Request) -> Level2RequestView:
    activated = r.status == Level2Request.Status.ACTIVATED
    by = r.account.level2_organisation_name or r.account.level2_by_label
    return Level2RequestView(
        r.reference,
        r.account.id_number,
        r.appointment,
        r.created_at,
        r.status,
        r.activated_at,
        by if activated else "",
    )


def level2_queue(ctx: AccessContext) -> tuple[list[Level2RequestView], list[Level2RequestView]]:
    """The officer's ward queue (Decree 69/2024 Art. 13, 16): requests waiting for the visit, by
    appointment, and those closed by an activation in the last :data:`CLOSED_SHOWN_DAYS` days,
    newest first. Purpose ``eid.activation``; each holder listed is audited. An officer without
    a ward (city police) sees nothing."""
    _authorise(ctx, ACTIVATION, "eid.level2.list")
    ward = ctx.actor.jurisdiction_ward_code
    if not ward:
        return [], []
    base = Level2Request.objects.select_related("account").filter(ward_code=ward)
    pending = list(
        base.filter(status=Level2Request.Status.PENDING).order_by("appointment", "created_at")[:200]
    )
    since = timezone.now() - timedelta(days=CLOSED_SHOWN_DAYS)
    closed = list(
        base.filter(status=Level2Request.Status.ACTIVATED, activated_at__gte=since).order_by("-activated_at")[
            :100
        ]
    )
    ids = sorted({r.account.citizen_id for r in pending + closed if r.account.citizen_id})
    if ids:
        audit.record_many(ctx, "eid.level2.list", ids)
    return [_request_view(r) for r in pending], [_request_view(r) for r in closed]


def level2_request_for_desk(ctx: AccessContext, reference: str) -> Level2RequestView:
    """One request of the officer's ward, to prefill the activation page. Another ward's request
    is refused (rule ``jurisdiction``, audited); an unknown reference is not found."""
    _authorise(ctx, ACTIVATION, "eid.level2.open")
    r = Level2Request.objects.select_related("account").filter(reference=reference[:40]).first()
    if r is None:
        raise NotFound("no level-2 request with this reference", field="request")
    ward = ctx.actor.jurisdiction_ward_code
    if not ward or ward != r.ward_code:
        audit.record(
            ctx,
            "eid.level2.open",
            subject_citizen_id=r.account.citizen_id,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "jurisdiction"},
        )
        raise AccessDenied("this request waits at another ward's desk", field="request", rule="jurisdiction")
    audit.record(ctx, "eid.level2.open", subject_citizen_id=r.account.citizen_id, durable=False)
    return _request_view(r)


# --------------------------------------------------------------------------- the holder's view
@dataclass(frozen=True)
class AccountView:
    id_number: str
    level: int
    status: str
    phone_masked: str
    email_masked: str
    phone_verified: bool
    locked: bool
    level2_at: datetime | None
    level2_where: str
    has_totp: bool


def account_of(user_id: int) -> AccountView | None:
    """The holder's own account (None: a staff user without an eID account)."""
    a = Account.objects.filter(user_id=user_id).first()
    if a is None:
        return None
    return AccountView(
        a.id_number,
        a.level,
        a.status,
        messaging.mask(a.phone) if a.phone else "",
        messaging.mask(a.email) if a.email else "",
        a.phone_verified_at is not None,
        a.locked_at is not None,
        a.level2_at,
        a.level2_organisation_name,
        factors.has_totp(user_id),
    )


def citizen_of(user_id: int) -> tuple[int, str] | None:
    """The holder's citizen record (id, ID number) for their own page's sections read from other
    blocks (stays notified, data exchanges), or None: no account, or one not matched to a record."""
    row = Account.objects.filter(user_id=user_id).values_list("citizen_id", "id_number").first()
    if row is None or row[0] is None:
        return None
    return int(row[0]), str(row[1])


def level_of(user_id: int) -> int:
    """The level a log-in of this user earns. Staff users without an eID account count as level 1
    (a password account created by an administrator; ADR 0008)."""
    level = (
        Account.objects.filter(user_id=user_id, status=Account.Status.ACTIVE)
        .values_list("level", flat=True)
        .first()
    )
    return int(level) if level else 1


def level_and_evidence(user_id: int) -> tuple[int, str]:
    """:func:`level_of` and the account's evidence class (``assurance.evidence_class``: ``chip``,
    ``mrz``, or ``""`` below level 2), in one query: what a log-in or a step-up records, so that
    the acr tells a chip-verified level 2 from one on the passport's MRZ (ADR 0017 §11)."""
    row = (
        Account.objects.filter(user_id=user_id, status=Account.Status.ACTIVE)
        .values_list("level", "level2_evidence", "foreign_resident_id")
        .first()
    )
    if row is None or not row[0]:
        return 1, ""
    level = int(row[0])
    return level, assurance.evidence_class(level, row[1], foreign=row[2] is not None)


def access_history(user_id: int, *, limit: int = 200) -> list[AccessRecord]:
    """Who looked at or changed my data ("who looked at my data", Law 91/2025/QH15 Art. 4): the
    audit events of my citizen record, read with purpose ``citizen.self_access`` — and that
    reading is itself recorded."""
    account = Account.objects.filter(user_id=user_id).only("citizen_id").first()
    ctx = AccessContext(account_actor(user_id), SELF_ACCESS)
    _authorise(ctx, SELF_ACCESS, "citizen.access_log")
    if account is None or account.citizen_id is None:
        return []
    audit.record(ctx, "citizen.access_log", subject_citizen_id=account.citizen_id, durable=False)
    return audit.events_for_citizen(account.citizen_id, limit=limit)


# --------------------------------------------------------------------------- organisations
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_ENTERPRISE_CODE = re.compile(r"^(\d{10})(-\d{3})?$")


def validate_enterprise_code(code: str) -> str:
    """The enterprise code is its tax code (Law on Enterprises 2020 Art. 29): 10 digits, the last a
    check digit — 10 − (Σ dᵢ·wᵢ mod 11), weights 31 29 23 19 17 13 7 5 3 (Circular 105/2020/TT-BTC
    structure; verify) — and ``-NNN`` for a dependent unit."""
    value = code.strip()
    m = _ENTERPRISE_CODE.match(value)
    if m is None:
        raise DomainValidationError.single(
            "enterprise_code", "format", "10 digits, or 10 digits, a hyphen and 3 digits for a branch"
        )
    digits = [int(c) for c in m.group(1)]
    check = 10 - sum(d * w for d, w in zip(digits, _TAX_WEIGHTS, strict=False)) % 11
    if check == 10 or check != digits[9]:
        raise DomainValidationError.single("enterprise_code", "check_digit", "the check digit is wrong")
    return value


@dataclass(frozen=True)
class EnterpriseInput:
    name: str
    enterprise_code: str
    head_office: str
    organisation_code: str = ""


def register_enterprise(representative_user_id: int, data: EnterpriseInput) -> int:
    """An organisation's eID account, opened by its legal representative, who must hold an active
    level-2 account (Decree 69/2024 Art. 12 cl. 3). Linked to the platform's organisation with
    ``organisation_code`` when there is one."""
    from dancu.blocks.organisations.models import Organisation

    problems: list[FieldProblem] = []
    code = ""
    try:
        code = validate_enterprise_code(data.enterprise_code)
    except DomainValidationError as exc:
        problems += exc.problems
    if not data.name.strip() or len(data.name) > 200:
        problems.append(
            FieldProblem("name", "required", "the enterprise's registered name (1–200 characters)")
        )
    if not data.head_office.strip() or len(data.head_office) > 300:
        problems.append(FieldProblem("head_office", "required", "the head office address (1–300 characters)"))
    rep = Account.objects.filter(user_id=representative_user_id).first()
    if rep is None or rep.level < 2 or rep.status != Account.Status.ACTIVE:
        problems.append(
            FieldProblem(
                "representative",
                "level2_required",
                "the legal representative needs an active level-2 account",
            )
        )
    if problems:
        raise DomainValidationError(problems)
    assert rep is not None
    org = None
    if data.organisation_code:
        org = Organisation.objects.filter(code=data.organisation_code).first()
        if org is None:
            raise DomainValidationError.single(
                "organisation_code", "unknown", "no organisation with this code"
            )
    # Self-service never links to an existing organisation directly: the link waits for an
    # administrator of that organisation or of the platform — unless the representative already
    # administers it (ADR 0008 §12).
    linked = org if org is not None and _administers(representative_user_id, org.pk) else None
    try:
        enterprise = Enterprise.objects.create(
            name=data.name.strip(),
            enterprise_code=code,
            head_office=data.head_office.strip(),
            representative=rep,
            organisation=linked,
            requested_organisation=org,
            link_approved_at=timezone.now() if linked is not None else None,
            link_approved_by_label="representative is an administrator" if linked is not None else "",
        )
    except IntegrityError:
        raise Conflict("an account exists for this enterprise code", field="enterprise_code") from None
    record_account_event(
        representative_user_id,
        "eid.enterprise.register",
        detail={
            "enterprise": enterprise.pk,
            "link": "approved" if linked else ("pending" if org else "none"),
        },
    )
    return enterprise.pk


def _administers(user_id: int, organisation_id: int) -> bool:
    """An active ADMIN member of the organisation, or a platform administrator (superuser)."""
    from dancu.blocks.organisations.models import Membership

    if get_user_model().objects.filter(pk=user_id, is_active=True, is_superuser=True).exists():
        return True
    return Membership.objects.filter(
        user_id=user_id,
        organisation_id=organisation_id,
        role=Membership.Role.ADMIN,
        active=True,
        organisation__active=True,
    ).exists()


def pending_enterprise_links(approver_user_id: int) -> list[Enterprise]:
    """Enterprises waiting for a link to an organisation the approver administers."""
    rows = Enterprise.objects.select_related("requested_organisation").filter(
        organisation__isnull=True, requested_organisation__isnull=False
    )
    return [e for e in rows if _administers(approver_user_id, int(e.requested_organisation_id or 0))]


def enterprise_link_status(enterprise_id: int) -> str:
    """``none`` (no organisation asked for), ``pending`` (waiting for its administrator) or
    ``approved``."""
    row = (
        Enterprise.objects.filter(pk=enterprise_id)
        .values("organisation_id", "requested_organisation_id")
        .first()
    )
    if row is None or (row["organisation_id"] is None and row["requested_organisation_id"] is None):
        return "none"
    return "approved" if row["organisation_id"] is not None else "pending"


def approve_enterprise_link(approver_user_id: int, enterprise_id: int) -> None:
    """An administrator of the requested organisation (Membership ADMIN) or of the platform
    approves the link; staff added before get clerk membership now. Anyone else is refused."""
    from dancu.blocks.organisations.models import Membership
    from dancu.blocks.organisations.services import add_member

    enterprise = Enterprise.objects.select_related("requested_organisation").filter(pk=enterprise_id).first()
    if enterprise is None or enterprise.requested_organisation is None:
        raise NotFound("no enterprise waiting for an organisation link", field="enterprise")
    org = enterprise.requested_organisation
    if not _administers(approver_user_id, org.pk):
        record_account_event(
            approver_user_id,
            "eid.enterprise.link_approve",
            result=AuditEvent.Result.DENIED,
            detail={"enterprise": enterprise.pk, "reason": "not_admin"},
        )
        raise AccessDenied(
            "only an administrator of the organisation approves the link",
            field="enterprise",
            rule="organisation_admin",
        )
    approver = get_user_model().objects.filter(pk=approver_user_id).first()
    with transaction.atomic():
        enterprise.organisation = org
        enterprise.link_approved_at = timezone.now()
        enterprise.link_approved_by_label = str(approver.get_username() if approver else approver_user_id)[
            :150
        ]
        enterprise.save(update_fields=["organisation", "link_approved_at", "link_approved_by_label"])
        for staff in EnterpriseStaff.objects.filter(enterprise=enterprise).select_related("user"):
            add_member(staff.user, org, Membership.Role.CLERK)
    record_account_event(
        enterprise.representative.user_id,
        "eid.enterprise.link_approved",
        detail={"enterprise": enterprise.pk},
    )


def add_enterprise_staff(
    representative_user_id: int, enterprise_id: int, username: str, password: str
) -> int:
    """A staff account under the enterprise, created by its legal representative; a member
    (clerk) of the linked organisation only once that link is approved (before, no membership:
    :func:`approve_enterprise_link` adds it). Returns the new user's id."""
    from dancu.blocks.organisations.models import Membership
    from dancu.blocks.organisations.services import add_member

    enterprise = (
        Enterprise.objects.select_related("representative", "organisation").filter(pk=enterprise_id).first()
    )
    if enterprise is None or enterprise.representative.user_id != representative_user_id:
        raise AccessDenied(
            "only the enterprise's legal representative adds its staff",
            field="enterprise",
            rule="representative",
        )
    if not re.match(r"^[a-z0-9._-]{3,40}$", username) or username.isdigit():
        raise DomainValidationError.single(
            "username", "format", "3–40 lower-case letters, digits, '.', '_' or '-' (not only digits)"
        )
    try:
        validate_password(password)
    except ValidationError as exc:
        raise DomainValidationError(
            [FieldProblem("password", "password_policy", m) for m in exc.messages]
        ) from None
    with transaction.atomic():
        if get_user_model().objects.filter(username=username).exists():
            raise Conflict("this user name is taken", field="username")
        user = get_user_model().objects.create_user(username=username, password=password)
        EnterpriseStaff.objects.create(enterprise=enterprise, user=user)
        if enterprise.organisation is not None:
            add_member(user, enterprise.organisation, Membership.Role.CLERK)
    record_account_event(
        representative_user_id, "eid.enterprise.staff_added", detail={"enterprise": enterprise.pk}
    )
    return int(user.pk)


def id_hash(value: str) -> str:
    """A keyless digest for throttling keys (no personal data stored in clear)."""
    return hashlib.sha256(value.encode()).hexdigest()


# --------------------------------------------------------------------------- for the OpenID provider
def id_number_of_user(user_id: int) -> str | None:
    """The ID number of an active citizen account (None: staff, pending or rejected accounts);
    read by ``blocks/sso`` to release registry claims."""
    return (
        Account.objects.filter(user_id=user_id, status=Account.Status.ACTIVE, citizen_id__isnull=False)
        .values_list("id_number", flat=True)
        .first()
    )


def contacts_of_user(user_id: int) -> dict[str, str]:
    """The account's verified phone and its e-mail (``phone_number`` only once verified)."""
    a = Account.objects.filter(user_id=user_id, status=Account.Status.ACTIVE).first()
    if a is None:
        return {}
    out = {"email": a.email} if a.email else {}
    if a.phone and (a.phone_verified_at is not None or a.level >= 2):
        out["phone_number"] = a.phone
    return out


def user_of_id_number(id_number: str) -> int | None:
    """The user of the active citizen account holding ``id_number`` (None: no account, or one
    not active). Read by the one-stop office kiosk (``apps/kiosk``, ADR 0013) only after the
    identity block verified the card presented (``identity.verify``, which checks the purpose and
    records the audit event the citizen sees); it returns an account key, no personal data."""
    return (
        Account.objects.filter(id_number=id_number, status=Account.Status.ACTIVE, citizen_id__isnull=False)
        .values_list("user_id", flat=True)
        .first()
    )
