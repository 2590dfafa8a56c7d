"""Identity verification: is the person in front of an establishment who their document says?

``verify(ctx, evidence, mode=…)`` (Decree 69/2024/NĐ-CP on electronic identification and
authentication; Law on Identification 2023 Art. 9–10 and 21–28):

1. **Access.** The purpose must be ``identity.verification`` and the organisation's kind and the
   actor's role must grant it (``organisations.policy``). A request naming no purpose or an
   unknown one is refused (422) and a purpose that does not fit or is not granted is denied (403)
   — all recorded in the audit log. ``data`` mode also needs the organisation's kind in
   :data:`VERIFICATION_FIELDS`.
2. **Evidence.** A card QR (cross-checked by ``qr.parse_card_qr``), a TD1 MRZ (every check digit,
   the ID number in the optional data, ``mrz.parse_td1``), a chip read (passive authentication
   against the trust store, ICAO 9303 part 11 §5.1, then DG1 ↔ DG13 agreement) or data typed by
   staff. Evidence that fails is decided ``invalid_evidence`` with the precise reason — for a chip,
   the failing step of passive authentication.
3. **Registry.** ``registry.services.match_identity`` matches the claim (exact, then accent-,
   variant- and order-insensitive name score; date of birth; sex), checks the holder's life status
   and the card's status and expiry, and records the audit event the citizen sees.
4. **Answer.** ``yes_no`` mode: the decision, reason codes with fixed vi/en messages and the name
   score — no personal data. ``data`` mode, on a match only: exactly the fields the organisation's
   kind receives (:data:`VERIFICATION_FIELDS`; least data, Decree 13/2023/NĐ-CP Art. 3).
5. **Alert list.** On a ``match``, ``alerts.services.screen`` checks the person against the police
   alert list and records any hit for the police only (Decree 96/2016/NĐ-CP Art. 25–26; ADR 0007):
   the answer is the same whether or not the person is listed.
6. **Receipt.** Every decision is stored as a ``VerificationRecord`` with a receipt id. A
   ``request_id`` makes the call idempotent per organisation for :data:`IDEMPOTENCY_WINDOW`: a
   retry with the same request gets the stored answer (same receipt, no second audit event); the
   same id with another request is a conflict (409).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from django.db import IntegrityError, transaction
from django.utils import timezone

from dancu.blocks.alerts import services as alerts
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.purposes import PURPOSES, get_purpose
from dancu.blocks.identity.chip import (
    ChipData,
    PassiveAuthReport,
    Step,
    TrustStore,
    chip_active_authentication,
    passive_authentication,
)
from dancu.blocks.identity.models import ChipChallenge, VerificationRecord
from dancu.blocks.identity.mrz import MrzTD1, parse_mrz, parse_td1
from dancu.blocks.identity.qr import parse_card_qr
from dancu.blocks.identity.trust import configured_trust_store
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.idnumber import parse_id_number
from dancu.blocks.registry.matching import INVALID_EVIDENCE, MATCH, CardClaim, IdentityClaim, Reason
from dancu.blocks.registry.names import normalise_name
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem

VERIFY_PURPOSE = "identity.verification"
ACTION = "identity.verify"
IDEMPOTENCY_WINDOW = timedelta(hours=24)
Mode = Literal["yes_no", "data"]
MODES = ("yes_no", "data")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


# --------------------------------------------------------------------------- evidence
@dataclass(frozen=True)
class QrEvidence:
    """The text of the QR code printed on the card (as a scanner reads it)."""

    text: str


@dataclass(frozen=True)
class ChipEvidence:
    """The files an NFC reader read from the chip, base64: ``{"sod": …, "dg1": …, "dg13": …}``;
    for a chip that offers Active Authentication also the challenge the organisation was issued
    (:func:`issue_chip_challenge`) and the chip's answer to it, base64 (ICAO 9303 part 11 §6.1)."""

    files: Mapping[str, str]
    challenge_id: str = ""
    active_auth: str = ""


@dataclass(frozen=True)
class MrzEvidence:
    """The three lines of the card's machine-readable zone (TD1)."""

    text: str


@dataclass(frozen=True)
class TypedEvidence:
    """What staff typed from a card they hold. ``card_issued_on`` lets the card's status be checked."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str | None = None
    card_issued_on: date | None = None


Evidence = QrEvidence | ChipEvidence | MrzEvidence | TypedEvidence
_KINDS: dict[type, str] = {QrEvidence: "qr", ChipEvidence: "chip", MrzEvidence: "mrz", TypedEvidence: "typed"}


def card_mrz_evidence(text: str, *, on: date | None = None) -> MrzEvidence:
    """The TD1 MRZ of a Vietnamese card as an MRZ reader or a clerk gave it (three lines), checked
    before it is verified so that a desk can show the clerk what to correct: the format, every
    check digit (ICAO 9303 part 3 §4.9, part 5 §4.2.2), the 12-digit ID number in the optional
    data and its agreement with the date of birth and sex (:attr:`mrz.MrzTD1.id_number`).

    Raises ``DomainValidationError`` whose problems name the field (``mrz.line2.date_of_birth``)
    and the rule (``check_digit``, ``format``, ``characters``…). Returns the evidence with the
    lines normalised (line breaks, surrounding whitespace, upper case)."""
    parsed = parse_td1(text, reference=on)
    parsed.vn_date_of_birth  # noqa: B018 — checks the ID number of the optional data (raises)
    return MrzEvidence("\n".join(line.strip().upper() for line in text.strip().splitlines() if line.strip()))


# --------------------------------------------------------------------------- least data per organisation
# What ``data`` mode releases on a match, by the verifying organisation's kind. Registry fields
# (``registry.services.RELEASABLE_ON_VERIFICATION``) plus two that are not in the registry:
# ``face_available`` (the chip's DG2 portrait passed passive authentication, for a face check at a
# driving test) and ``health_insurance_number`` (a placeholder until the social-insurance database
# is connected, Law on Identification 2023 Art. 22: always null).
VERIFICATION_FIELDS: dict[str, frozenset[str]] = {
    # Notarisation records the party's identity document and address (Law on Notarisation 2024).
    "notary": frozenset(
        {"full_name", "date_of_birth", "sex", "permanent_address", "card_number", "card_issued_on"}
    ),
    # A pawn contract and a guard's client record need name and date of birth only (Decree 96/2016).
    "pawn_shop": frozenset({"full_name", "date_of_birth"}),
    "security_firm": frozenset({"full_name", "date_of_birth"}),
    "business": frozenset({"full_name", "date_of_birth"}),
    "clinic": frozenset({"full_name", "date_of_birth", "sex", "health_insurance_number"}),
    # The residence notification needs the guest's permanent address (Circular 55/2021/TT-BCA Art. 15);
    # its ward as a current code (the same place, no further fact) gives the stay's province of
    # origin for the anonymised statistics without parsing the text, which may name old units
    # (ADR 0018, fourth step).
    "hotel": frozenset(
        {"full_name", "date_of_birth", "sex", "nationality", "permanent_address", "permanent_ward_code"}
    ),
    "driving_school": frozenset({"full_name", "date_of_birth", "sex", "face_available"}),
    # A coach's passenger manifest (model 12) names each passenger (Circular 55/2021/TT-BCA Art. 15).
    "transport": frozenset({"full_name", "date_of_birth", "sex", "nationality"}),
}
_NOT_FROM_REGISTRY = frozenset({"face_available", "health_insurance_number"})

# Reasons the identity block gives (the registry's are in ``registry.matching.MESSAGES``).
_MESSAGES: dict[str, tuple[str, str]] = {
    "evidence_malformed": (
        "Giấy tờ không đọc được hoặc sai định dạng",
        "The evidence is unreadable or malformed",
    ),
    "evidence_unsupported": (
        "Loại giấy tờ này không xác thực được với Cơ sở dữ liệu quốc gia về dân cư",
        "This kind of document cannot be verified against the national population database",
    ),
    "chip_data_altered": (
        "Dữ liệu chip đã bị thay đổi hoặc không thuộc chip này",
        "The chip data was altered or comes from another chip",
    ),
    "chip_signer_untrusted": (
        "Dữ liệu chip không được ký bởi cơ quan cấp thẻ được tin cậy",
        "The chip data is not signed under a trusted country signing CA",
    ),
    "chip_certificate_expired": (
        "Chứng thư ký dữ liệu chip hết hạn hoặc chưa có hiệu lực",
        "A certificate of the chip's signature is expired or not yet valid",
    ),
    "chip_signature_invalid": (
        "Chữ ký số trên dữ liệu chip không hợp lệ",
        "The digital signature over the chip data is not valid",
    ),
    "chip_authentication_failed": (
        "Xác thực thụ động chip không thành công",
        "Passive authentication of the chip failed",
    ),
    "chip_data_inconsistent": (
        "Dữ liệu trong chip không thống nhất (DG1 và DG13)",
        "The chip's data groups disagree (DG1 and DG13)",
    ),
    "chip_active_authentication_failed": (
        "Xác thực chủ động chip không thành công (chip có thể là bản sao)",
        "Active authentication of the chip failed (the chip may be a clone)",
    ),
}


def _reason(code: str, *, field: str = "", detail: str = "") -> Reason:
    vi, en = _MESSAGES[code]
    return Reason(code, vi, en, field, detail)


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class VerificationResult:
    """The answer to a verification. ``data`` is None in ``yes_no`` mode and on any decision but
    ``match``; in ``data`` mode it holds exactly the organisation's fields, JSON-ready (dates as ISO
    8601 text, to the precision the registry knows: ``1950`` for a year of birth only).
    ``replayed``: this is the stored answer to an earlier request with the same ``request_id``."""

    receipt_id: str
    verified_at: datetime
    purpose: str
    mode: str
    evidence_kind: str
    decision: str
    reasons: tuple[Reason, ...]
    name_score: float | None
    data: dict[str, object] | None
    replayed: bool = False

    @property
    def matches(self) -> bool:
        return self.decision == MATCH


@dataclass(frozen=True)
class _Checked:
    """What the evidence says, once checked: a claim, or the reasons it is not acceptable."""

    claim: IdentityClaim | None
    reasons: tuple[Reason, ...] = ()
    face_available: bool = False


# --------------------------------------------------------------------------- the service
def verify(
    ctx: AccessContext,
    evidence: Evidence,
    *,
    mode: str = "yes_no",
    at: datetime | None = None,
    request_id: str | None = None,
    api_key_id: int | None = None,
    trust_store: TrustStore | None = None,
) -> VerificationResult:
    """Verify ``evidence`` for ``ctx`` (see the module docstring for every step).

    Raises ``DomainValidationError`` (422: no or unknown purpose, bad mode or request id, a naive
    ``at``), ``AccessDenied`` (403: purpose not fitting or not granted; ``data`` mode for an
    organisation that receives no data) and ``Conflict`` (409: ``request_id`` reused with another
    request). Every refusal and denial is audited. ``trust_store`` defaults to the configured one
    (``identity.trust``); ``at`` (aware, default now) is the time of verification.
    """
    kind = _KINDS.get(type(evidence))
    if kind is None:
        raise DomainValidationError.single(
            "evidence", "kind", "must be a card QR, a chip read, an MRZ or typed"
        )
    if mode not in MODES:
        raise DomainValidationError.single("mode", "choice", "must be yes_no or data")
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        raise DomainValidationError.single("at", "timezone", "the verification time must be timezone-aware")
    _authorise(ctx, kind, mode)
    fingerprint = ""
    if request_id is not None:
        if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
            raise DomainValidationError.single(
                "request_id", "format", "1–64 characters: letters, digits, '.', '_', ':' or '-'"
            )
        fingerprint = _fingerprint(ctx, evidence, kind, mode)
        earlier = _earlier(ctx, request_id, fingerprint, moment)
        if earlier is not None:
            return earlier

    receipt_id = str(uuid.uuid4())
    day = timezone.localdate(moment)
    checked = _check_evidence(
        evidence, moment, day, trust_store or configured_trust_store(), ctx.actor.organisation_id
    )
    try:
        with transaction.atomic():
            result, subject_id = _decide(ctx, kind, mode, checked, receipt_id, moment, day)
            VerificationRecord.objects.create(
                receipt_id=receipt_id,
                organisation_id=ctx.actor.organisation_id,
                organisation_name=ctx.actor.organisation_name,
                actor_user_id=ctx.actor.user_id,
                actor_label=ctx.actor.label,
                api_key_id=api_key_id,
                purpose=ctx.purpose,
                case_reference=ctx.case_reference,
                evidence_kind=kind,
                mode=mode,
                decision=result.decision,
                reason_codes=[r.code for r in result.reasons],
                name_score=result.name_score,
                subject_citizen_id=subject_id,
                request_id=request_id or "",
                request_sha256=fingerprint,
                response=_to_json(result) if request_id is not None else {},  # kept for replays only
            )
            if result.decision == MATCH and subject_id is not None:
                # The police alert list (ADR 0007): records a hit for the police, returns nothing.
                alerts.screen(ctx, subject_id, event=ACTION, receipt_id=receipt_id, at=moment)
    except IntegrityError:
        # A concurrent call with the same request id committed first: its audit event and receipt
        # stand; ours were rolled back with this transaction.
        earlier = _earlier(ctx, request_id, fingerprint, timezone.now()) if request_id is not None else None
        if earlier is None:
            raise
        return earlier
    return result


def _decide(
    ctx: AccessContext,
    kind: str,
    mode: str,
    checked: _Checked,
    receipt_id: str,
    moment: datetime,
    day: date,
) -> tuple[VerificationResult, int | None]:
    """Ask the registry (which records the audit event), or record the invalid evidence; returns
    the result and the citizen concerned (None: invalid evidence or an unknown number)."""
    if checked.claim is None:
        audit.record(
            ctx,
            ACTION,
            result=AuditEvent.Result.INVALID,
            detail={
                "mode": mode,
                "evidence": kind,
                "decision": INVALID_EVIDENCE,
                "reasons": [r.code for r in checked.reasons],
                "checks": [r.field for r in checked.reasons if r.field],
                "receipt": receipt_id,
            },
        )
        invalid = VerificationResult(
            receipt_id, moment, ctx.purpose, mode, kind, INVALID_EVIDENCE, checked.reasons, None, None
        )
        return invalid, None
    wanted = (
        VERIFICATION_FIELDS.get(ctx.actor.organisation_kind, frozenset()) if mode == "data" else frozenset()
    )
    release = set(wanted - _NOT_FROM_REGISTRY)
    if "date_of_birth" in release:
        release.add("dob_precision")  # to write the date to the precision the registry knows
    match = registry.match_identity(
        ctx,
        checked.claim,
        evidence_kind=kind,
        mode=mode,
        release=frozenset(release),
        receipt_id=receipt_id,
        on=day,
    )
    data = None
    if mode == "data" and match.decision == MATCH:
        data = _data(wanted, match.released, checked.face_available)
    result = VerificationResult(
        receipt_id, moment, ctx.purpose, mode, kind, match.decision, match.reasons, match.name_score, data
    )
    return result, match.citizen_id


def _data(wanted: frozenset[str], released: Mapping[str, object], face_available: bool) -> dict[str, object]:
    """Exactly the ``wanted`` fields, JSON-ready."""
    out: dict[str, object] = {}
    for name in sorted(wanted):
        if name == "face_available":
            out[name] = face_available
        elif name == "health_insurance_number":
            out[name] = None  # placeholder: the social-insurance database is not connected yet
        elif name == "date_of_birth":
            out[name] = _partial_date(
                released.get("date_of_birth"), str(released.get("dob_precision", "day"))
            )
        else:
            value = released.get(name)
            out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def _partial_date(value: object, precision: str) -> str | None:
    """ISO 8601 to the known precision: ``1985-03-02``, ``1985-03`` or ``1985``."""
    if not isinstance(value, date):
        return None
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


# --------------------------------------------------------------------------- access
def _authorise(ctx: AccessContext, kind: str, mode: str) -> None:
    """Refuse (422) a missing or unknown purpose, deny (403) a purpose that does not fit, is not
    granted, or asks for data the organisation does not receive — recording each."""
    detail: dict[str, object] = {"mode": mode, "evidence": kind}
    if not ctx.purpose or ctx.purpose not in PURPOSES:
        audit.record_refusal(
            ctx, ACTION, detail={**detail, "reason": "unknown_purpose" if ctx.purpose else "no_purpose"}
        )
        if not ctx.purpose:
            raise DomainValidationError.single(
                "purpose", "required", f"name the purpose of the verification: {VERIFY_PURPOSE}"
            )
        get_purpose(ctx.purpose)  # raises the validation error naming the known codes
    if ctx.purpose != VERIFY_PURPOSE:
        audit.record(ctx, ACTION, result=AuditEvent.Result.DENIED, detail={**detail, "reason": "purpose"})
        raise AccessDenied(
            f"purpose {ctx.purpose!r} does not allow identity verification; use {VERIFY_PURPOSE}"
        )
    if not ctx.actor.may(ctx.purpose):
        audit.record(ctx, ACTION, result=AuditEvent.Result.DENIED, detail={**detail, "reason": "policy"})
        raise AccessDenied(f"your organisation or role may not use purpose {VERIFY_PURPOSE!r}")
    if mode == "data" and ctx.actor.organisation_kind not in VERIFICATION_FIELDS:
        audit.record(ctx, ACTION, result=AuditEvent.Result.DENIED, detail={**detail, "reason": "fields"})
        raise AccessDenied(
            "your organisation receives no data from a verification; use mode yes_no",
            field="mode",
            rule="fields",
        )


# --------------------------------------------------------------------------- idempotency
def _fingerprint(ctx: AccessContext, evidence: Evidence, kind: str, mode: str) -> str:
    """SHA-256 of the request as it matters: purpose, case reference, mode and the evidence."""
    # A QR's one field is read directly: ``asdict`` deep-copies, and this runs on every request of
    # the verification's hot route (ADR 0014); the dictionary is the same.
    fields = {"text": evidence.text} if type(evidence) is QrEvidence else asdict(evidence)
    body = {
        "purpose": ctx.purpose,
        "case_reference": ctx.case_reference,
        "mode": mode,
        "evidence": {"kind": kind, **fields},
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _earlier(
    ctx: AccessContext, request_id: str, fingerprint: str, now: datetime
) -> VerificationResult | None:
    """The stored answer to this request id of the organisation, or None when there is none in the
    window (an older one is released: its id freed, its stored answer emptied). Raises ``Conflict``
    when the id was used for another request."""
    record = VerificationRecord.objects.filter(
        organisation_id=ctx.actor.organisation_id, request_id=request_id
    ).first()
    if record is None:
        return None
    if record.created_at < now - IDEMPOTENCY_WINDOW:
        VerificationRecord.objects.filter(pk=record.pk).update(request_id="", request_sha256="", response={})
        return None
    if record.request_sha256 != fingerprint:
        raise Conflict(
            f"request_id {request_id!r} was used for another request in the last 24 hours "
            f"(receipt {record.receipt_id}); send a new request_id",
            field="request_id",
            rule="idempotency_conflict",
        )
    return _from_json(record.response, replayed=True)


def purge_replay_data(*, now: datetime | None = None) -> int:
    """After the idempotency window, drop the stored answers (a ``data``-mode answer holds released
    personal data) and free the request ids; the receipts keep decision, reasons and score. Run it
    periodically (``verify`` also frees an expired id it meets); returns the receipts purged."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_WINDOW
    return (
        VerificationRecord.objects.filter(created_at__lt=cutoff)
        .exclude(request_id="")
        .update(request_id="", request_sha256="", response={})
    )


def _to_json(result: VerificationResult) -> dict[str, object]:
    return {
        "receipt_id": result.receipt_id,
        "verified_at": result.verified_at.isoformat(),
        "purpose": result.purpose,
        "mode": result.mode,
        "evidence_kind": result.evidence_kind,
        "decision": result.decision,
        "reasons": [asdict(r) for r in result.reasons],
        "name_score": result.name_score,
        "data": result.data,
    }


def _from_json(stored: Mapping[str, object], *, replayed: bool) -> VerificationResult:
    reasons = stored.get("reasons")
    score = stored.get("name_score")
    data = stored.get("data")
    return VerificationResult(
        receipt_id=str(stored["receipt_id"]),
        verified_at=datetime.fromisoformat(str(stored["verified_at"])),
        purpose=str(stored["purpose"]),
        mode=str(stored["mode"]),
        evidence_kind=str(stored["evidence_kind"]),
        decision=str(stored["decision"]),
        reasons=tuple(Reason(**r) for r in reasons) if isinstance(reasons, list) else (),
        name_score=float(score) if isinstance(score, int | float) else None,
        data=dict(data) if isinstance(data, dict) else None,
        replayed=replayed,
    )


# --------------------------------------------------------------------------- chip challenges
CHIP_CHALLENGE_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class ChipChallengeIssued:
    """A one-time Active Authentication challenge: give ``challenge`` (16 hexadecimal digits) to
    the reader, which has the chip sign it, and send ``challenge_id`` with the chip read."""

    challenge_id: str
    challenge: str
    expires_at: datetime


def issue_chip_challenge(ctx: AccessContext, *, at: datetime | None = None) -> ChipChallengeIssued:
    """8 random bytes for the organisation's next chip read (ICAO 9303 part 11 §6.1: the terminal's
    RND.IFD). Kept until one verification of the same organisation names it, at most
    :data:`CHIP_CHALLENGE_TTL`; expired ones are purged here. Needs an organisation (the API key's,
    or the staff member's); reads and records no personal data."""
    if ctx.actor.organisation_id is None:
        raise AccessDenied("a chip challenge is issued to an organisation", field="organisation")
    moment = at or timezone.now()
    ChipChallenge.objects.filter(created_at__lt=moment - CHIP_CHALLENGE_TTL).delete()
    nonce = secrets.token_bytes(8)
    row = ChipChallenge.objects.create(
        challenge_id=secrets.token_hex(16),
        nonce=nonce,
        organisation_id=ctx.actor.organisation_id,
        created_at=moment,
    )
    return ChipChallengeIssued(row.challenge_id, nonce.hex(), moment + CHIP_CHALLENGE_TTL)


def _take_chip_challenge(challenge_id: str, organisation_id: int | None, moment: datetime) -> bytes | None:
    """The challenge's 8 bytes, taken away (used once): ``None`` when it is unknown, another
    organisation's, already used or expired. The row is locked and deleted in one transaction,
    so two verifications naming it cannot both get it."""
    if organisation_id is None or len(challenge_id) > 32:
        return None
    with transaction.atomic():
        row = (
            ChipChallenge.objects.select_for_update()
            .filter(challenge_id=challenge_id, organisation_id=organisation_id)
            .first()
        )
        if row is None:
            return None
        row.delete()
    if row.created_at < moment - CHIP_CHALLENGE_TTL:
        return None
    return bytes(row.nonce)


# --------------------------------------------------------------------------- evidence checks
def _check_evidence(
    evidence: Evidence, moment: datetime, day: date, store: TrustStore, organisation_id: int | None = None
) -> _Checked:
    if isinstance(evidence, QrEvidence):
        return _check_qr(evidence.text, day)
    if isinstance(evidence, MrzEvidence):
        return _check_mrz(evidence.text, day)
    if isinstance(evidence, ChipEvidence):
        return _check_chip(evidence.files, moment, day, store, evidence, organisation_id)
    return _check_typed(evidence, day)


def _malformed(problems: list[FieldProblem], prefix: str = "") -> _Checked:
    """Invalid evidence: one reason per problem, naming the field and the rule (not the value).
    A field name can echo a key the client sent (an unknown chip file): only its printable
    characters are kept, since it is stored in the receipt and the audit detail."""
    return _Checked(
        None,
        tuple(
            _reason("evidence_malformed", field=_printable(prefix + p.field), detail=_printable(p.rule))
            for p in problems
        ),
    )


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())[:80]


def _check_qr(text: str, day: date) -> _Checked:
    """The card QR: every field and cross-check of ``qr.parse_card_qr`` (Circular 06/2021/TT-BCA,
    16/2024/TT-BCA); the card is identified by its number and issue date."""
    try:
        card = parse_card_qr(text, reference=day)
    except DomainValidationError as exc:
        return _malformed(exc.problems)
    return _Checked(
        IdentityClaim(
            id_number=card.id_number,
            full_name=card.full_name,
            date_of_birth=card.date_of_birth,
            sex=card.sex,
            old_id_number=card.old_id_number,
            card=CardClaim(issued_on=card.issue_date),
        )
    )


def _check_mrz(text: str, day: date) -> _Checked:
    """A TD1 MRZ (ICAO 9303 part 5): check digits, the Vietnamese ID number in the optional data,
    its agreement with the date of birth and sex; the card is identified by its expiry date. A
    passport (TD3) carries no ID number the registry knows: unsupported."""
    try:
        parsed = parse_mrz(text, reference=day)
    except DomainValidationError as exc:
        return _malformed(exc.problems)
    if not isinstance(parsed, MrzTD1):
        return _Checked(None, (_reason("evidence_unsupported", field="mrz", detail="TD3 passport"),))
    return _claim_from_td1(parsed)


def _claim_from_td1(parsed: MrzTD1) -> _Checked:
    try:
        id_number = parsed.id_number
        born = parsed.vn_date_of_birth
    except DomainValidationError as exc:
        return _malformed(exc.problems)
    name = " ".join(p for p in (parsed.primary_identifier, parsed.secondary_identifier) if p)
    name_field = parsed.lines[2]
    return _Checked(
        IdentityClaim(
            id_number=id_number,
            full_name=name,
            date_of_birth=born,
            sex=parsed.sex if parsed.sex in ("M", "F") else None,
            card=CardClaim(expires_on=parsed.date_of_expiry, expiry_known=True),
            name_may_be_truncated=not name_field.endswith("<"),  # the name filled the field
        )
    )


_CHIP_REASONS = (
    ("dg.present", "chip_authentication_failed"),
    ("dg", "chip_data_altered"),  # dg<N>.hash; dg<N>.parse is caught first by its own suffix below
    ("ds.issuer", "chip_signer_untrusted"),
    ("ds.chain_signature", "chip_signer_untrusted"),
    ("ds.validity", "chip_certificate_expired"),
    ("csca.validity", "chip_certificate_expired"),
    ("sod.signature", "chip_signature_invalid"),
    ("sod.signed_attributes", "chip_signature_invalid"),
)


def _chip_reason(step: Step) -> Reason:
    """The reason for a failed step of passive authentication, naming the step and its detail."""
    code = "chip_authentication_failed"
    if not step.name.endswith(".parse"):
        code = next((c for prefix, c in _CHIP_REASONS if step.name.startswith(prefix)), code)
    return _reason(code, field=step.name, detail=step.detail)


def _check_chip(
    files: Mapping[str, str],
    moment: datetime,
    day: date,
    store: TrustStore,
    evidence: ChipEvidence | None = None,
    organisation_id: int | None = None,
) -> _Checked:
    """Passive authentication (ICAO 9303 part 11 §5.1) against the trust store at ``moment``; each
    failed step is a reason. Then, when the caller asked for Active Authentication (named a
    challenge or sent an answer) and the chip offers it (its SOD lists DG15, part 11 §6.1), the
    chip's answer to the organisation's one-time challenge must verify
    (``chip_active_authentication``; a chip whose signed files were copied onto another chip
    fails here); a named challenge is used up whatever the outcome. Then DG1's MRZ must agree
    with DG13 (number, birth, sex, expiry)."""
    if not isinstance(files, Mapping):
        return _malformed([FieldProblem("files", "type", "must be an object of base64 strings")], "chip.")
    try:
        chip = ChipData.from_dict(files)
    except DomainValidationError as exc:
        return _malformed(exc.problems, "chip.")
    challenge_id = evidence.challenge_id if evidence is not None else ""
    answer_text = evidence.active_auth if evidence is not None else ""
    answer: bytes | None = None
    if answer_text:
        try:
            answer = base64.b64decode("".join(answer_text.split()), validate=True)
        except (binascii.Error, ValueError):
            return _malformed([FieldProblem("active_auth", "base64", "is not valid base64")], "chip.")
    challenge = _take_chip_challenge(challenge_id, organisation_id, moment) if challenge_id else None
    report = passive_authentication(chip, store, at=moment)
    if not report.ok:
        return _Checked(None, _failed_steps(report))
    # Active Authentication is the caller's choice (issue 3: "optional … where present"): asked
    # for by naming a challenge or sending an answer, and then enforced. The platform's desks and
    # kiosks that read chips ask (each page shows a new challenge, ADR 0017 §14, §16); the
    # residence API's guest chip reads (hotels' systems) do not yet.
    asked = bool(challenge_id or answer_text)
    active = chip_active_authentication(chip, report, challenge, answer) if asked else None
    if active is not None and not active.ok:
        if challenge_id and challenge is None:
            detail = "the challenge is unknown, used, expired or another organisation's: ask for a new one"
            return _Checked(
                None, (_reason("chip_active_authentication_failed", field="challenge_id", detail=detail),)
            )
        return _Checked(
            None,
            tuple(
                _reason("chip_active_authentication_failed", field=s.name, detail=s.detail)
                for s in active.failures
            ),
        )
    dg13 = report.dg13
    if dg13 is None:  # cannot happen once DG13 is mandatory and verified; kept as a guard
        return _Checked(
            None, (_reason("chip_authentication_failed", field="dg13.parse", detail="DG13 not read"),)
        )
    if report.mrz_lines is not None:
        try:
            td1 = parse_td1("\n".join(report.mrz_lines), reference=day)
            disagree = [
                name
                for name, ok in (
                    ("id_number", td1.id_number == dg13.id_number),
                    ("date_of_birth", td1.vn_date_of_birth == dg13.date_of_birth),
                    ("sex", td1.sex == dg13.sex),
                    ("expiry_date", td1.date_of_expiry == dg13.expiry_date),
                )
                if not ok
            ]
        except DomainValidationError as exc:
            return _malformed(exc.problems, "chip.dg1.")
        if disagree:
            return _Checked(
                None,
                tuple(
                    _reason("chip_data_inconsistent", field=f"dg1.{name}", detail="differs from DG13")
                    for name in disagree
                ),
            )
    return _Checked(
        IdentityClaim(
            id_number=dg13.id_number,
            full_name=dg13.full_name,
            date_of_birth=dg13.date_of_birth,
            sex=dg13.sex if dg13.sex in ("M", "F") else None,
            old_id_number=dg13.old_id_number,
            card=CardClaim(issued_on=dg13.issue_date, expires_on=dg13.expiry_date, expiry_known=True),
        ),
        face_available=report.face is not None,
    )


def _failed_steps(report: PassiveAuthReport) -> tuple[Reason, ...]:
    failures = report.failures
    if failures:
        return tuple(_chip_reason(step) for step in failures)
    ran = {s.name for s in report.steps}
    missing = [name for name in report.required_steps if name not in ran]
    return tuple(
        _reason("chip_authentication_failed", field=name, detail="this step could not run")
        for name in missing[:1]
    )


def _check_typed(evidence: TypedEvidence, day: date) -> _Checked:
    """Typed by staff from a card they hold: the number's structure, a valid name, a date of birth
    not in the future, sex M/F if given, a card issue date not in the future."""
    problems: list[FieldProblem] = []
    try:
        parse_id_number(evidence.id_number)
    except DomainValidationError as exc:
        problems += exc.problems
    name = ""
    try:
        name = normalise_name(evidence.full_name)
    except DomainValidationError as exc:
        problems += exc.problems
    if not isinstance(evidence.date_of_birth, date) or evidence.date_of_birth > day:
        problems.append(FieldProblem("date_of_birth", "date", "must be a date not in the future"))
    if evidence.sex is not None and evidence.sex not in ("M", "F"):
        problems.append(FieldProblem("sex", "choice", "must be M (Nam) or F (Nữ)"))
    issued = evidence.card_issued_on
    if issued is not None and (not isinstance(issued, date) or issued > day):
        problems.append(FieldProblem("card_issued_on", "date", "must be a date not in the future"))
    if problems:
        return _malformed(problems, "typed.")
    return _Checked(
        IdentityClaim(
            id_number=evidence.id_number,
            full_name=name,
            date_of_birth=evidence.date_of_birth,
            sex=evidence.sex,
            card=CardClaim(issued_on=issued) if issued is not None else None,
        )
    )
