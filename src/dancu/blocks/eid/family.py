"""Children's accounts registered by a parent (Decree 69/2024/NĐ-CP; ADR 0017).

Rules:

* **Who may have one** (Decree 69/2024 Art. 7, as reported by two secondary sources — the text of
  the Decree itself was not available to check, ADR 0017): a Vietnamese citizen under 6 with an
  identity card may hold a level-1 account on request; from 6 to under 14, level 1 and — on
  request, in person — level 2; from 14 the holder registers themselves.
* **Who registers it**: the parent's legal representative uses their own level-2 account (and
  their own phone) to declare the child (the level-1 procedure of the Decree as summarised by
  the Government's press, article number unverified). Here: an active level-2 account of a
  citizen whom the population registry records as the child's father or mother
  (``registry.family_links``, purpose ``eid.registration``). A guardian who is not a parent is not
  recorded in the registry: that case goes to the commune police desk (not built).
* **Checks**: the child's data — ID number, name, date of birth and the issue date of the child's
  card — match the registry with a valid card; then the registry's parent link. A number that
  does not match, or a child who is not the parent's, gets one and the same refusal (no oracle on
  the registry). With every check passed the account is active at level 1 at once (automated
  rule: registry match + registry parent link + the parent's level 2 — recorded as such).
* **Managed by the parent**: the child's account has no password and no phone of its own (codes
  go to the parent); the parent sees it on their page and presents it with a signed, short-lived
  QR (:func:`presentation_token`, checked by :func:`verify_presentation` — the desk's
  ``/eid-desk/present/``). From 14 the holder
  registers themselves (recovery with their own card at the desk) — not automated here.
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
from dancu.blocks.eid.models import Account, PresentationUse, Registration
from dancu.blocks.eid.services import (
    ACTIVATION,
    REGISTRATION,
    _face,
    _notify,
    age_on,
    identity_problems,
    max_level_for_age,
    record_account_event,
)
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.matching import MATCH, CardClaim, IdentityClaim
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

# From this age the holder registers their own account (Decree 69/2024 Art. 7 cl. 1).
OWN_ACCOUNT_AGE = 14
FACE_AGE = 6
PRESENTATION_SECONDS = 300
_SALT = "dancu.eid.child-presentation"
_NOT_YOURS = (
    "the population registry does not record you as the parent of a child with these data "
    "(check the ID number, name, date of birth and card issue date); a guardian who is not a "
    "parent registers the child at the commune police"
)


@dataclass(frozen=True)
class ChildInput:
    """What the parent declares about the child (as on the child's card); the face photo is
    required from 6."""

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


def _guardian_actor(parent_user_id: int) -> Actor:
    """The parent declaring their child: the registry is read by the eID system on their behalf
    (no jurisdiction: a parent is not an official), for purpose ``eid.registration`` only, and
    every read is audited to the child with the parent's user id."""
    return Actor(
        user_id=parent_user_id,
        label="Cha/mẹ đăng ký định danh điện tử cho con / a parent registering their child",
        allowed_purposes=frozenset({REGISTRATION}),
        is_system=True,
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
            "a parent registers a child's account with their own active level-2 account",
        )
    return parent


def register_child(parent_user_id: int, data: ChildInput, *, on: date | None = None) -> ChildView:
    """A parent registers a level-1 account for their child under 14 (module docstring). Errors
    name the field and the rule; nothing is written unless every check passes."""
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
    relationship = ""
    if match.decision == MATCH and match.citizen_id is not None:
        links = registry.family_links(ctx, data.id_number)
        if links.father_id_number == parent.id_number:
            relationship = "father"
        elif links.mother_id_number == parent.id_number:
            relationship = "mother"
    if not relationship:
        audit.record(
            ctx,
            "eid.registration.guardian",
            subject_citizen_id=match.citizen_id if match.decision == MATCH else None,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "not_parent_or_no_match", "receipt": receipt},
        )
        raise DomainValidationError.single("id_number", "not_your_child", _NOT_YOURS)
    born = match.released.get("date_of_birth")
    age = age_on(born if isinstance(born, date) else data.date_of_birth, today)
    if age >= OWN_ACCOUNT_AGE:  # the registry's date of birth decides
        raise DomainValidationError.single(
            "date_of_birth", "eligibility_age", "from 14 the holder registers their own account"
        )
    existing = Account.objects.filter(id_number=data.id_number).first()
    if existing is not None:
        raise Conflict("this child already has an eID account", field="id_number")
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
                decided_by_label="automated rule: registry match, registry parent link, parent level 2",
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
    return ChildView(child.pk, child.id_number, relationship, 1, child.max_level, child.created_at)


def children_of(parent_user_id: int) -> list[ChildView]:
    """The accounts the parent manages, oldest first."""
    return [
        ChildView(c.pk, c.id_number, c.guardian_relationship, c.level, c.max_level, c.created_at)
        for c in Account.objects.filter(guardian__user_id=parent_user_id).order_by("created_at", "pk")
    ]


def _managed(parent_user_id: int, child_account_id: int) -> Account:
    child = (
        Account.objects.filter(pk=child_account_id, guardian__user_id=parent_user_id)
        .select_related("guardian")
        .first()
    )
    if child is None:
        record_account_event(
            parent_user_id,
            "eid.child.present",
            result=AuditEvent.Result.DENIED,
            detail={"reason": "not_managed"},
        )
        raise NotFound("no child account of yours with this number", field="child")
    return child


def presentation_token(parent_user_id: int, child_account_id: int) -> str:
    """A signed (HMAC-SHA256, Django signing), short-lived token the parent shows as a QR to
    present the child's account — only for a child they manage. Audited to the child."""
    child = _managed(parent_user_id, child_account_id)
    audit.record(
        AccessContext(_guardian_actor(parent_user_id), REGISTRATION),
        "eid.child.present",
        subject_citizen_id=child.citizen_id,
        durable=False,
    )
    return signing.dumps({"a": child.pk, "g": child.guardian_id, "n": uuid.uuid4().hex}, salt=_SALT)


@dataclass(frozen=True)
class Presentation:
    id_number: str
    level: int
    presented_by: str  # "father" / "mother"


VERIFY_PURPOSES = frozenset({"identity.verification", ACTIVATION, REGISTRATION})


def verify_presentation(
    ctx: AccessContext, token: str, *, max_age: int = PRESENTATION_SECONDS
) -> Presentation:
    """Check a presented child's token for an organisation that verifies identities (purpose
    ``identity.verification``) or the eID desk: signature, age of the token, that the account is
    still active and managed by the same parent, that this parent's account is still active at
    level 2 and still recorded as the child's parent, and that the child is still under 14 (Decree
    69/2024 Art. 7: from 14 the holder has their own account). Each token is single-use: its nonce
    is recorded on the first successful check (:class:`PresentationUse`). Audited to the child."""
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
            "token", "guardian", "the parent's account is no longer active at level 2"
        )
    links = registry.family_links(
        AccessContext(_guardian_actor(guardian.user_id), REGISTRATION), child.id_number
    )
    if guardian.id_number not in (links.father_id_number, links.mother_id_number):
        raise DomainValidationError.single(
            "token", "guardian", "the registry no longer records the presenter as the child's parent"
        )
    if age_on(links.date_of_birth, timezone.localdate()) >= OWN_ACCOUNT_AGE:
        raise DomainValidationError.single(
            "token", "age", "the holder is 14 or over and presents their own account (Decree 69/2024 Art. 7)"
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
    return Presentation(child.id_number, child.level, child.guardian_relationship)
