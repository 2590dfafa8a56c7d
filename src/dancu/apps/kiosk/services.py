"""The self-service kiosk of a one-stop office (Decision 06/QĐ-TTg, model 2).

* **Devices.** A kiosk is registered for one office — a ward police station or people's committee —
  and presents its device key (``ok_<prefix>_<secret>``, ``organisations.tokens``; shown once, only
  the SHA-256 of the secret stored). Revoked keys, inactive offices: refused.
* **Identification, no typing.** The citizen presents the card: its QR code (the kiosk's scanner
  or camera) or its chip (the reader; passive authentication, ICAO 9303 part 11 §5.1). The
  identity block's ``verify`` decides (``yes_no`` mode, purpose ``identity.verification``) and
  writes the audit event and the verification record; the kiosk is named in the actor. No name,
  date or number is ever typed.
* **Assurance.** A QR code proves that the printed data match the registry — not that the person
  holds the card (a photo of someone's card produces the same QR) nor that the chip is genuine.
  So after a QR, nothing personal is shown and nothing submitted until the person proves
  possession of the holder's eID account: a one-time code sent to the account's verified phone
  (``eid.possession``), typed on the kiosk's keypad (a code, not personal data). A chip read
  that passed passive authentication proves the genuine card is on the reader: no code. Services
  needing eID level 2 (``Service.level >= 2``) are offered only after a chip read.
* **Dossiers** are submitted through the public services' own functions
  (``public_services.services.submit``) on the citizen's eID account, so prefilling, validation,
  the deadline, the once-only rule, idempotency and notifications are exactly the portal's; this
  dossier's channel is ``kiosk``; this module records the device and office (``KioskSubmission``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dancu.apps.desks.services import KioskRejected, presented_id_number
from dancu.apps.kiosk.models import KioskSubmission, OfficeKiosk
from dancu.apps.public_services import catalogue
from dancu.apps.public_services import services as dossiers
from dancu.apps.public_services.catalogue import Service
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.eid import possession
from dancu.blocks.eid import services as eid
from dancu.blocks.identity.services import (
    VERIFY_PURPOSE,
    ChipChallengeIssued,
    ChipEvidence,
    Evidence,
    QrEvidence,
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
from dancu.blocks.organisations.policy import KIOSK
from dancu.blocks.organisations.services import machine_actor
from dancu.blocks.registry.matching import Reason
from dancu.errors import DomainValidationError, NotFound

KIOSK_TAG = "ok"
OFFICE_KINDS = frozenset({catalogue.POLICE, catalogue.COMMITTEE})
# The four kiosk services of model 2, by catalogue code; the kiosk shows those the catalogue marks
# implemented (``available_services``).
KIOSK_SERVICES: tuple[str, ...] = (
    "cmnd-confirmation",
    "eid-level2",
    "residence-notification",
    "card-reissue",
)
EVIDENCE_KINDS = {QrEvidence: "qr", ChipEvidence: "chip"}
CHANNEL = "kiosk"  # ``Dossier.Channel.KIOSK`` of the public services
# How the person proved they are the holder: the chip (passive authentication) or, after a QR,
# the one-time code sent to the eID account's verified phone.
POSSESSION_CHIP = "chip"
POSSESSION_SMS = possession.FACTOR
CODE_ATTEMPTS = 3  # wrong codes before the kiosk session is locked (wiped)


# --------------------------------------------------------------------------- devices
@dataclass(frozen=True)
class Device:
    device_id: int
    prefix: str
    name: str
    organisation_id: int
    organisation_name: str
    actor: Actor


def _office(organisation: Organisation) -> None:
    if organisation.kind not in OFFICE_KINDS:
        raise DomainValidationError.single(
            "organisation", "kind", "kiosks are placed in ward police stations and people's committees"
        )
    if not organisation.active:
        raise DomainValidationError.single("organisation", "inactive", "the organisation is not active")


def register_kiosk(organisation_code: str, name: str, *, created_by: str = "") -> IssuedDevice:
    """Register a kiosk of the office ``organisation_code``; its key is returned once."""
    return register_device(
        OfficeKiosk, KIOSK_TAG, organisation_code, name, check_organisation=_office, created_by=created_by
    )


def reissue_key(device_id: int, *, issued_by: str = "") -> IssuedDevice:
    """A new key (new prefix and secret: the old key stops at once); un-revokes the device."""
    return reissue_device_key(
        OfficeKiosk, KIOSK_TAG, device_id, check_organisation=_office, issued_by=issued_by
    )


def revoke(prefix: str, *, now: datetime | None = None) -> bool:
    return revoke_device(OfficeKiosk, prefix, now=now)


def kiosk_actor(device: OfficeKiosk) -> Actor:
    """The device acting for its office, with the purposes the policy gives a kiosk of its kind
    (``organisations.policy``, role ``kiosk``: identity verification of the person in front of
    it); the registry reads for a dossier are the citizen's own (``portal_actor``)."""
    return machine_actor(device.organisation, f"Ki-ốt {device.prefix} ({device.name})", KIOSK)


def authenticate(key: str | None, *, now: datetime | None = None) -> Device:
    """The kiosk presenting ``key`` (constant-time comparison), or ``KioskRejected``."""
    device: OfficeKiosk = authenticate_device(
        OfficeKiosk,
        KIOSK_TAG,
        key,
        kinds=OFFICE_KINDS,
        rejected=KioskRejected,
        inactive_message="The kiosk's office is not active.",
        now=now,
    )
    org = device.organisation
    return Device(device.pk, device.prefix, device.name, org.pk, org.name, kiosk_actor(device))


# --------------------------------------------------------------------------- identification
@dataclass(frozen=True)
class Identification:
    """Who stands at the kiosk: their eID account (``user_id``), how they proved it, and the
    verification's receipt. ``user_id`` is None when the card matched but the holder has no active
    eID account (the kiosk then says where to register). ``possession``: how the person proved
    they hold the account — ``chip`` (passive authentication), ``sms`` (the code after a QR), or
    empty (a QR alone: nothing may be shown or submitted yet)."""

    matched: bool
    evidence_kind: str
    receipt_id: str
    user_id: int | None = None
    reasons: tuple[Reason, ...] = ()
    possession: str = ""


def identify(device: Device, evidence: Evidence, *, at: datetime | None = None) -> Identification:
    """Identify the citizen by the card they present (QR or chip only: nothing typed)."""
    kind = EVIDENCE_KINDS.get(type(evidence))
    if kind is None:
        raise DomainValidationError.single("evidence", "kind", "the kiosk reads the card's QR code or chip")
    ctx = AccessContext(device.actor, VERIFY_PURPOSE, case_reference=f"kiosk:{device.prefix}")
    result = verify(ctx, evidence, mode="yes_no", at=at)
    if not result.matches:
        return Identification(False, kind, result.receipt_id, reasons=result.reasons)
    id_number = presented_id_number(evidence, on=timezone.localdate(result.verified_at))
    proved = POSSESSION_CHIP if kind == "chip" else ""  # the chip passed passive authentication
    return Identification(
        True, kind, result.receipt_id, user_id=eid.user_of_id_number(id_number), possession=proved
    )


def chip_challenge(device: Device) -> ChipChallengeIssued:
    """The one-time Active Authentication challenge for the next chip read at this kiosk (ICAO 9303
    part 11 §6.1; ADR 0017 §16): a chip read opens level-2 services here, so a card whose chip
    offers AA must answer it — a clone of its signed files cannot."""
    return issue_chip_challenge(
        AccessContext(device.actor, VERIFY_PURPOSE, case_reference=f"kiosk:{device.prefix}")
    )


class PossessionNotProved(Exception):
    """A QR identification without the code: no personal data, no submission (ADR 0013, 3)."""


def require_possession(identification: Identification) -> int:
    """The account id, once the person proved they hold it; else ``PossessionNotProved``."""
    if identification.user_id is None:
        raise NotFound("no active eID account", field="account")
    if identification.possession not in (POSSESSION_CHIP, POSSESSION_SMS):
        raise PossessionNotProved("a QR code needs the one-time code sent to the account's phone")
    return identification.user_id


def _where(device: Device) -> str:
    return f"kiosk:{device.prefix}"


def has_verified_phone(identification: Identification) -> bool:
    return identification.user_id is not None and possession.has_verified_phone(identification.user_id)


def send_code(device: Device, identification: Identification, *, bind: str) -> possession.CodeSent:
    """Send the one-time code for this kiosk session (``bind``: its challenge, which names the
    device) to the holder's verified phone (``eid.possession.send``: throttled, audited)."""
    if identification.user_id is None:
        raise NotFound("no active eID account", field="account")
    return possession.send(
        identification.user_id, bind=bind, where=_where(device), verification=identification.receipt_id
    )


def check_code(device: Device, identification: Identification, code: str, *, bind: str) -> Identification:
    """The identification with ``possession="sms"`` when ``code`` is the live code of this session;
    else ``DomainValidationError`` on the field ``code`` (wrong, expired, or of another session)."""
    if identification.user_id is None:
        raise NotFound("no active eID account", field="account")
    digits = code.strip()
    if not (len(digits) == 6 and digits.isdigit()):
        raise DomainValidationError.single("code", "format", "the code has 6 digits")
    ok = possession.check(
        identification.user_id,
        digits,
        bind=bind,
        where=_where(device),
        verification=identification.receipt_id,
    )
    if not ok:
        raise DomainValidationError.single("code", "mismatch", "the code is wrong or has expired")
    return dataclasses.replace(identification, possession=POSSESSION_SMS)


def lock(device: Device, identification: Identification) -> None:
    """Too many wrong codes: the live code ends (the caller wipes the session)."""
    if identification.user_id is not None:
        possession.void(identification.user_id, where=_where(device), verification=identification.receipt_id)


# --------------------------------------------------------------------------- services
@dataclass(frozen=True)
class Offered:
    service: Service
    usable: bool  # False: needs a chip read (eID level 2) and the card was read by QR


def available_services(evidence_kind: str) -> list[Offered]:
    """The kiosk services the catalogue marks implemented, in the order of model 2."""
    out = []
    for code in KIOSK_SERVICES:
        service = catalogue.get(code)
        if service is not None and service.implemented:
            out.append(Offered(service, service.level < 2 or evidence_kind == "chip"))
    return out


def offered(code: str, evidence_kind: str) -> Service:
    """The kiosk service ``code`` if this identification may use it; else ``NotFound``."""
    match = next((o for o in available_services(evidence_kind) if o.service.code == code), None)
    if match is None or not match.usable:
        raise NotFound("no such kiosk service", field="service")
    return match.service


def submit(
    device: Device,
    identification: Identification,
    code: str,
    supplied: dict[str, str],
    *,
    idempotency_key: str,
    today: date | None = None,
) -> Any:
    """Submit a dossier at the kiosk: the portal's submission (every rule, once-only, idempotent),
    recorded as made at this kiosk of this office."""
    user_id = require_possession(identification)
    service = offered(code, identification.evidence_kind)
    with transaction.atomic():
        dossier, _created = dossiers.submit(
            user_id,
            service.code,
            supplied,
            idempotency_key=idempotency_key,
            today=today,
            channel=CHANNEL,
        )
        KioskSubmission.objects.get_or_create(
            dossier_id=dossier.pk,
            defaults={
                "tracking_code": dossier.tracking_code,
                "kiosk_id": device.device_id,
                "organisation_id": device.organisation_id,
                "service_code": dossier.service_code,
                "evidence_kind": identification.evidence_kind,
                "possession": identification.possession,
            },
        )
    return dossier


def submitted_here(device: Device, identification: Identification, tracking_code: str) -> Any:
    """A dossier this citizen submitted at this kiosk (for its receipt), read through the public
    services' own function; else ``NotFound``."""
    user_id = require_possession(identification)
    if not KioskSubmission.objects.filter(kiosk_id=device.device_id, tracking_code=tracking_code).exists():
        raise NotFound("no such dossier", field="tracking_code")
    return dossiers.my_dossier(user_id, tracking_code)


def prefill(identification: Identification, service: Service) -> list[Any]:
    """The service's data items prefilled from the registries (the portal's ``prefill``, through
    the data-exchange gateway, audited as the holder's own read) — only once the person proved
    they hold the account (``PossessionNotProved`` after a QR alone)."""
    user_id = require_possession(identification)
    prefilled, _view = dossiers.prefill(user_id, service)
    return list(prefilled)
