"""Foreign passports' chips: a synthetic issuer and the desk's check (ICAO Doc 9303 parts 10–12).

:func:`issue_passport_chip` personalises a passport chip as a foreign state would: DG1 with the
TD3 MRZ, DG2 with the face, EF.COM and EF.SOD signed by that state's Document Signer — the same
encoders and SOD builder as the Vietnamese card (:mod:`.chip`).

:func:`verify_passport_chip` is what the desk runs on the files the NFC reader returned
(``reader.ChipRead.files``), given the MRZ the officer read optically:

1. ``chip.files`` — the reader's files decode (``ChipData.from_dict``);
2. ``state.trusted`` — the MRZ's issuing state has at least one CSCA imported from a master list
   (``foreign_trust``); the trust store used next holds **only that state's** CSCAs;
3. passive authentication (part 11 §5.1, :func:`.chip.passive_authentication`, DG1 and DG2
   mandatory, DG1 read as TD3): every step by its name (``ds.issuer`` = no trusted CSCA issued
   the DS — untrusted CSCA; ``ds.validity`` = expired DS; ``dg1.hash`` = DG1 altered; …);
4. ``dg1.mrz_match`` — DG1's MRZ equals the MRZ read optically, character for character;
5. Active Authentication (part 11 §6.1) when the chip offers it (its SOD lists DG15):
   ``dg15.read``, ``aa.response``, ``dg15.parse``, ``dg14.aa_info``, ``aa.signature``
   (:func:`.chip.verify.chip_active_authentication`) over the challenge the desk issued for this
   read. A chip whose signed files were copied onto another chip passes passive authentication
   but cannot sign the challenge: it fails here. A failure refuses the chip whatever the state;
   a valid answer counts (``active_auth = "verified"``) only when passive authentication passed —
   for a state without a trusted CSCA the DG15 key is nobody's word (``"key_untrusted"``);
6. ``ds.revocation`` — when the DS chains to a trusted CSCA: the DS's serial is not on that
   CSCA's CRL (``foreign_trust.ds_revocation_status``, ICAO Doc 9303 part 12 §7). Listed → the
   step fails (revoked, whatever the CRL's age); no CRL, or one whose nextUpdate has passed → the
   status is unknown (ADR 0017 §12).

The outcome (:attr:`PassportChipReport.outcome`): ``verified`` (every step passed, the DS not
revoked on a fresh CRL); ``revocation_unknown`` (every step passed but the DS's revocation status
is unknown: the chip is genuine as far as its signatures go, yet not counted as chip evidence);
``state_not_trusted`` (the state has no CSCA here; the chip is otherwise consistent — its SOD
verifies with its own DS certificate, the hashes match and DG1 equals the MRZ — so it adds nothing
and takes nothing away: ADR 0017 §10 lets the desk go on with the optical MRZ and the officer's
face check, recorded as weaker evidence); or ``failed`` with :attr:`failed_step` naming the first
step that failed. Steps and details never carry personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec

from dancu.blocks.identity.chip import CertifiedKey, ChipData, Step, passive_authentication
from dancu.blocks.identity.chip.face import synthetic_face_jpeg
from dancu.blocks.identity.chip.issuer import active_auth_key
from dancu.blocks.identity.chip.lds import (
    encode_com,
    encode_dg1_td3,
    encode_dg2,
)
from dancu.blocks.identity.chip.sod import build_sod
from dancu.blocks.identity.chip.verify import PassiveAuthReport, chip_active_authentication
from dancu.blocks.identity.foreign_trust import ds_revocation_status, foreign_trust_store, trusted_states
from dancu.blocks.identity.mrz import MrzTD3
from dancu.errors import DomainValidationError

PASSPORT_DATA_GROUPS = (1, 2)  # part 10 §4.6: DG1 and DG2 are mandatory in every eMRTD
# Steps that depend on the issuing state's CSCA being in the trust store: the only ones excused
# when the state has none (ADR 0017 §10).
CHAIN_STEPS = frozenset({"ds.issuer", "ds.chain_signature", "csca.validity"})
REVOCATION_STEP = "ds.revocation"


@dataclass
class PassportChipReport:
    steps: list[Step] = field(default_factory=list)
    issuing_state: str = ""
    state_trusted: bool = False
    passive: PassiveAuthReport | None = None
    revocation: str = ""  # "good", "revoked", "unknown"; "" when not checked (no verified chain)
    # "verified" (the chip signed the challenge with a DG15 key passive authentication proved the
    # issuer's), "key_untrusted" (it signed, but passive authentication did not pass: the key is
    # not vouched for), "failed" or "not_offered" (no DG15 in the SOD).
    active_auth: str = "not_offered"

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok

    @property
    def failures(self) -> list[Step]:
        return [s for s in self.steps if not s.ok]

    def _blocking(self) -> list[Step]:
        """The failures that refuse the chip: for a state without a trusted CSCA, not the chain
        steps; an unknown revocation status never (it only withholds the chip evidence)."""
        out = []
        for s in self.failures:
            if not self.state_trusted and (s.name in CHAIN_STEPS or s.name == "state.trusted"):
                continue
            if s.name == REVOCATION_STEP and self.revocation == "unknown":
                continue
            out.append(s)
        return out

    @property
    def outcome(self) -> str:
        """``verified``, ``revocation_unknown``, ``state_not_trusted`` or ``failed`` (module
        docstring)."""
        names = {s.name for s in self.steps}
        if not {"chip.files", "state.trusted", "dg1.mrz_match"} <= names or self.passive is None:
            return "failed"
        if self._blocking():
            return "failed"
        if not self.state_trusted:
            return "state_not_trusted"
        if not self.passive.ok or REVOCATION_STEP not in names:
            return "failed"
        return "revocation_unknown" if self.revocation == "unknown" else "verified"

    @property
    def failed_step(self) -> str:
        """The name of the first failed step that makes the outcome ``failed`` (else ``""``)."""
        if self.outcome != "failed":
            return ""
        blocking = self._blocking()
        return blocking[0].name if blocking else "passive.incomplete"

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "failed_step": self.failed_step,
            "issuing_state": self.issuing_state,
            "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps],
        }


def issue_passport_chip(
    mrz: MrzTD3,
    document_signer: CertifiedKey,
    *,
    face_seed: int = 0,
    face_jpeg: bytes | None = None,
    hash_name: str = "sha256",
    with_active_auth: bool | str = False,
) -> ChipData:
    """A synthetic passport chip: DG1 (TD3), DG2 (face), EF.COM, EF.SOD signed by the state's DS;
    with ``with_active_auth`` (``True``/``"ecdsa"``: DG14 ecdsa-plain-SHA256 and DG15 with a P-256
    key; ``"rsa"``: DG15 with an RSA key, ISO/IEC 9796-2) an AA key whose private half stays in
    the returned ``ChipData`` (``simulated_chip``), as for the card."""
    key = document_signer.private_key
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - the synthetic PKI is EC
        raise DomainValidationError.single("document_signer", "key_type", "an EC key is expected")
    sex = mrz.sex if mrz.sex in ("M", "F") else ""
    groups = {
        1: encode_dg1_td3(mrz.lines),
        2: encode_dg2(face_jpeg if face_jpeg is not None else synthetic_face_jpeg(face_seed), sex=sex),
    }
    aa_key = active_auth_key(groups, with_active_auth)
    sod = build_sod(groups, key, document_signer.certificate, hash_name=hash_name)
    return ChipData(sod=sod, data_groups=groups, com=encode_com(groups), aa_private_key=aa_key)


def verify_passport_chip(
    files: Mapping[str, object],
    typed: MrzTD3,
    *,
    at: datetime,
    challenge: bytes | None = None,
    aa_answer: bytes | None = None,
) -> PassportChipReport:
    """The desk's check of a passport chip read against the optically read MRZ (module docstring).
    ``challenge`` is the 8 bytes the desk issued for this read, ``aa_answer`` the chip's answer
    the reader returned (``reader.ChipRead.active_auth``, decoded)."""
    report = PassportChipReport(issuing_state=typed.issuing_state)
    try:
        chip = ChipData.from_dict(files)
    except DomainValidationError as exc:
        report.add("chip.files", False, "; ".join(f"{p.field} [{p.rule}]" for p in exc.problems))
        return report
    report.add("chip.files", True, ", ".join(sorted(files)))
    report.state_trusted = typed.issuing_state in trusted_states()
    report.add(
        "state.trusted",
        report.state_trusted,
        f"a CSCA of issuing state {typed.issuing_state} was imported from a master list"
        if report.state_trusted
        else f"no CSCA of issuing state {typed.issuing_state} in the trust store "
        "(in no master list imported)",
    )
    passive = passive_authentication(
        chip,
        foreign_trust_store(typed.issuing_state),
        at=at,
        mandatory=PASSPORT_DATA_GROUPS,
        dg1_format="td3",
    )
    report.passive = passive
    report.steps.extend(passive.steps)
    read = passive.read_td3_lines
    # Compared with what DG1 holds whatever PA said: a chip of another passport is named as such.
    report.add(
        "dg1.mrz_match",
        read is not None and read == typed.lines,
        "DG1's MRZ equals the MRZ read optically"
        if read is not None and read == typed.lines
        else "DG1's MRZ differs from the MRZ read optically (another passport's chip, or a misread MRZ)"
        if read is not None
        else "DG1 could not be read",
    )
    active = chip_active_authentication(chip, passive, challenge, aa_answer)
    if active is not None:
        report.steps.extend(active.steps)
        # A signature with a DG15 key that no trusted CSCA vouches for (state not trusted, or any
        # other failure of passive authentication) proves nothing: a forger signs with his own key.
        report.active_auth = ("verified" if passive.ok else "key_untrusted") if active.ok else "failed"
    if passive.csca_certificate is not None and passive.ds_serial_number is not None:
        status = ds_revocation_status(passive.csca_certificate, passive.ds_serial_number, at=at)
        report.revocation = status.state
        report.add(REVOCATION_STEP, status.state == "good", status.detail)
    return report
