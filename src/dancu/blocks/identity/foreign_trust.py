"""Foreign states' CSCAs for passport chips: import of ICAO CSCA master lists (ADR 0017 §10).

Vietnam's own chip cards are checked against ``trust.configured_trust_store`` (one state's CSCA,
from a file). A foreign resident's passport is signed by *their* state's Document Signer, so the
desk needs the CSCAs of many states. States publish them bilaterally and through the ICAO PKD as
**CSCA master lists** (ICAO Doc 9303 part 12 §9): a CMS SignedData of a SET OF CSCA certificates,
signed by a Master List Signer of the state that compiled it. :func:`import_master_list` stores
the CSCAs of a list, per country, **only** after the list verified against the configured
master-list trust anchors (``DANCU_MASTER_LIST_ANCHORS``: a PEM bundle or a directory of the
compiling states' CSCAs or Master List Signer certificates, obtained out of band). A list that
fails any step is refused and nothing is written (one transaction, verification first).

:func:`foreign_trust_store` gives the CSCAs of **one** issuing state (by its MRZ code), so a DS
chain is accepted only up to the CSCA of the state that the passport names — state A's CSCA can
never vouch for state B's passport.

In demo mode (``DANCU_DEMO=1``) and in the tests a synthetic PKI is used
(:func:`synthetic_foreign_pki`): CSCAs and DSs of synthetic Germany, France, Japan and Korea, and
a synthetic master-list compiler — never the real states' keys.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.chip import CertifiedKey, TrustStore, create_csca, create_document_signer
from dancu.blocks.identity.chip.countries import mrz_state
from dancu.blocks.identity.chip.crl import create_crl, load_crls, verify_crl
from dancu.blocks.identity.chip.masterlist import (
    MAX_MASTER_LIST_BYTES,
    build_master_list,
    country_of,
    verify_master_list,
)
from dancu.blocks.identity.chip.pki import _CERT_SUFFIXES, _load_certificate_file, create_master_list_signer
from dancu.blocks.identity.models import ForeignCrl, ForeignCsca, MasterListImport
from dancu.errors import DomainValidationError

MASTER_LIST_ANCHORS_ENV = "DANCU_MASTER_LIST_ANCHORS"
DEMO_DIRECTORY = "chip-pki/foreign"
__all__ = ["MAX_MASTER_LIST_BYTES"]
SYNTHETIC_STATES = {"DE": "Germany", "FR": "France", "JP": "Japan", "KR": "Korea"}
CRL_INTERVAL = timedelta(days=90)  # ICAO: a CSCA issues a CRL at least every 90 days


@dataclass(frozen=True)
class MasterListImportResult:
    import_id: int
    signer_subject: str
    csca_count: int
    added_count: int
    skipped_count: int
    countries: tuple[str, ...]


def configured_master_list_anchors() -> list[x509.Certificate]:
    """The master-list trust anchors: ``DANCU_MASTER_LIST_ANCHORS`` (PEM bundle or directory);
    in demo mode the synthetic compiler's CSCA; otherwise none (every list is then refused at
    ``ml.signer_anchor``)."""
    where = os.environ.get(MASTER_LIST_ANCHORS_ENV, "")
    if where:
        return load_anchors(Path(where))
    if getattr(settings, "DEMO", False):
        return [synthetic_foreign_pki().compiler_csca.certificate]
    return []


def load_anchors(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle / DER file, or of the certificate files of a directory.
    Unlike a CSCA trust store, an anchor may be a Master List Signer certificate (not a CA)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _CERT_SUFFIXES)
    elif path.is_file():
        files = [path]
    else:
        raise DomainValidationError.single("anchors", "missing", f"{path} is neither a file nor a directory")
    return [certificate for file in files for certificate in _load_certificate_file(file)]


IMPORT_ACTION = "identity.master_list.import"


def _import_context(actor_label: str) -> AccessContext:
    """The trust administrator's import, recorded like the platform's other bulk imports: a
    system actor with purpose ``system.import``, labelled with who ran it (no personal data)."""
    actor = Actor(
        user_id=None, label=actor_label[:150], allowed_purposes=frozenset({"system.import"}), is_system=True
    )
    return AccessContext(actor=actor, purpose="system.import")


def import_master_list(
    data: bytes,
    *,
    anchors: Sequence[x509.Certificate] | None = None,
    at: datetime | None = None,
    source_name: str = "",
    actor_label: str = "system",
) -> MasterListImportResult:
    """Verify a CSCA master list and store its CSCAs (ICAO Doc 9303 part 12 §9).

    Refused with ``DomainValidationError`` (field ``master_list``, rule = the failed step, e.g.
    ``ml.signature``, ``ml.signer_anchor``, ``ml.parse``) before anything is written. CSCAs
    already stored (same SHA-256) are kept, not duplicated. Each import, and each refusal with its
    step, is an audit event ``identity.master_list.import`` (purpose ``system.import``).

    ``at`` is for tests (a synthetic PKI's fixed day); the management command never passes it: a
    list is verified at the time of its import."""
    moment = at or timezone.now()
    trusted = list(anchors) if anchors is not None else configured_master_list_anchors()
    report = verify_master_list(data, trusted, at=moment)
    ctx = _import_context(actor_label)
    digest = hashlib.sha256(data).hexdigest()
    if not report.ok:
        first = report.failures[0] if report.failures else None
        audit.record(
            ctx,
            IMPORT_ACTION,
            result=AuditEvent.Result.DENIED,
            detail={
                "step": first.name if first else "ml.incomplete",
                "sha256": digest,
                "source": source_name[:255],
            },
        )
        raise DomainValidationError.single(
            "master_list",
            first.name if first else "ml.incomplete",
            first.detail if first else "the master list could not be verified",
        )
    cscas = report.cscas
    with transaction.atomic():
        record = MasterListImport.objects.create(
            imported_at=moment,
            sha256=digest,
            source_name=source_name[:255],
            signer_subject=(report.signer_subject or "")[:500],
            csca_count=len(cscas),
            skipped_count=len(report.skipped),
            actor_label=actor_label[:150],
        )
        added = 0
        for certificate in cscas:
            fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
            country = country_of(certificate)
            _, created = ForeignCsca.objects.get_or_create(
                fingerprint=fingerprint,
                defaults={
                    "country": country,
                    "issuing_state": mrz_state(country),
                    "subject": certificate.subject.rfc4514_string()[:500],
                    "not_before": certificate.not_valid_before_utc,
                    "not_after": certificate.not_valid_after_utc,
                    "der": certificate.public_bytes(serialization.Encoding.DER),
                    "master_list": record,
                    "added_at": moment,
                },
            )
            added += int(created)
        record.added_count = added
        record.save(update_fields=["added_count"])
        audit.record(
            ctx,
            IMPORT_ACTION,
            detail={
                "master_list_import": record.pk,
                "sha256": digest,
                "source": record.source_name,
                "cscas": len(cscas),
                "added": added,
                "countries": sorted({country_of(c) for c in cscas}),
            },
        )
    return MasterListImportResult(
        import_id=record.pk,
        signer_subject=record.signer_subject,
        csca_count=len(cscas),
        added_count=added,
        skipped_count=len(report.skipped),
        countries=tuple(sorted({country_of(c) for c in cscas})),
    )


def trusted_states() -> set[str]:
    """MRZ codes of the issuing states that have at least one stored CSCA."""
    return set(
        ForeignCsca.objects.exclude(issuing_state="").values_list("issuing_state", flat=True).distinct()
    )


def foreign_trust_store(issuing_state: str) -> TrustStore:
    """A trust store of the stored CSCAs of one issuing state (its MRZ code, e.g. ``D``, ``FRA``)."""
    rows = (
        ForeignCsca.objects.filter(issuing_state=issuing_state.upper()).only("der") if issuing_state else []
    )
    return TrustStore(x509.load_der_x509_certificate(bytes(row.der)) for row in rows)


# --------------------------------------------------------------------------- CRLs
CRL_ACTION = "identity.crl.import"


@dataclass(frozen=True)
class CrlImportResult:
    """One CRL of an imported file: ``status`` is ``added`` (first CRL of this CSCA), ``replaced``
    (a higher cRLNumber), ``unchanged`` (the same CRL again) or ``older_kept`` (a cRLNumber not
    above the stored one: ignored, the stored CRL stays); ``stale`` — nextUpdate already passed."""

    country: str
    csca_fingerprint: str
    crl_number: int
    next_update: datetime
    revoked_count: int
    status: str
    stale: bool


def import_crls(
    data: bytes,
    *,
    at: datetime | None = None,
    source_name: str = "",
    actor_label: str = "system",
) -> list[CrlImportResult]:
    """Verify and store the CRLs of a file (DER, or PEM with one or more CRLs) issued by stored
    foreign CSCAs (ICAO Doc 9303 part 12 §7; ``chip/crl.verify_crl`` for the steps).

    Every CRL of the file is verified first; one that fails refuses the whole file with
    ``DomainValidationError`` (field ``crl``, rule = the step: ``crl.parse``, ``crl.version``,
    ``crl.extensions``, ``crl.dates``, ``crl.issuer``, ``crl.signature``) and nothing is written.
    A CRL whose nextUpdate has passed is still stored (its revocations stand) and reported
    ``stale``: the check then treats a DS it does not list as of unknown status (ADR 0017 §12).
    Each import and each refusal is an audit event ``identity.crl.import`` (purpose
    ``system.import``, no subject)."""
    moment = at or timezone.now()
    ctx = _import_context(actor_label)
    digest_of_file = hashlib.sha256(data).hexdigest()

    def refuse(step: str, detail: str) -> DomainValidationError:
        audit.record(
            ctx,
            CRL_ACTION,
            result=AuditEvent.Result.DENIED,
            detail={"step": step, "sha256": digest_of_file, "source": source_name[:255]},
        )
        return DomainValidationError.single("crl", step, detail)

    try:
        crls = load_crls(data)
    except DomainValidationError as exc:
        raise refuse("crl.parse", exc.problems[0].message) from None
    rows = list(ForeignCsca.objects.all())
    by_fingerprint = {row.fingerprint: row for row in rows}
    certificates = [x509.load_der_x509_certificate(bytes(row.der)) for row in rows]
    checked = []
    for crl in crls:
        check = verify_crl(crl, certificates)
        if not check.ok or check.csca is None or check.number is None:
            failure = check.first_failure
            raise refuse(
                failure.name if failure else "crl.incomplete",
                failure.detail if failure else "the CRL could not be verified",
            )
        checked.append((crl, check.csca, check.number))
    results: list[CrlImportResult] = []
    with transaction.atomic():
        for crl, csca, number in checked:
            row = by_fingerprint[csca.fingerprint(hashes.SHA256()).hex()]
            der = crl.public_bytes(serialization.Encoding.DER)
            digest = hashlib.sha256(der).hexdigest()
            next_update = crl.next_update_utc
            assert next_update is not None  # crl.dates
            stored = ForeignCrl.objects.select_for_update().filter(csca=row).first()
            if stored is not None and stored.sha256 == digest:
                status = "unchanged"
            elif stored is not None and int(stored.crl_number) >= number:
                status = "older_kept"
            else:
                status = "added" if stored is None else "replaced"
                ForeignCrl.objects.update_or_create(
                    csca=row,
                    defaults={
                        "crl_number": str(number),
                        "this_update": crl.last_update_utc,
                        "next_update": next_update,
                        "revoked_count": len(list(crl)),
                        "sha256": digest,
                        "der": der,
                        "source_name": source_name[:255],
                        "imported_at": moment,
                        "actor_label": actor_label[:150],
                    },
                )
            results.append(
                CrlImportResult(
                    country=row.country,
                    csca_fingerprint=row.fingerprint,
                    crl_number=number,
                    next_update=next_update,
                    revoked_count=len(list(crl)),
                    status=status,
                    stale=next_update < moment,
                )
            )
        audit.record(
            ctx,
            CRL_ACTION,
            detail={
                "sha256": digest_of_file,
                "source": source_name[:255],
                "crls": [
                    {"country": r.country, "number": str(r.crl_number), "status": r.status, "stale": r.stale}
                    for r in results
                ],
            },
        )
    return results


@dataclass(frozen=True)
class RevocationStatus:
    """``good`` (a fresh CRL of the CSCA does not list the DS), ``revoked`` (its CRL lists it,
    fresh or not), or ``unknown`` (no CRL of this CSCA, or its nextUpdate has passed)."""

    state: str
    detail: str


def ds_revocation_status(csca: x509.Certificate, serial_number: int, *, at: datetime) -> RevocationStatus:
    """Whether the DS ``serial_number`` issued by ``csca`` is revoked at ``at`` by the stored CRL of
    that CSCA (ICAO Doc 9303 part 12 §7; ADR 0017 §12). A revocation listed on a stale CRL still
    stands (revocations are not undone; certificateHold is not used for DS certificates)."""
    fingerprint = csca.fingerprint(hashes.SHA256()).hex()
    stored = ForeignCrl.objects.filter(csca__fingerprint=fingerprint).first()
    if stored is None:
        return RevocationStatus("unknown", "no CRL of this CSCA has been imported")
    crl = x509.load_der_x509_crl(bytes(stored.der))
    entry = crl.get_revoked_certificate_by_serial_number(serial_number)
    if entry is not None:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
        except x509.ExtensionNotFound:
            reason = "unspecified"
        return RevocationStatus(
            "revoked",
            f"the Document Signer certificate (serial {serial_number:x}) was revoked on "
            f"{entry.revocation_date_utc:%Y-%m-%d} ({reason}) by CRL {stored.crl_number} of its CSCA",
        )
    if stored.next_update < at:
        return RevocationStatus(
            "unknown",
            f"the CSCA's CRL {stored.crl_number} is stale: its nextUpdate "
            f"{stored.next_update:%Y-%m-%d} has passed (import a newer CRL)",
        )
    return RevocationStatus(
        "good", f"not on CRL {stored.crl_number} of its CSCA (next update {stored.next_update:%Y-%m-%d})"
    )


# --------------------------------------------------------------------------- synthetic PKI
@dataclass(frozen=True)
class SyntheticForeignPki:
    """Synthetic foreign states (alpha-2 → CSCA, DS) and a synthetic master-list compiler."""

    states: dict[str, tuple[CertifiedKey, CertifiedKey]]
    compiler_csca: CertifiedKey
    list_signer: CertifiedKey

    def document_signer(self, alpha2: str) -> CertifiedKey:
        return self.states[alpha2][1]

    def master_list(self, countries: Sequence[str] | None = None) -> bytes:
        chosen = countries if countries is not None else sorted(self.states)
        return build_master_list([self.states[c][0].certificate for c in chosen], self.list_signer)

    def crl(
        self,
        alpha2: str,
        *,
        this_update: datetime,
        number: int = 1,
        revoked: Sequence[int] = (),
        next_update: datetime | None = None,
    ) -> bytes:
        """A CRL (DER) of the state's CSCA revoking the DS serials ``revoked`` on ``this_update``;
        next update 90 days later unless given (ICAO's maximum interval)."""
        return create_crl(
            self.states[alpha2][0],
            number=number,
            this_update=this_update,
            next_update=next_update or this_update + CRL_INTERVAL,
            revoked=[(serial, this_update) for serial in revoked],
        )


def make_synthetic_foreign_pki(
    countries: Sequence[str] = tuple(SYNTHETIC_STATES), *, not_before: datetime | None = None
) -> SyntheticForeignPki:
    """A fresh synthetic PKI in memory (tests); every certificate starts at ``not_before`` (default:
    now). The states' DS certificates may sign passports ("P")."""
    states = {}
    for alpha2 in countries:
        name = SYNTHETIC_STATES.get(alpha2, alpha2)
        csca = create_csca(
            country=alpha2,
            common_name=f"CSCA {alpha2} (synthetic {name}, not the real CSCA)",
            not_before=not_before,
        )
        ds = create_document_signer(
            csca,
            common_name=f"Document Signer {alpha2} 001 (synthetic)",
            document_types=("P",),
            not_before=not_before,
        )
        states[alpha2] = (csca, ds)
    compiler = create_csca(
        country="VN",
        common_name="CSCA VN master list compiler (synthetic, not a real authority)",
        not_before=not_before,
    )
    signer = create_master_list_signer(compiler, not_before=not_before)
    return SyntheticForeignPki(states, compiler, signer)


def synthetic_foreign_pki(directory: Path | None = None) -> SyntheticForeignPki:
    """The synthetic foreign PKI kept under ``var/chip-pki/foreign`` (created on first use;
    private keys mode 0600), for the demo and ``dancu synthetic_master_list``."""
    where = directory or Path(settings.VAR_DIR) / DEMO_DIRECTORY
    try:
        states = {
            c: (CertifiedKey.load(where, f"csca-{c}"), CertifiedKey.load(where, f"ds-{c}"))
            for c in SYNTHETIC_STATES
        }
        return SyntheticForeignPki(
            states, CertifiedKey.load(where, "compiler-csca"), CertifiedKey.load(where, "ml-signer")
        )
    except (FileNotFoundError, DomainValidationError):
        pki = make_synthetic_foreign_pki()
        for alpha2, (csca, ds) in pki.states.items():
            csca.save(where, f"csca-{alpha2}")
            ds.save(where, f"ds-{alpha2}")
        pki.compiler_csca.save(where, "compiler-csca")
        pki.list_signer.save(where, "ml-signer")
        return pki
