"""Foreign residents' eID accounts (Decree 69/2024/NĐ-CP Art. 7: a foreigner from 6 with a
permanent or temporary residence card may hold level 1 and, on request, level 2; ADR 0017).

The national population database holds Vietnamese citizens only; foreigners are in the immigration
database. This block keeps a small source of foreign residents (:class:`ForeignResident`, fed by
:func:`record_foreign_resident` from the immigration office) and matches against it:

* **Level 1 online**: the passport's TD3 MRZ (ICAO 9303 part 4; every check digit verified by
  ``blocks/identity/mrz.py``), the residence-card number, phone, password and a face photo. The
  MRZ's nationality, number, name, date of birth, sex and expiry, and the card number, must match
  one record whose card is valid today and whose passport has not expired; the holder is 6 or
  over. No match, an account that exists already and a new application get the same answer, as
  a citizen's registration does (``services.register``): go to the phone step, a code was sent to
  the typed phone; only after a right code does that step tell that the data cannot be
  registered online, naming no field — so the form is no oracle on residence-card records or
  accounts. The holder of an existing account gets an SMS warning. The application waits for the
  commune police of the card's ward, as a citizen's does.
* **Level 2 at the desk** (domain-vn §4: foreigners from 6 with a residence card, levels 1 and 2;
  level 2 is given in person): :func:`activate_level2_foreigner`. The officer of a commune police
  desk reads the passport's TD3 MRZ (every check digit verified), types the residence card's
  number, compares the holder's face with the passport's photo page and the card, and confirms
  it. The MRZ and the card must match the holder's record as at level 1, with the card valid and
  the passport unexpired on the day; the holder is 6 or over and has an active level-1 account.
  When the NFC reader returned the passport chip's files, the chip is checked too
  (``identity.passport.verify_passport_chip``: passive authentication against the issuing state's
  CSCAs imported from an ICAO master list, DG1 equal to the MRZ read): a chip that passes gives
  evidence ``passport_chip``; a chip that fails any step is refused naming the step; a chip of a
  state with no CSCA here, and a passport whose chip is not read, go on with evidence
  ``passport_mrz_optical`` (weaker), recorded on the account and in the audit (ADR 0017 §10).
  A chip that offers Active Authentication (DG15 in its SOD) must sign the challenge the desk
  issued for the read (ICAO 9303 part 11 §6.1): a cloned chip fails ``aa.*``. With a live photo
  taken at the desk and the chip's portrait (DG2) read, the two are compared as for citizens
  (``identity.faces``); a different portrait is refused ``live_photo``/``face_mismatch``, audited
  (ADR 0017 §14). Both count only for a chip that passed passive authentication: for a state
  without a trusted CSCA the signature and the match are recorded ``key_untrusted``/``officer``.

The account's log-in name (``Account.id_number``) is the MRZ nationality followed by the passport
number (at most 3 + 9 characters): foreigners hold no 12-digit personal ID number here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import factors
from dancu.blocks.eid.models import Account, ForeignResident, Level2Request, Registration
from dancu.blocks.eid.services import (
    ACTIVATION,
    REGISTRATION,
    SELF_SERVICE,
    RegistrationReceipt,
    _authorise,
    _notify,
    _thumbnail,
    age_on,
    applicant_checks,
    max_level_for_age,
)
from dancu.blocks.identity.faces import face_reference, same_portrait
from dancu.blocks.identity.foreign_trust import trusted_states
from dancu.blocks.identity.mrz import MrzTD3, parse_td3
from dancu.blocks.identity.passport import verify_passport_chip
from dancu.errors import DomainValidationError, FieldProblem, NotFound

# domain-vn §4 gives foreigners accounts from 6 only; it says nothing of a foreign child under 6
# (secondary sources report "level 1 on request", ADR 0017): refused here, not invented.
MIN_AGE = 6


@dataclass(frozen=True)
class ForeignResidentInput:
    """A record from the immigration database (names as the passport's MRZ writes them)."""

    nationality: str
    passport_number: str
    passport_expires_on: date
    surname: str
    given_names: str
    date_of_birth: date
    sex: str
    card_kind: str
    card_number: str
    card_valid_from: date
    card_valid_until: date
    ward_code: str = ""


def record_foreign_resident(data: ForeignResidentInput) -> int:
    """Add or update a foreign resident from the immigration feed (idempotent on nationality +
    passport number). Errors name the field and the rule."""
    problems: list[FieldProblem] = []
    if len(data.nationality) != 3 or not data.nationality.isalpha() or not data.nationality.isupper():
        problems.append(FieldProblem("nationality", "icao_code", "a three-letter ICAO 9303 code, e.g. DEU"))
    if not (1 <= len(data.passport_number) <= 9) or not data.passport_number.isalnum():
        problems.append(FieldProblem("passport_number", "format", "1–9 letters or digits (ICAO 9303 part 4)"))
    if data.card_kind not in ForeignResident.CardKind.values:
        problems.append(FieldProblem("card_kind", "choice", "permanent or temporary"))
    if not data.card_number.strip() or len(data.card_number) > 20:
        problems.append(FieldProblem("card_number", "required", "the residence card number (1–20)"))
    if data.card_valid_until < data.card_valid_from:
        problems.append(FieldProblem("card_valid_until", "order", "ends before it starts"))
    if data.sex not in ("M", "F", "X"):
        problems.append(FieldProblem("sex", "choice", "M, F or X (ICAO 9303)"))
    if not data.surname.strip():
        problems.append(FieldProblem("surname", "required", "the surname as in the MRZ"))
    if problems:
        raise DomainValidationError(problems)
    row, _ = ForeignResident.objects.update_or_create(
        nationality=data.nationality,
        passport_number=data.passport_number,
        defaults={
            "passport_expires_on": data.passport_expires_on,
            "surname": data.surname.strip().upper(),
            "given_names": data.given_names.strip().upper(),
            "date_of_birth": data.date_of_birth,
            "sex": data.sex,
            "card_kind": data.card_kind,
            "card_number": data.card_number.strip().upper(),
            "card_valid_from": data.card_valid_from,
            "card_valid_until": data.card_valid_until,
            "ward_code": data.ward_code,
        },
    )
    return int(row.pk)


def login_name(mrz: MrzTD3) -> str:
    return f"{mrz.nationality}{mrz.document_number}"


def _matches(r: ForeignResident, mrz: MrzTD3, card_number: str, today: date) -> bool:
    given = mrz.secondary_identifier.upper()
    return (
        r.surname == mrz.primary_identifier.upper()
        # the MRZ name field may be truncated (ICAO 9303 part 3 §4.6)
        and (r.given_names == given or (bool(given) and r.given_names.startswith(given)))
        and r.date_of_birth == mrz.date_of_birth
        and r.sex == mrz.sex
        and r.passport_expires_on == mrz.date_of_expiry
        and r.card_number == card_number.strip().upper()
        and r.card_valid_from <= today <= r.card_valid_until
        and mrz.date_of_expiry >= today
    )


@dataclass(frozen=True)
class ForeignerRegistrationInput:
    passport_mrz: str
    card_number: str
    phone: str
    password: str
    photo: bytes
    email: str = ""


def register_foreigner(data: ForeignerRegistrationInput, *, on: date | None = None) -> RegistrationReceipt:
    """Level-1 self-registration of a foreign resident (module docstring). Validation errors
    name the field and the rule; after that every path answers alike (``RegistrationReceipt``:
    the handle for ``services.verify_phone`` on a new application, else a decoy code to the typed
    phone). The ward police decide (``services.decide_registration``)."""
    today = on or timezone.localdate()
    problems: list[FieldProblem] = []
    mrz: MrzTD3 | None = None
    try:
        mrz = parse_td3(data.passport_mrz, reference=today)
    except DomainValidationError as exc:
        problems += [FieldProblem(f"passport_mrz.{p.field}", p.rule, p.message) for p in exc.problems]
    if not data.card_number.strip() or len(data.card_number) > 20:
        problems.append(FieldProblem("card_number", "required", "the residence card number"))
    phone, face = applicant_checks(problems, data.phone, data.email, data.password, data.photo)
    if mrz is not None and age_on(mrz.date_of_birth, today) < MIN_AGE:
        problems.append(
            FieldProblem(
                "passport_mrz",
                "eligibility_age",
                "a foreign resident registers online from 6 (Decree 69/2024/NĐ-CP Art. 7)",
            )
        )
    if problems:
        raise DomainValidationError(problems)
    assert mrz is not None and face is not None
    password_hash = make_password(data.password)
    record = ForeignResident.objects.filter(
        nationality=mrz.nationality, passport_number=mrz.document_number
    ).first()
    ctx = AccessContext(SELF_SERVICE, REGISTRATION)
    if record is None or not _matches(record, mrz, data.card_number, today):
        audit.record(
            ctx, "eid.registration.foreigner", result=AuditEvent.Result.DENIED, detail={"reason": "no_match"}
        )
        return RegistrationReceipt(matched=False, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    name = login_name(mrz)
    existing = (
        Account.objects.filter(foreign_resident=record).first()
        or Account.objects.filter(id_number=name).first()
    )
    if existing is not None:
        _notify(
            existing,
            "eid.registration.duplicate",
            "dancu: co nguoi vua dang ky tai khoan dinh danh voi ho chieu cua ban. Neu khong phai ban, "
            "hay bao cong an xa. / Someone tried to register an eID account with your passport.",
        )
        return RegistrationReceipt(matched=True, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    try:
        with transaction.atomic():
            user = get_user_model().objects.create(username=name, password=password_hash)
            account = Account.objects.create(
                user=user,
                id_number=name,
                ward_code=record.ward_code,
                max_level=max_level_for_age(age_on(record.date_of_birth, today)),
                phone=phone,
                email=data.email,
                foreign_resident=record,
            )
            registration = Registration.objects.create(
                account=account,
                ward_code=record.ward_code,
                match_decision="match",
                exact_match=True,
                face_sha256=face[0],
                face_dhash=face[1],
                thumbnail=_thumbnail(data.photo),
            )
            audit.record(
                ctx,
                "eid.registration.foreigner",
                detail={"registration": registration.pk, "kind": record.card_kind},
            )
    except IntegrityError:  # the same passport registered concurrently
        return RegistrationReceipt(matched=True, handle=0, decoy=factors.issue_decoy_code(phone, "phone"))
    factors.issue_code(user.pk, "phone")
    return RegistrationReceipt(matched=True, handle=int(registration.pk))


# The one reason a passport of a state with a trusted CSCA is accepted without its chip (ADR 0017 §10).
CHIP_UNREADABLE = "chip_unreadable"


@dataclass(frozen=True)
class ForeignerActivation:
    account_id: int
    login_name: str
    receipt_id: str
    evidence: str = "passport_mrz_optical"  # or "passport_chip" (ADR 0017 §10)
    chip: str = "not_read"  # "verified", "state_not_trusted", "revocation_unknown" or "not_read"
    chip_reason: str = ""  # "chip_unreadable": recorded by the officer (ADR 0017 §10)
    active_auth: str = "not_offered"  # "verified", "key_untrusted" (PassportChipReport; §14)
    face: str = "officer"  # "matched": the live photo is the verified chip's DG2 (§14); else the officer's


def activate_level2_foreigner(
    ctx: AccessContext,
    *,
    passport_mrz: str,
    card_number: str,
    face_confirmed: bool,
    chip_files: Mapping[str, object] | None = None,
    chip_reason: str = "",
    aa_challenge: bytes | None = None,
    aa_answer: bytes | None = None,
    live_photo: bytes = b"",
    at: datetime | None = None,
) -> ForeignerActivation:
    """Raise a foreign resident's account to level 2 in person (module docstring; purpose
    ``eid.activation``, any commune police desk as for citizens, ADR 0008). Each refusal names the
    field and the rule; a mismatch is audited (denied) without telling which datum differed.

    ``chip_files`` — the passport chip as the reader returned it (``reader.ChipRead.files``), or
    ``None`` when no chip was read. A chip that fails is refused with field ``passport_chip`` and
    the failed step as the rule (``dg1.hash``, ``ds.issuer``, ``ds.validity``, ``dg1.mrz_match``…),
    audited ``denied``; see ADR 0017 §10 for what is accepted without a verified chip.

    ``chip_reason`` — when the MRZ's issuing state has a trusted CSCA (``trusted_states``) the chip
    read is required, unless the officer records ``chip_unreadable`` (the only reason); otherwise
    refused ``passport_chip``/``chip_required``, audited ``denied``. The reason is stored with the
    evidence (``Account.level2_chip_reason``) and in the audit detail.

    ``aa_challenge``/``aa_answer`` — the 8 bytes the desk issued for this read (used once) and the
    chip's answer (``reader.ChipRead.active_auth``): required when the chip offers Active
    Authentication, else refused ``passport_chip``/``aa.response`` (ICAO 9303 part 11 §6.1).
    ``live_photo`` — optional; with a chip read it is compared with the chip's portrait (DG2)."""
    action = "eid.activate.foreigner"
    _authorise(ctx, ACTIVATION, action)
    moment = at or timezone.now()
    today = timezone.localdate(moment)
    problems: list[FieldProblem] = []
    mrz: MrzTD3 | None = None
    try:
        mrz = parse_td3(passport_mrz, reference=today)
    except DomainValidationError as exc:
        problems += [FieldProblem(f"passport_mrz.{p.field}", p.rule, p.message) for p in exc.problems]
    if not card_number.strip() or len(card_number) > 20:
        problems.append(FieldProblem("card_number", "required", "the residence card number"))
    if not face_confirmed:
        problems.append(
            FieldProblem(
                "face_confirmed",
                "required",
                "compare the holder's face with the passport's photo page and the residence card, "
                "then confirm",
            )
        )
    if problems:
        raise DomainValidationError(problems)
    assert mrz is not None
    if age_on(mrz.date_of_birth, today) < MIN_AGE:
        raise DomainValidationError.single(
            "passport_mrz",
            "eligibility_age",
            "a foreign resident holds level 2 from 6 (domain-vn §4; Decree 69/2024/NĐ-CP Art. 7)",
        )
    record = ForeignResident.objects.filter(
        nationality=mrz.nationality, passport_number=mrz.document_number
    ).first()
    if record is None or not _matches(record, mrz, card_number, today):
        audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={"reason": "no_match"})
        raise DomainValidationError.single(
            "residence_card",
            "no_match",
            "the passport and residence card do not match a foreign resident with a valid card",
        )
    account = Account.objects.filter(foreign_resident=record).first()
    if account is None or account.status != Account.Status.ACTIVE or account.level < 1:
        audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={"reason": "no_level1_account"})
        raise NotFound(
            "this resident has no active level-1 account: they register online first", field="account"
        )
    if chip_reason not in ("", CHIP_UNREADABLE):
        raise DomainValidationError.single("chip_reason", "choice", f"empty or {CHIP_UNREADABLE!r}")
    reason = ""
    if chip_files is None and mrz.issuing_state.upper() in trusted_states():
        # ADR 0017 §10: a chip the platform can check is read, not skipped by leaving the field
        # empty; only a chip the reader cannot read (recorded by the officer) is an exception.
        if chip_reason != CHIP_UNREADABLE:
            audit.record(
                ctx,
                action,
                result=AuditEvent.Result.DENIED,
                detail={"reason": "chip_required", "state": mrz.issuing_state},
            )
            raise DomainValidationError.single(
                "passport_chip",
                "chip_required",
                "this passport's issuing state has a trusted CSCA: read the chip, or record that "
                "the chip cannot be read",
            )
        reason = CHIP_UNREADABLE
    evidence, chip_status = "passport_mrz_optical", "not_read"
    face, active_auth = "officer", "not_offered"
    if chip_files is not None:
        report = verify_passport_chip(chip_files, mrz, at=moment, challenge=aa_challenge, aa_answer=aa_answer)
        if report.outcome == "failed":
            audit.record(
                ctx,
                action,
                result=AuditEvent.Result.DENIED,
                detail={"reason": "passport_chip", "step": report.failed_step, "state": mrz.issuing_state},
            )
            failed = next((s for s in report.failures if s.name == report.failed_step), None)
            raise DomainValidationError.single(
                "passport_chip",
                report.failed_step,
                failed.detail if failed is not None else "the passport chip did not pass its checks",
            )
        if report.outcome == "verified":
            evidence, chip_status = "passport_chip", "verified"
        else:
            # "state_not_trusted" (ADR 0017 §10) or "revocation_unknown" — no fresh CRL of the
            # DS's CSCA (§12): the MRZ's weaker evidence, and the acr says so (§11).
            chip_status = report.outcome
        portrait = report.passive.read_face if report.passive is not None else None
        if live_photo and portrait is not None:
            try:
                seen = face_reference(live_photo)
            except DomainValidationError:
                raise DomainValidationError.single(
                    "live_photo", "image", "the live photo is not an image (JPEG or PNG)"
                ) from None
            same, distance = same_portrait(face_reference(portrait.image), seen)
            if not same:
                audit.record(
                    ctx,
                    action,
                    result=AuditEvent.Result.DENIED,
                    detail={"reason": "face_mismatch", "distance": distance},
                )
                raise DomainValidationError.single(
                    "live_photo", "face_mismatch", "the live photo is not the portrait on the passport chip"
                )
            # A DG2 that passive authentication did not prove the issuer's (a state without a
            # trusted CSCA) may be anyone's portrait: a match is then not reported as one.
            face = "matched" if report.passive is not None and report.passive.ok else "officer"
        active_auth = report.active_auth
    receipt = str(uuid.uuid4())
    with transaction.atomic():
        account.level = 2
        account.max_level = 2
        account.level2_at = moment
        account.level2_by_user_id = ctx.actor.user_id
        account.level2_by_label = ctx.actor.label
        account.level2_organisation_name = ctx.actor.organisation_name
        account.level2_receipt = receipt
        account.level2_evidence = evidence
        account.level2_chip_reason = reason
        account.save()
        Level2Request.objects.filter(account=account, status=Level2Request.Status.PENDING).update(
            status=Level2Request.Status.ACTIVATED, activated_at=moment
        )
        audit.record(
            ctx,
            action,
            detail={
                "level": 2,
                "evidence": evidence,
                "chip": chip_status,
                **({"chip_reason": reason} if reason else {}),
                "active_auth": active_auth,
                "face": face,
                "kind": record.card_kind,
                "receipt": receipt,
            },
        )
    _notify(account, "eid.activated", "dancu: tai khoan dinh danh da duoc nang len muc 2. / Now level 2.")
    return ForeignerActivation(
        account.pk, account.id_number, receipt, evidence, chip_status, reason, active_auth, face
    )
