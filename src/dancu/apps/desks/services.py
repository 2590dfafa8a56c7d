"""Front-desk services: clinic check-in and kiosk (models 6, 7), notary (model 8), conditional
businesses (model 16).

Every check is ``identity.services.verify`` in ``data`` mode with purpose
``identity.verification``: the identity block decides access (organisation kind × role), checks
the evidence, asks the registry, records the audit event and the receipt, and releases only the
fields of the organisation's kind. These functions add what each desk keeps: a clinic encounter
with its queue ticket, a notarised act's parties with receipts signed by the platform (Ed25519),
the lost-card warning of a pawn shop. Views parse input and call one of them.

No image of a card is stored anywhere (no photocopies of ID): a photo of the card's QR code is
decoded in memory and dropped.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import hmac
import io
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from dancu.apps.desks.models import (
    Encounter,
    EncounterStatusChange,
    KioskDevice,
    NotarisedAct,
    NotarisedParty,
    SignedReceipt,
)
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.identity.chip import ChipData, parse_dg13
from dancu.blocks.identity.mrz import parse_td1
from dancu.blocks.identity.qr import parse_card_qr, read_qr
from dancu.blocks.identity.services import (
    VERIFY_PURPOSE,
    ChipChallengeIssued,
    ChipEvidence,
    Evidence,
    MrzEvidence,
    QrEvidence,
    TypedEvidence,
    VerificationResult,
    issue_chip_challenge,
    verify,
)
from dancu.blocks.organisations.devices import (
    IssuedDevice,
    authenticate_device,
    register_device,
    reissue_device_key,
    revoke_device,
)
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.policy import INTEGRATION
from dancu.blocks.organisations.services import actor_for, machine_actor, memberships_of
from dancu.blocks.organisations.tokens import TokenRejected
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound
from dancu.ratelimit import Rate, take
from dancu.validation import check_text, loads_json

CLINIC_KINDS = frozenset({"clinic"})
NOTARY_KINDS = frozenset({"notary"})
BUSINESS_KINDS = frozenset({"pawn_shop", "security_firm"})
DESK_ROLES = frozenset({"clerk"})
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CHIP_JSON = 200_000


# --------------------------------------------------------------------------- who may use a desk
def desk_actor(user: Any, kinds: frozenset[str], preferred_organisation_id: int | None = None) -> Actor:
    """The ``Actor`` of a logged-in staff member at a desk for organisations of ``kinds``: a clerk
    of such an organisation (the one chosen in the session if it qualifies, else the first).
    Raises ``AccessDenied`` (rule ``desk``) for anyone else — police, hotels, other roles."""
    eligible = [m for m in memberships_of(user) if m.organisation.kind in kinds and m.role in DESK_ROLES]
    if not eligible:
        raise AccessDenied(
            "this desk is for clerks of another kind of organisation", field="desk", rule="desk"
        )
    chosen = next((m for m in eligible if m.organisation_id == preferred_organisation_id), eligible[0])
    return actor_for(user, chosen.organisation_id)


def _require_kind(actor: Actor, kinds: frozenset[str]) -> int:
    """The actor's organisation id, if its kind is one of ``kinds``; else ``AccessDenied``."""
    if actor.organisation_kind not in kinds or actor.organisation_id is None:
        raise AccessDenied("this desk is for another kind of organisation", field="desk", rule="desk")
    return actor.organisation_id


def desk_context(actor: Actor) -> AccessContext:
    """Every desk verifies for one purpose: identity verification of the person in front."""
    return AccessContext(actor=actor, purpose=VERIFY_PURPOSE)


# --------------------------------------------------------------------------- evidence from input
def evidence_from_photo(data: bytes) -> QrEvidence:
    """The card QR read from a camera photo (decoded in memory; the photo is not kept).
    Raises ``DomainValidationError`` on field ``image`` (``no_qr``, ``format``, ``too_large``…)."""
    if len(data) > MAX_PHOTO_BYTES:
        raise DomainValidationError.single("image", "too_large", "the photo must be at most 10 MB")
    texts = read_qr(data).texts
    return QrEvidence(texts[0])


def evidence_from_chip_json(text: str, *, challenge_id: str = "") -> ChipEvidence:
    """A reader app's chip read: a JSON object of base64 files ``{"sod": …, "dg1": …, "dg13": …}``;
    for a chip with Active Authentication also ``"active_auth"``, the chip's answer (base64) to
    the challenge the desk page showed (``challenge_id``, issued with the page; ICAO 9303 part 11
    §6.1). The reader may echo the challenge as ``"challenge"``: it is not a chip file and is
    dropped (the server keeps its own copy)."""
    if len(text) > MAX_CHIP_JSON:
        raise DomainValidationError.single("chip", "too_large", "the chip read is too large")
    try:
        files = loads_json(text, max_depth=1)
    except ValueError:  # not JSON, or nested deeper than an object of strings
        raise DomainValidationError.single("chip", "json", "must be a JSON object of base64 files") from None
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise DomainValidationError.single("chip", "json", "must be a JSON object of base64 files")
    answer = files.pop("active_auth", "")
    files.pop("challenge", None)
    return ChipEvidence(files, challenge_id=challenge_id, active_auth=answer)


def chip_challenge(ctx: AccessContext) -> ChipChallengeIssued | None:
    """A one-time Active Authentication challenge for the next chip read at this desk (shown on
    the page for the reader app; ``identity.services.issue_chip_challenge``), or None for a desk
    acting for no organisation."""
    if ctx.actor.organisation_id is None:
        return None
    return issue_chip_challenge(ctx)


def presented_id_number(evidence: Evidence, *, on: date) -> str:
    """The ID number of the document presented. Call only after ``verify`` matched, so that the
    evidence has been checked (the chip passed passive authentication)."""
    if isinstance(evidence, QrEvidence):
        return parse_card_qr(evidence.text, reference=on).id_number
    if isinstance(evidence, TypedEvidence):
        return evidence.id_number
    if isinstance(evidence, ChipEvidence):
        dg13 = ChipData.from_dict(evidence.files).dg13
        return parse_dg13(dg13).id_number if dg13 is not None else ""
    if isinstance(evidence, MrzEvidence):
        return parse_td1(evidence.text, reference=on).id_number
    return ""


# --------------------------------------------------------------------------- clinic
@dataclass(frozen=True)
class EncounterView:
    encounter_id: int
    receipt_id: str
    checked_in_at: datetime
    day: date
    queue_number: int
    id_number: str
    full_name: str
    evidence_kind: str
    source: str
    status: str
    status_changed_at: datetime | None = None
    status_changed_by: str = ""

    @property
    def next_statuses(self) -> tuple[str, ...]:
        """The statuses this encounter may move to (:data:`STATUS_TRANSITIONS`)."""
        return STATUS_TRANSITIONS.get(self.status, ())


@dataclass(frozen=True)
class CheckIn:
    """The verification and, on a match only, the encounter created for it."""

    result: VerificationResult
    encounter: EncounterView | None


def _encounter_view(e: Encounter) -> EncounterView:
    return EncounterView(
        encounter_id=e.pk,
        receipt_id=str(e.receipt_id),
        checked_in_at=e.checked_in_at,
        day=e.day,
        queue_number=e.queue_number,
        id_number=e.id_number,
        full_name=e.full_name,
        evidence_kind=e.evidence_kind,
        source=e.source,
        status=e.status,
        status_changed_at=e.status_changed_at,
        status_changed_by=e.status_changed_by,
    )


def check_in_patient(
    ctx: AccessContext,
    evidence: Evidence,
    *,
    kiosk_id: int | None = None,
    at: datetime | None = None,
) -> CheckIn:
    """Verify a patient at a clinic (``data`` mode) and, on a match, open an encounter with the
    day's next queue number. A refusal (``no_match``, ``card_not_valid``, ``deceased``,
    ``invalid_evidence``) creates no encounter. Raises ``AccessDenied`` for a non-clinic actor
    (and whatever ``verify`` raises)."""
    organisation_id = _require_kind(ctx.actor, CLINIC_KINDS)
    result = verify(ctx, evidence, mode="data", at=at)
    if not result.matches or result.data is None:
        return CheckIn(result, None)
    day = timezone.localdate(result.verified_at)
    id_number = presented_id_number(evidence, on=day)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                last = Encounter.objects.filter(organisation_id=organisation_id, day=day).aggregate(
                    m=Max("queue_number")
                )["m"]
                encounter = Encounter.objects.create(
                    organisation_id=organisation_id,
                    receipt_id=result.receipt_id,
                    checked_in_at=result.verified_at,
                    day=day,
                    queue_number=(last or 0) + 1,
                    id_number=id_number,
                    full_name=str(result.data.get("full_name") or ""),
                    evidence_kind=result.evidence_kind,
                    source=Encounter.Source.KIOSK if kiosk_id else Encounter.Source.DESK,
                    kiosk_id=kiosk_id,
                    checked_in_by=ctx.actor.label[:150],
                )
            return CheckIn(result, _encounter_view(encounter))
        except IntegrityError:  # another check-in took this queue number first: take the next
            continue
    raise RuntimeError("could not allocate a queue number")


def encounters_on(actor: Actor, day: date, *, status: str | None = None) -> list[EncounterView]:
    """The clinic's encounters of ``day``, in queue order (its own only); only those in
    ``status`` when given."""
    organisation_id = _require_kind(actor, CLINIC_KINDS)
    rows = Encounter.objects.filter(organisation_id=organisation_id, day=day)
    if status:
        if status not in Encounter.Status.values:
            raise DomainValidationError.single("status", "choice", f"unknown status {status!r}")
        rows = rows.filter(status=status)
    return [_encounter_view(e) for e in rows.order_by("queue_number")]


_S = Encounter.Status
# Where an encounter may go from each status. A patient called in may be sent back to wait (the
# doctor was called away); done and cancelled are final.
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    _S.WAITING: (_S.IN_CONSULTATION, _S.CANCELLED),
    _S.IN_CONSULTATION: (_S.DONE, _S.WAITING, _S.CANCELLED),
    _S.DONE: (),
    _S.CANCELLED: (),
}


def change_encounter_status(
    actor: Actor, encounter_id: int, status: str, *, at: datetime | None = None
) -> EncounterView:
    """Move an encounter of the actor's clinic to ``status`` (:data:`STATUS_TRANSITIONS`),
    recording who and when (``EncounterStatusChange``). The row is locked, so two clerks changing
    the same encounter at once are applied one after the other and the second is checked against
    the first's result. Raises ``AccessDenied`` for a non-clinic actor, ``NotFound`` for an
    encounter of another clinic (its existence is not revealed) and ``DomainValidationError``
    (field ``status``: ``choice``, ``transition``) for a change the rules do not allow."""
    organisation_id = _require_kind(actor, CLINIC_KINDS)
    if status not in Encounter.Status.values:
        raise DomainValidationError.single("status", "choice", f"unknown status {status!r}")
    moment = at or timezone.now()
    with transaction.atomic():
        encounter = (
            Encounter.objects.select_for_update()
            .filter(pk=encounter_id, organisation_id=organisation_id)
            .first()
        )
        if encounter is None:
            raise NotFound("no such encounter", field="encounter")
        if status not in STATUS_TRANSITIONS.get(encounter.status, ()):
            raise DomainValidationError.single(
                "status",
                "transition",
                f"an encounter that is {encounter.status} cannot become {status}",
            )
        EncounterStatusChange.objects.create(
            encounter=encounter,
            from_status=encounter.status,
            to_status=status,
            changed_at=moment,
            changed_by=actor.label[:150],
            changed_by_user_id=actor.user_id,
        )
        encounter.status = status
        encounter.status_changed_at = moment
        encounter.status_changed_by = actor.label[:150]
        encounter.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    return _encounter_view(encounter)


@dataclass(frozen=True)
class StatusChangeView:
    from_status: str
    to_status: str
    changed_at: datetime
    changed_by: str


def encounter_status_history(actor: Actor, encounter_id: int) -> list[StatusChangeView]:
    """Every status change of an encounter of the actor's clinic, oldest first."""
    organisation_id = _require_kind(actor, CLINIC_KINDS)
    if not Encounter.objects.filter(pk=encounter_id, organisation_id=organisation_id).exists():
        raise NotFound("no such encounter", field="encounter")
    rows = EncounterStatusChange.objects.filter(encounter_id=encounter_id).order_by("changed_at", "id")
    return [StatusChangeView(c.from_status, c.to_status, c.changed_at, c.changed_by) for c in rows]


CSV_HEADER = (
    "queue_number",
    "checked_in_at",
    "id_number",
    "full_name",
    "status",
    "source",
    "evidence",
    "receipt_id",
)


def _csv_cell(value: object) -> str:
    """Text for a spreadsheet: a leading = + - @ (a formula) is neutralised with a quote."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def encounters_csv(encounters: Iterable[EncounterView]) -> str:
    """The encounters as CSV (UTF-8 text, header first, times in the platform's time zone)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in encounters:
        writer.writerow(
            [
                _csv_cell(v)
                for v in (
                    e.queue_number,
                    timezone.localtime(e.checked_in_at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.id_number,
                    e.full_name,
                    e.status,
                    e.source,
                    e.evidence_kind,
                    e.receipt_id,
                )
            ]
        )
    return out.getvalue()


# --------------------------------------------------------------------------- kiosk devices
KIOSK_TAG = "kd"  # the key is KIOSK_TAG_<prefix>_<secret> (organisations.tokens)


IssuedKiosk = IssuedDevice  # a registered device; ``key`` is the only copy of the secret: show it once


@dataclass(frozen=True)
class KioskSession:
    device_id: int
    prefix: str
    name: str
    organisation_name: str
    actor: Actor


class KioskRejected(TokenRejected):
    """The device key is missing, malformed, unknown or revoked, or its clinic is inactive."""


def _registrable(organisation: Organisation) -> None:
    if organisation.kind not in CLINIC_KINDS:
        raise DomainValidationError.single("organisation", "kind", "kiosks are registered for clinics only")
    if not organisation.active:
        raise DomainValidationError.single("organisation", "inactive", "the organisation is not active")


def _active_clinic(organisation: Organisation) -> None:
    if organisation.kind not in CLINIC_KINDS or not organisation.active:
        raise DomainValidationError.single(
            "organisation", "inactive", "the kiosk's clinic is not an active clinic"
        )


def register_kiosk(organisation_code: str, name: str, *, created_by: str = "") -> IssuedKiosk:
    """Register a self-service kiosk of the clinic ``organisation_code``; returns its key
    ``kd_<8 hex>_<43 base64url>`` (256-bit secret), shown once."""
    return register_device(
        KioskDevice,
        KIOSK_TAG,
        organisation_code,
        name,
        check_organisation=_registrable,
        created_by=created_by,
    )


def reissue_kiosk_key(device_id: int, *, issued_by: str = "") -> IssuedKiosk:
    """A new key for a registered kiosk (its key was lost or exposed, or the device is re-enrolled
    after a revocation): a new prefix and secret, so the old key stops working at once, and the
    device is no longer revoked. Its clinic must be an active clinic."""
    return reissue_device_key(
        KioskDevice, KIOSK_TAG, device_id, check_organisation=_active_clinic, issued_by=issued_by
    )


def revoke_kiosk(prefix: str, *, now: datetime | None = None) -> bool:
    return revoke_device(KioskDevice, prefix, now=now)


def authenticate_kiosk(key: str | None, *, now: datetime | None = None) -> KioskSession:
    """The device presenting ``key`` (constant-time comparison), acting for its clinic with the
    machine-client role ``integration`` of the policy table; or ``KioskRejected``."""
    device: KioskDevice = authenticate_device(
        KioskDevice,
        KIOSK_TAG,
        key,
        kinds=CLINIC_KINDS,
        rejected=KioskRejected,
        inactive_message="The kiosk's clinic is not active.",
        now=now,
    )
    org = device.organisation
    actor = machine_actor(org, f"kiosk {device.prefix} ({device.name})", INTEGRATION)
    return KioskSession(device.pk, device.prefix, device.name, org.name, actor)


def kiosk_check_in(session: KioskSession, evidence: Evidence, *, at: datetime | None = None) -> CheckIn:
    """A patient checks in at the kiosk: a clinic check-in made by the device."""
    return check_in_patient(desk_context(session.actor), evidence, kiosk_id=session.device_id, at=at)


# --------------------------------------------------------------------------- signed receipts
RECEIPT_KEY_ENV = "DANCU_RECEIPT_SIGNING_KEY"
DEV_KEY_PATH = Path("receipt-signing") / "ed25519.pem"
_key_lock = threading.Lock()
_keys: dict[Path, Ed25519PrivateKey] = {}


def _key_path() -> tuple[Path, bool]:
    """Where the signing key is, and whether it may be created there (development only)."""
    configured = os.environ.get(RECEIPT_KEY_ENV)
    if configured:
        return Path(configured), False
    if getattr(settings, "DEMO", False) or getattr(settings, "DEBUG", False):
        return Path(settings.VAR_DIR) / DEV_KEY_PATH, True
    raise ImproperlyConfigured(f"set {RECEIPT_KEY_ENV} to the path of the receipt signing key (Ed25519, PEM)")


def write_signing_key(path: Path, *, force: bool = False) -> Ed25519PrivateKey:
    """Create a new Ed25519 key at ``path`` (PKCS#8 PEM, mode 0600, its directory created 0700).

    Without ``force`` an existing file is never replaced (``FileExistsError``): the file is
    created with ``O_EXCL``. With ``force`` the key is written to a new 0600 file beside it and
    renamed over the old one, so that the file is never readable by others, not even briefly,
    whatever the old file's mode was."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    target = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp") if force else path
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(target, path)
    except BaseException:
        if force:
            target.unlink(missing_ok=True)
        raise
    return key


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex in pairs (``ab:cd:…``); its first 16 hex
    digits are the key id stored with every receipt (:func:`key_id`)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def signing_key() -> Ed25519PrivateKey:
    """The platform's receipt signing key: the PEM file named by ``DANCU_RECEIPT_SIGNING_KEY``,
    or in development ``var/receipt-signing/ed25519.pem`` (created on first use)."""
    path, may_create = _key_path()
    with _key_lock:
        key = _keys.get(path)
        if key is not None:
            return key
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ImproperlyConfigured(f"{path} is not an Ed25519 private key")
            key = loaded
        elif may_create:
            key = write_signing_key(path)
        else:
            raise ImproperlyConfigured(f"{RECEIPT_KEY_ENV}: no key file at {path}")
        _keys[path] = key
        return key


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id(key: Ed25519PublicKey | None = None) -> str:
    raw = (key or public_key()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def canonical_json(document: Mapping[str, object]) -> str:
    """Sorted keys, no spaces, UTF-8 text (not ASCII escapes): the bytes that are signed."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify_signature(document: str | bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is the platform key's Ed25519 signature of ``document``."""
    data = document.encode("utf-8") if isinstance(document, str) else document
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key().verify(raw, data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ReceiptView:
    receipt_id: str
    organisation_name: str
    document: str
    signature: str
    key_id: str
    content: dict[str, Any]


@dataclass(frozen=True)
class ReceiptCheck:
    """``valid``: the stored document's signature verifies under the platform key.
    ``rule``: ``ok``, ``unknown_key`` (signed with another key) or ``signature``."""

    receipt_id: str
    valid: bool
    rule: str


def _receipt_view(r: SignedReceipt) -> ReceiptView:
    return ReceiptView(
        receipt_id=str(r.receipt_id),
        organisation_name=r.organisation.name,
        document=r.document,
        signature=r.signature,
        key_id=r.key_id,
        content=json.loads(r.document),
    )


def sign_receipt(ctx: AccessContext, result: VerificationResult, extra: Mapping[str, object]) -> ReceiptView:
    """Sign and store the receipt of ``result``: receipt id, time, organisation, decision and
    reason codes, released fields, and ``extra`` (the act and the party's role)."""
    document = {
        "version": 1,
        "receipt_id": result.receipt_id,
        "verified_at": result.verified_at.isoformat(),
        "organisation": {"id": ctx.actor.organisation_id, "name": ctx.actor.organisation_name},
        "verified_by": ctx.actor.label,
        "purpose": result.purpose,
        "mode": result.mode,
        "evidence_kind": result.evidence_kind,
        "decision": result.decision,
        "reasons": [r.code for r in result.reasons],
        "released": result.data or {},
        **extra,
    }
    organisation_id = _require_kind(ctx.actor, NOTARY_KINDS)
    text = canonical_json(document)
    key = signing_key()
    signature = base64.b64encode(key.sign(text.encode("utf-8"))).decode("ascii")
    stored = SignedReceipt.objects.create(
        receipt_id=result.receipt_id,
        organisation_id=organisation_id,
        document=text,
        signature=signature,
        key_id=key_id(key.public_key()),
    )
    return _receipt_view(stored)


def _receipt(actor: Actor, receipt_id: str) -> SignedReceipt:
    organisation_id = _require_kind(actor, NOTARY_KINDS)
    try:
        wanted = uuid.UUID(str(receipt_id))
    except ValueError:
        raise NotFound("no such receipt", field="receipt") from None
    found = (
        SignedReceipt.objects.select_related("organisation")
        .filter(receipt_id=wanted, organisation_id=organisation_id)
        .first()
    )
    if found is None:
        raise NotFound("no such receipt", field="receipt")
    return found


def receipt_of(actor: Actor, receipt_id: str) -> ReceiptView:
    """A signed receipt of the actor's organisation (``NotFound`` for another's)."""
    return _receipt_view(_receipt(actor, receipt_id))


def verify_receipt(actor: Actor, receipt_id: str) -> ReceiptCheck:
    """Check the stored receipt's signature against the platform's current public key."""
    r = _receipt(actor, receipt_id)
    if r.key_id != key_id():
        return ReceiptCheck(str(r.receipt_id), False, "unknown_key")
    ok = verify_signature(r.document, r.signature)
    return ReceiptCheck(str(r.receipt_id), ok, "ok" if ok else "signature")


# --------------------------------------------------------------------------- public receipt check
SIGNATURE_BYTES = 64  # Ed25519 (RFC 8032 §5.1.6)


@dataclass(frozen=True)
class PublicReceiptCheck:
    """What anyone holding a printed receipt learns from its reference and signature.

    ``genuine``: the platform issued a receipt with this reference and this very signature, and
    the stored document still verifies under the platform's key. ``rule``: ``ok``; ``not_found``
    (no receipt has this reference *and* this signature — the two are not told apart, so the
    check reveals nothing about references it is not shown with their signature); ``unknown_key``
    (signed with a key the platform no longer uses); ``altered`` (the stored document does not
    verify). ``key_id``: the key that signed the receipt (empty for ``not_found``). ``content``
    is the signed document — exactly what the printed receipt shows — and only when genuine."""

    receipt_id: str
    genuine: bool
    rule: str
    key_id: str
    content: dict[str, Any] | None


def _signature_bytes(signature: str) -> bytes:
    """The 64 signature bytes from base64 or base64url text (whitespace and line breaks, as a
    copy from paper has them, are ignored; padding optional)."""
    compact = "".join(str(signature).split())
    if not compact:
        raise DomainValidationError.single(
            "signature", "required", "enter the signature printed on the receipt"
        )
    if not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", compact) or len(compact) > 200:
        raise DomainValidationError.single(
            "signature", "format", "the signature is base64 text (letters, digits, + / or - _)"
        )
    standard = compact.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise DomainValidationError.single(
            "signature", "format", "the signature is not valid base64"
        ) from None
    if len(raw) != SIGNATURE_BYTES:
        raise DomainValidationError.single(
            "signature", "length", f"an Ed25519 signature has {SIGNATURE_BYTES} bytes, this one {len(raw)}"
        )
    return raw


def _receipt_uuid(receipt_id: str) -> uuid.UUID:
    text = "".join(str(receipt_id).split())
    if not text:
        raise DomainValidationError.single("receipt_id", "required", "enter the receipt's reference")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise DomainValidationError.single(
            "receipt_id", "format", "the reference is 32 hexadecimal digits in groups (8-4-4-4-12)"
        ) from None


# The public check answers anyone without log-in, so it is rate-limited twice (token buckets,
# ``dancu.ratelimit``): per client address, so that one client cannot walk through references,
# and for everyone together, so that many addresses cannot load the signing verifier without
# bound. Behind a reverse proxy, the proxy must pass the client's address as REMOTE_ADDR.
RECEIPT_CHECK_PER_ADDRESS = Rate(per_minute=30, burst=10)
RECEIPT_CHECK_OVERALL = Rate(per_minute=1200, burst=200)


def limit_receipt_checks(address: str) -> None:
    """Take a token for one public receipt check from ``address`` (REMOTE_ADDR); raises
    ``RateLimited`` (429 with ``Retry-After``) when this address, or everyone together, checked too
    often (:data:`RECEIPT_CHECK_PER_ADDRESS`, :data:`RECEIPT_CHECK_OVERALL`; the settings
    ``DANCU_RECEIPT_CHECK_PER_ADDRESS`` and ``DANCU_RECEIPT_CHECK_OVERALL`` may replace them)."""
    per_address = getattr(settings, "DANCU_RECEIPT_CHECK_PER_ADDRESS", RECEIPT_CHECK_PER_ADDRESS)
    overall = getattr(settings, "DANCU_RECEIPT_CHECK_OVERALL", RECEIPT_CHECK_OVERALL)
    take(f"receipt-check:address:{address or 'unknown'}", per_address)
    take("receipt-check:all", overall)


def check_receipt_publicly(receipt_id: str, signature: str) -> PublicReceiptCheck:
    """Is a printed receipt genuine and unaltered? For anyone, without log-in: the reference and
    the signature printed on it (typed, pasted or read from its QR code) must both be those of a
    receipt the platform signed, and that receipt's stored document must verify under the
    platform's Ed25519 key. Returns only the receipt's own content (what the paper shows);
    raises ``DomainValidationError`` (fields ``receipt_id``, ``signature``) for malformed input."""
    problems: list[FieldProblem] = []
    wanted: uuid.UUID | None = None
    raw = b""
    try:
        wanted = _receipt_uuid(receipt_id)
    except DomainValidationError as exc:
        problems += exc.problems
    try:
        raw = _signature_bytes(signature)
    except DomainValidationError as exc:
        problems += exc.problems
    if problems or wanted is None:
        raise DomainValidationError(problems)
    stored = SignedReceipt.objects.filter(receipt_id=wanted).first()
    if stored is None or not hmac.compare_digest(base64.b64decode(stored.signature), raw):
        return PublicReceiptCheck(str(wanted), False, "not_found", "", None)
    current = key_id()
    if stored.key_id != current:
        return PublicReceiptCheck(str(wanted), False, "unknown_key", stored.key_id, None)
    if not verify_signature(stored.document, stored.signature):
        return PublicReceiptCheck(str(wanted), False, "altered", current, None)
    return PublicReceiptCheck(str(wanted), True, "ok", current, json.loads(stored.document))


def receipt_check_query(receipt: ReceiptView) -> str:
    """The query string of the public check page for ``receipt`` (``r`` = reference, ``s`` =
    signature in base64url without padding), as its QR code carries it."""
    compact = base64.urlsafe_b64encode(base64.b64decode(receipt.signature)).decode("ascii").rstrip("=")
    return urlencode({"r": receipt.receipt_id, "s": compact})


# --------------------------------------------------------------------------- notary
@dataclass(frozen=True)
class PartyView:
    role: str
    receipt_id: str
    full_name: str
    id_number: str
    added_at: datetime


@dataclass(frozen=True)
class ActView:
    act_id: int
    reference: str
    act_type: str
    created_at: datetime
    parties: tuple[PartyView, ...]

    @property
    def complete(self) -> bool:
        """An act is ready to notarise once at least two parties are verified."""
        return len(self.parties) >= 2


@dataclass(frozen=True)
class PartyOutcome:
    result: VerificationResult
    receipt: ReceiptView
    party: PartyView | None


_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,39}$")


def _act_view(act: NotarisedAct) -> ActView:
    parties = tuple(
        PartyView(p.role, str(p.receipt.receipt_id), p.full_name, p.id_number, p.added_at)
        for p in act.parties.select_related("receipt").order_by("added_at", "id")
    )
    return ActView(act.pk, act.reference, act.act_type, act.created_at, parties)


def create_act(actor: Actor, reference: str, act_type: str) -> ActView:
    """Open an act (reference unique within the notary office)."""
    organisation_id = _require_kind(actor, NOTARY_KINDS)
    reference = reference.strip()
    if not _REFERENCE.match(reference):
        raise DomainValidationError.single(
            "reference", "format", "1–40 letters, digits, '.', '/', '_' or '-'"
        )
    if act_type not in NotarisedAct.ActType.values:
        raise DomainValidationError.single("act_type", "choice", f"unknown act type {act_type!r}")
    try:
        with transaction.atomic():
            act = NotarisedAct.objects.create(
                organisation_id=organisation_id,
                reference=reference,
                act_type=act_type,
                created_by=actor.label,
            )
    except IntegrityError:
        raise DomainValidationError.single(
            "reference", "unique", "an act with this reference exists"
        ) from None
    return _act_view(act)


def _act(actor: Actor, act_id: int) -> NotarisedAct:
    organisation_id = _require_kind(actor, NOTARY_KINDS)
    act = NotarisedAct.objects.filter(pk=act_id, organisation_id=organisation_id).first()
    if act is None:
        raise NotFound("no such act", field="act")
    return act


def act_of(actor: Actor, act_id: int) -> ActView:
    return _act_view(_act(actor, act_id))


def acts_of(actor: Actor, *, limit: int = 50) -> list[ActView]:
    organisation_id = _require_kind(actor, NOTARY_KINDS)
    return [_act_view(a) for a in NotarisedAct.objects.filter(organisation_id=organisation_id)[:limit]]


def verify_party(
    ctx: AccessContext, act_id: int, role: str, evidence: Evidence, *, at: datetime | None = None
) -> PartyOutcome:
    """Verify a party of an act (``data`` mode: the notary receives the permanent address and the
    card's number and issue date); sign the receipt whatever the decision; on a match add the
    party to the act. The same person cannot be added twice to one act."""
    act = _act(ctx.actor, act_id)
    role = check_text("role", role, max_length=60, required=True).strip()
    result = verify(ctx, evidence, mode="data", at=at)
    id_number = ""
    if result.matches:
        id_number = presented_id_number(evidence, on=timezone.localdate(result.verified_at))
        if act.parties.filter(id_number=id_number).exists():
            raise DomainValidationError.single("party", "unique", "this person is already a party of the act")
    receipt = sign_receipt(
        ctx,
        result,
        {
            "act": {"reference": act.reference, "type": act.act_type},
            "party_role": role,
            "id_number": id_number,
        },
    )
    party = None
    if result.matches and result.data is not None:
        stored = NotarisedParty.objects.create(
            act=act,
            role=role,
            receipt_id=SignedReceipt.objects.get(receipt_id=receipt.receipt_id).pk,
            id_number=id_number,
            full_name=str(result.data.get("full_name") or ""),
        )
        party = PartyView(
            stored.role, receipt.receipt_id, stored.full_name, stored.id_number, stored.added_at
        )
    return PartyOutcome(result, receipt, party)


# --------------------------------------------------------------------------- conditional businesses
LOST_CARD_REASONS = frozenset({"card_reported_lost"})


@dataclass(frozen=True)
class CustomerCheck:
    """A pawn shop's or security firm's check: the verification (name and date of birth only on a
    match) and whether the card presented was reported lost."""

    result: VerificationResult
    card_reported_lost: bool


def check_customer(ctx: AccessContext, evidence: Evidence, *, at: datetime | None = None) -> CustomerCheck:
    """Verify a customer of a business with security and order conditions (Decree 96/2016)."""
    _require_kind(ctx.actor, BUSINESS_KINDS)
    result = verify(ctx, evidence, mode="data", at=at)
    lost = any(r.code in LOST_CARD_REASONS for r in result.reasons)
    return CustomerCheck(result, lost)


def problems_text(problems: Sequence[FieldProblem]) -> str:
    return "; ".join(f"{p.field}: {p.message}" for p in problems)
