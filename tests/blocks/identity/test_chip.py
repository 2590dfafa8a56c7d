"""The chip of the citizen identity card (ICAO Doc 9303 eMRTD, domain-vn §3): a synthetic PKI,
the LDS data groups (DG1 TD1 MRZ, DG2 face, Vietnam's DG13, DG14/DG15), EF.SOD, and passive
(part 11 §5.1) and active (part 11 §6.1) authentication — which must name the step that failed
and never raise on bad chip data."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.blocks.identity.chip import (
    DG13,
    CardHolder,
    CertifiedKey,
    ChipData,
    PassiveAuthReport,
    TrustStore,
    active_authentication,
    build_sod,
    create_csca,
    create_document_signer,
    encode_dg13,
    issue_chip,
    parse_dg1,
    parse_dg2,
    parse_dg13,
    parse_sod,
    passive_authentication,
    synthetic_face_jpeg,
    tlv,
)
from dancu.blocks.identity.chip.lds import (
    DG13_SYNTHETIC_OID,
    encode_com,
    encode_dg1,
    encode_dg2,
    parse_com,
    parse_dg14_active_auth,
    parse_dg15,
)
from dancu.blocks.identity.chip.pki import OID_DOCUMENT_TYPE_LIST, TRUST_STORE_ENV
from dancu.blocks.identity.mrz import check_digit, parse_td1
from dancu.errors import DomainValidationError
from tests.blocks.identity.helpers import REFERENCE

NOW = datetime.now(UTC)
FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),  # a hang or quadratic blow-up fails the test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def only_problem(exc: pytest.ExceptionInfo[DomainValidationError]) -> tuple[str, str]:
    assert len(exc.value.problems) == 1, exc.value.problems
    return exc.value.problems[0].field, exc.value.problems[0].rule


def holder(**changes: object) -> CardHolder:
    base = CardHolder(
        id_number="001085012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1985, 3, 2),
        sex="M",
        place_of_origin="Xã Tây Tựu, Huyện Từ Liêm, Hà Nội",
        place_of_residence="Số 12 ngõ 34, Phường Tây Hồ, Quận Tây Hồ, Hà Nội",
        issue_date=date(2021, 4, 1),
        expiry_date=date(2045, 3, 2),
        father_name="Nguyễn Văn Bình",
        mother_name="Trần Thị Chi",
        spouse_name="Lê Thị Dung",
        old_id_number="012345678",
        identifying_marks="Nốt ruồi C:1cm dưới trước mắt trái",
        face_seed=7,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fixtures (one PKI per module)
@pytest.fixture(scope="module")
def csca() -> CertifiedKey:
    return create_csca()


@pytest.fixture(scope="module")
def ds(csca: CertifiedKey) -> CertifiedKey:
    return create_document_signer(csca)


@pytest.fixture(scope="module")
def store(csca: CertifiedKey) -> TrustStore:
    return TrustStore([csca.certificate])


@pytest.fixture(scope="module")
def card(ds: CertifiedKey) -> ChipData:
    return issue_chip(holder(), ds.private_key, ds.certificate, with_active_auth=True)


@pytest.fixture(scope="module")
def other_card(ds: CertifiedKey) -> ChipData:
    other = holder(
        id_number="079190000001",
        full_name="Trần Thị Bình",
        date_of_birth=date(1990, 1, 1),
        sex="F",
        face_seed=99,
    )
    return issue_chip(other, ds.private_key, ds.certificate)


@pytest.fixture(scope="module")
def rogue_csca() -> CertifiedKey:
    return create_csca(common_name="CSCA of nobody")


def verify(card: ChipData, store: TrustStore, at: datetime = NOW) -> PassiveAuthReport:
    return passive_authentication(card, store, at=at)


def failed(report: PassiveAuthReport) -> dict[str, str]:
    return {s.name: s.detail for s in report.failures}


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def edit_sod(sod: bytes, edit: Callable[[cms.SignedData], None]) -> bytes:
    """Re-encode the SOD after changing its SignedData (no re-signing)."""
    content_info = cms.ContentInfo.load(tlv.read_one(sod, field="sod", tag=0x77).value)
    edit(content_info["content"])
    return tlv.encode_tlv(0x77, content_info.dump(force=True))


def forged_ds(
    issuer: x509.Certificate,
    signing_key: ec.EllipticCurvePrivateKey,
    *,
    authority_key: ec.EllipticCurvePublicKey,
    digital_signature: bool = True,
) -> CertifiedKey:
    """A DS certificate naming ``issuer`` (its name, the key id of ``authority_key``), signed by
    ``signing_key``."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature, False, False, False, False, not digital_signature, False, False, False
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "forged DS")]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(usage, critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key), critical=False)
        .sign(signing_key, hashes.SHA256())
    )
    return CertifiedKey(certificate=cert, private_key=key)


# --------------------------------------------------------------------------- the MRZ of DG1
def test_the_mrz_holds_the_last_nine_digits_as_document_number_and_the_full_number_in_optional_data() -> None:
    line1, line2, line3 = holder().mrz_lines()
    assert (len(line1), len(line2), len(line3)) == (30, 30, 30)
    assert line1.startswith("IDVNM085012345") and line1[14] == check_digit("085012345")
    assert line1[15:27] == "001085012345"
    assert line2[:7] == "850302" + check_digit("850302")
    assert line2[7] == "M" and line2[15:18] == "VNM"
    assert line3 == "NGUYEN<<VAN<AN" + "<" * 16


def test_a_card_without_expiry_has_filler_in_the_mrz_expiry_field() -> None:
    _, line2, _ = holder(expiry_date=None).mrz_lines()
    assert line2[8:15] == "<<<<<<0"


def test_the_mrz_refuses_a_malformed_id_number_or_one_that_contradicts_the_birth_date() -> None:
    with pytest.raises(DomainValidationError) as exc:
        holder(id_number="12345").mrz_lines()
    assert only_problem(exc) == ("id_number", "digits")
    with pytest.raises(DomainValidationError) as exc:
        holder(date_of_birth=date(1986, 3, 2)).mrz_lines()  # the ID number says born 1985
    assert only_problem(exc) == ("id_number", "birth_year")


@pytest.mark.parametrize("expiry", [date(2045, 3, 2), None])
def test_the_dg1_written_by_the_issuer_parses_as_a_td1_mrz_with_the_citizens_id_number(
    ds: CertifiedKey, expiry: date | None
) -> None:
    person = holder(expiry_date=expiry)
    chip = issue_chip(person, ds.private_key, ds.certificate)
    assert chip.dg1 is not None
    mrz = parse_td1("\n".join(parse_dg1(chip.dg1)), reference=REFERENCE)
    assert mrz.id_number == "001085012345"
    assert (mrz.date_of_birth, mrz.sex, mrz.date_of_expiry) == (date(1985, 3, 2), "M", expiry)
    assert (mrz.primary_identifier, mrz.secondary_identifier) == ("NGUYEN", "VAN AN")


# --------------------------------------------------------------------------- TLV reader
def test_tlv_reads_multi_byte_tags_and_long_form_lengths() -> None:
    value = b"x" * 300
    encoded = tlv.encode_tlv(0x5F2E, value)
    assert encoded[:5] == bytes([0x5F, 0x2E, 0x82, 0x01, 0x2C])
    item = tlv.read_one(encoded, field="f", tag=0x5F2E)
    assert item.value == value and not item.constructed
    assert tlv.read_one(tlv.encode_tlv(0x7F61, b""), field="f").constructed


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "truncated"),
        (b"\x30", "truncated"),
        (b"\x30\x05abc", "truncated"),
        (b"\x5f", "truncated"),
        (b"\x30\x82\x01", "truncated"),
        (b"\x30\x80\x00\x00", "indefinite_length"),
        (b"\x30\x85\x00\x00\x00\x00\x01x", "length_too_long"),
        (b"\x30\xff", "length_too_long"),
        (b"\x1f\x81\x81\x81\x01\x00", "tag_too_long"),
        (b"\x04\x01a\x00", "trailing_bytes"),
        (b"\x04\x01a", "unexpected_tag"),
    ],
)
def test_tlv_reader_names_the_rule_a_malformed_object_breaks(data: bytes, rule: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        tlv.read_one(data, field="dg13", tag=0x30 if rule == "unexpected_tag" else None)
    assert only_problem(exc) == ("dg13", rule)


def test_oid_encoding_round_trips_and_malformed_oids_are_refused() -> None:
    for dotted in ("2.23.136.1.1.1", "1.2.840.113549.1.9.4", DG13_SYNTHETIC_OID, "0.4.0.127.0.7.1.1.4.1.3"):
        encoded = tlv.encode_oid(dotted)
        assert tlv.decode_oid(tlv.read_one(encoded, field="o"), field="o") == dotted
    with pytest.raises(DomainValidationError) as exc:
        tlv.decode_oid(tlv.Tlv(0x06, b"\x2a\x86", False), field="o")
    assert only_problem(exc) == ("o", "oid")


def read_tree(data: bytes) -> int:
    """Every object of a BER-TLV tree, read with the module's reader; the number of objects."""
    count = 0
    for item in tlv.read_all(data, field="fuzz"):
        count += 1 + (read_tree(item.value) if item.constructed else 0)
    return count


TLV_LIKE = st.one_of(
    st.binary(max_size=300),
    st.lists(st.tuples(st.sampled_from([0x30, 0x31, 0x5F1F, 0x7F61, 0x04]), st.binary(max_size=40))).map(
        lambda items: b"".join(tlv.encode_tlv(tag, value) for tag, value in items)
    ),
)


@FUZZ
@given(TLV_LIKE)
def test_the_tlv_reader_on_arbitrary_bytes_returns_objects_or_raises_a_domain_error(data: bytes) -> None:
    try:
        count = read_tree(data)
    except DomainValidationError as exc:
        assert exc.problems[0].field == "fuzz" and exc.problems[0].rule
    else:
        assert count >= (1 if data else 0)


@FUZZ
@given(st.binary(min_size=1, max_size=200), st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_the_tlv_reader_never_reads_past_a_mutated_length(value: bytes, index: int, octet: int) -> None:
    encoded = bytearray(tlv.encode_tlv(0x5F2E, value))
    encoded[index % len(encoded)] = octet
    try:
        item = tlv.read_one(bytes(encoded), field="fuzz")
    except DomainValidationError as exc:
        assert exc.problems[0].field == "fuzz"
    else:
        assert len(item.value) < len(encoded)


# --------------------------------------------------------------------------- PKI
def test_the_csca_is_a_self_signed_ca_for_certificates_and_crls(csca: CertifiedKey) -> None:
    cert = csca.certificate
    assert cert.issuer == cert.subject
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    cert.verify_directly_issued_by(cert)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)


def test_the_document_signer_may_only_sign_and_lives_inside_the_csca_validity(
    csca: CertifiedKey, ds: CertifiedKey
) -> None:
    cert = ds.certificate
    cert.verify_directly_issued_by(csca.certificate)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    ski = csca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert aki == ski
    doc_types = cert.extensions.get_extension_for_oid(OID_DOCUMENT_TYPE_LIST).value
    assert isinstance(doc_types, x509.UnrecognizedExtension) and doc_types.value.endswith(b"\x13\x02ID")
    assert csca.certificate.not_valid_before_utc <= cert.not_valid_before_utc
    assert cert.not_valid_after_utc < csca.certificate.not_valid_after_utc


def test_a_document_signer_outliving_its_csca_is_refused(csca: CertifiedKey) -> None:
    with pytest.raises(DomainValidationError) as exc:
        create_document_signer(csca, validity=timedelta(days=20 * 365))
    assert only_problem(exc) == ("validity", "within_csca")


def test_naive_datetimes_are_refused_when_creating_certificates() -> None:
    with pytest.raises(DomainValidationError) as exc:
        create_csca(not_before=datetime(2020, 1, 1))
    assert only_problem(exc) == ("not_before", "timezone")


def test_a_key_pair_round_trips_through_encrypted_pem_files(tmp_path: Path, ds: CertifiedKey) -> None:
    cert_path, key_path = ds.save(tmp_path, "ds", password=b"s3cret")
    assert b"ENCRYPTED" in key_path.read_bytes()
    assert key_path.stat().st_mode & 0o777 == 0o600
    loaded = CertifiedKey.load(tmp_path, "ds", password=b"s3cret")
    assert loaded.certificate == ds.certificate
    assert loaded.private_key.public_key() == ds.private_key.public_key()
    assert cert_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_loading_a_key_that_does_not_belong_to_the_certificate_fails(
    csca: CertifiedKey, ds: CertifiedKey
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        CertifiedKey.from_pem(ds.certificate_pem(), csca.private_key_pem())
    assert only_problem(exc) == ("private_key", "key_mismatch")
    with pytest.raises(DomainValidationError) as exc:
        CertifiedKey.from_pem(b"not pem", b"not pem")
    assert only_problem(exc) == ("pem", "unreadable")


def test_the_trust_store_loads_from_a_directory_a_bundle_and_the_environment(
    tmp_path: Path, csca: CertifiedKey, rogue_csca: CertifiedKey
) -> None:
    (tmp_path / "vn.pem").write_bytes(csca.certificate_pem())
    (tmp_path / "other.der").write_bytes(rogue_csca.certificate.public_bytes(Encoding.DER))
    (tmp_path / "README.txt").write_text("ignored")
    assert len(TrustStore.from_directory(tmp_path)) == 2
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(csca.certificate_pem() + rogue_csca.certificate_pem() + csca.certificate_pem())
    from_bundle = TrustStore.from_path(bundle)
    assert len(from_bundle) == 2  # duplicates ignored
    assert (
        TrustStore.from_pem_bundle(from_bundle.to_pem_bundle()).to_pem_bundle() == from_bundle.to_pem_bundle()
    )
    assert len(TrustStore.from_env({TRUST_STORE_ENV: str(bundle)})) == 2


def test_the_trust_store_refuses_non_ca_certificates_and_unreadable_files(
    tmp_path: Path, ds: CertifiedKey
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        TrustStore([ds.certificate])
    assert only_problem(exc) == ("trust_store", "not_a_ca")
    (tmp_path / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(DomainValidationError) as exc:
        TrustStore.from_directory(tmp_path)
    assert only_problem(exc) == ("trust_store", "certificate")
    with pytest.raises(DomainValidationError) as exc:
        TrustStore.from_path(tmp_path / "missing")
    assert only_problem(exc) == ("trust_store", "missing")


def test_the_chain_check_is_cached_per_ds_and_forgotten_when_a_csca_is_added(
    csca: CertifiedKey, ds: CertifiedKey, rogue_csca: CertifiedKey
) -> None:
    store = TrustStore([csca.certificate])
    first = store.check_issued(ds.certificate)
    assert first.failed_step == "" and first.csca == csca.certificate
    assert store.check_issued(ds.certificate) is first
    store.add(rogue_csca.certificate)
    assert store.check_issued(ds.certificate) is not first


# --------------------------------------------------------------------------- DG1, DG2, EF.COM
def test_dg1_holds_the_three_td1_lines(card: ChipData) -> None:
    assert card.dg1 is not None and card.dg1[:1] == b"\x61"
    assert parse_dg1(card.dg1) == holder().mrz_lines()


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (tlv.encode_tlv(0x61, tlv.encode_tlv(0x5F1F, b"P<UTO" + b"<" * 83)), "td1_length"),
        (tlv.encode_tlv(0x61, tlv.encode_tlv(0x5F1F, b"a" * 90)), "mrz_charset"),
        (tlv.encode_tlv(0x61, tlv.encode_tlv(0x5F1F, b"\xff" * 90)), "mrz_charset"),
        (tlv.encode_tlv(0x75, b""), "unexpected_tag"),
    ],
)
def test_a_malformed_dg1_names_the_rule(data: bytes, rule: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_dg1(data)
    assert only_problem(exc) == ("dg1", rule)


def test_dg1_encoding_refuses_anything_but_td1() -> None:
    with pytest.raises(DomainValidationError) as exc:
        encode_dg1(("abc", "def", "ghi"))
    assert only_problem(exc) == ("dg1", "td1")


def test_the_synthetic_face_is_deterministic_per_seed_and_sized_like_a_card_photo() -> None:
    face = synthetic_face_jpeg(7)
    assert face == synthetic_face_jpeg(7)
    assert face != synthetic_face_jpeg(8)
    assert face.startswith(b"\xff\xd8") and 12_000 <= len(face) <= 25_000


def test_dg2_keeps_the_real_tag_structure_and_gives_back_the_same_jpeg(card: ChipData) -> None:
    assert card.dg2 is not None
    outer = tlv.read_one(card.dg2, field="dg2", tag=0x75)
    group = tlv.read_one(outer.value, field="dg2", tag=0x7F61)
    count, template = group.children(field="dg2")
    assert (count.tag, count.value) == (0x02, b"\x01")
    header, block = template.children(field="dg2")
    assert template.tag == 0x7F60 and header.tag == 0xA1 and block.tag == 0x5F2E
    assert block.value.startswith(b"FAC\x00010\x00")
    face = parse_dg2(card.dg2)
    assert face.image == synthetic_face_jpeg(7)
    assert (face.image_format, face.width, face.height) == ("jpeg", 240, 320)


def test_a_dg2_whose_face_record_length_lies_is_refused(card: ChipData) -> None:
    image = synthetic_face_jpeg(1)
    dg2 = encode_dg2(image)
    record_start = dg2.index(b"FAC\x00")
    broken = dg2[: record_start + 8] + (10).to_bytes(4, "big") + dg2[record_start + 12 :]
    with pytest.raises(DomainValidationError) as exc:
        parse_dg2(broken)
    assert only_problem(exc) == ("dg2", "face_record")
    with pytest.raises(DomainValidationError) as exc:
        encode_dg2(b"GIF89a not a jpeg")
    assert exc.value.problems[0].field == "dg2"


def test_ef_com_lists_the_data_groups_present(card: ChipData) -> None:
    assert card.com is not None
    com = parse_com(card.com)
    assert (com.lds_version, com.unicode_version, com.data_groups) == ("0107", "040000", (1, 2, 13, 14, 15))
    assert parse_com(encode_com([13, 1])).data_groups == (1, 13)


# --------------------------------------------------------------------------- DG13
def test_dg13_round_trips_every_field_including_unknown_ones() -> None:
    original = replace(holder().dg13(), unknown_fields={16: ("thêm",), 20: ("a", "b")})
    parsed = parse_dg13(encode_dg13(original))
    assert parsed == original
    assert parsed.unknown_fields == {16: ("thêm",), 20: ("a", "b")}
    assert (parsed.father_name, parsed.mother_name, parsed.spouse_name) == (
        "Nguyễn Văn Bình",
        "Trần Thị Chi",
        "Lê Thị Dung",
    )


def test_dg13_reads_dates_as_dates_sex_as_m_or_f_and_no_expiry_as_none() -> None:
    parsed = parse_dg13(encode_dg13(holder(sex="F", expiry_date=None).dg13()))
    assert parsed.date_of_birth == date(1985, 3, 2) and parsed.issue_date == date(2021, 4, 1)
    assert parsed.sex == "F"
    assert parsed.expiry_date is None


def test_dg13_is_the_structure_domain_vn_describes(card: ChipData) -> None:
    assert card.dg13 is not None
    body = tlv.read_one(tlv.read_one(card.dg13, field="t", tag=0x6D).value, field="t", tag=0x30)
    version, oid, fields = body.children(field="t")
    assert tlv.decode_integer(version, field="t") == 1
    assert tlv.decode_oid(oid, field="t") == DG13_SYNTHETIC_OID
    entries = {
        tlv.decode_integer(e.children(field="t")[0], field="t"): [
            v.value.decode() for v in e.children(field="t")[1:]
        ]
        for e in fields.children(field="t")
    }
    assert sorted(entries) == list(range(1, 16))
    assert entries[1] == ["001085012345"]
    assert entries[3] == ["02/03/1985"]
    assert entries[4] == ["Nam"]
    assert entries[13] == ["Nguyễn Văn Bình", "Trần Thị Chi"]
    assert entries[14] == ["Lê Thị Dung"]
    assert entries[15] == ["012345678"]


def _dg13_from(entries: list[tuple[int, list[bytes]]], *, string_tag: int = 0x0C) -> bytes:
    fields = b"".join(
        tlv.encode_tlv(0x30, tlv.encode_integer(n) + b"".join(tlv.encode_tlv(string_tag, v) for v in values))
        for n, values in entries
    )
    body = tlv.encode_integer(1) + tlv.encode_oid("1.2.3.4") + tlv.encode_tlv(0x31, fields)
    return tlv.encode_tlv(0x6D, tlv.encode_tlv(0x30, body))


VALID_ENTRIES: list[tuple[int, list[bytes]]] = [
    (12, [b"02/03/2045"]),  # any order: a SET
    (1, [b"001085012345"]),
    (2, ["Nguyễn Văn An".encode()]),
    (3, [b"02/03/1985"]),
    (4, [b"Nam"]),
    (5, ["Việt Nam".encode()]),
    (6, [b"Kinh"]),
    (7, ["Không".encode()]),
    (8, [b"x"]),
    (9, [b"y"]),
    (10, [b""]),
    (11, [b"01/04/2021"]),
]


def test_dg13_accepts_fields_in_any_order_printable_strings_and_absent_optional_fields() -> None:
    parsed = parse_dg13(_dg13_from(VALID_ENTRIES))
    assert parsed.oid == "1.2.3.4" and parsed.id_number == "001085012345"
    assert (parsed.father_name, parsed.spouse_name, parsed.old_id_number) == ("", "", "")
    printable = [(n, [value if value.isascii() else b"A"]) for n, (value,) in VALID_ENTRIES]
    assert parse_dg13(_dg13_from(printable, string_tag=0x13)).full_name == "A"


def _with(number: int, values: list[bytes] | None) -> list[tuple[int, list[bytes]]]:
    kept = [(n, v) for n, v in VALID_ENTRIES if n != number]
    return kept if values is None else [*kept, (number, values)]


@pytest.mark.parametrize(
    ("entries", "field", "rule"),
    [
        (_with(3, [b"1985-03-02"]), "dg13.date_of_birth", "date_format"),
        (_with(11, [b"31/02/2021"]), "dg13.issue_date", "date_format"),
        (_with(12, [b"soon"]), "dg13.expiry_date", "date_format"),
        (_with(4, [b"X"]), "dg13.sex", "sex"),
        (_with(1, [b"12345"]), "dg13.id_number", "digits"),
        (_with(2, None), "dg13.full_name", "missing_field"),
        (_with(2, [b"a", b"b"]), "dg13.full_name", "value_count"),
        (_with(13, [b"a", b"b", b"c"]), "dg13.father_name", "value_count"),
        (_with(2, [b"\xff\xfe"]), "dg13.field_2", "utf8"),
        ([*VALID_ENTRIES, (1, [b"001085012345"])], "dg13", "duplicate_field"),
    ],
)
def test_a_bad_dg13_field_is_named_with_the_rule_it_breaks(
    entries: list[tuple[int, list[bytes]]], field: str, rule: str
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_dg13(_dg13_from(entries))
    assert only_problem(exc) == (field, rule)
    assert "Nguyễn" not in str(exc.value)  # errors never echo personal data


def test_dg13_reports_every_bad_field_at_once() -> None:
    entries = [(n, v) for n, v in VALID_ENTRIES if n not in (3, 4)] + [(3, [b"x"]), (4, [b"?"])]
    with pytest.raises(DomainValidationError) as exc:
        parse_dg13(_dg13_from(entries))
    assert {p.field for p in exc.value.problems} == {"dg13.date_of_birth", "dg13.sex"}


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"\x6d\x00", "truncated"),
        (tlv.encode_tlv(0x6D, tlv.encode_tlv(0x30, tlv.encode_integer(1))), "structure"),
        (
            tlv.encode_tlv(
                0x6D,
                tlv.encode_tlv(
                    0x30, tlv.encode_integer(1) + tlv.encode_oid("1.2") + tlv.encode_tlv(0x30, b"")
                ),
            ),
            "unexpected_tag",
        ),
        (tlv.encode_tlv(0x61, b""), "unexpected_tag"),
    ],
)
def test_a_structurally_broken_dg13_is_refused(data: bytes, rule: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_dg13(data)
    field, got = only_problem(exc)
    assert field.startswith("dg13") and got == rule


@FUZZ
@given(st.binary(max_size=400))
def test_dg13_parser_on_arbitrary_bytes_returns_or_raises_a_domain_error(data: bytes) -> None:
    try:
        result = parse_dg13(data)
    except DomainValidationError as exc:
        assert all(p.field.startswith("dg13") for p in exc.problems)
    else:
        assert isinstance(result, DG13)


@FUZZ
@given(index=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_dg13_parser_on_single_byte_mutations_returns_or_raises_a_domain_error(
    card: ChipData, index: int, value: int
) -> None:
    assert card.dg13 is not None
    i = index % len(card.dg13)
    mutated = card.dg13[:i] + bytes([value]) + card.dg13[i + 1 :]
    try:
        parse_dg13(mutated)
    except DomainValidationError as exc:
        assert exc.problems


# --------------------------------------------------------------------------- the wire form
def test_chip_data_round_trips_through_the_base64_dict_a_reader_app_posts(card: ChipData) -> None:
    payload = card.to_dict()
    assert set(payload) == {"sod", "com", "dg1", "dg2", "dg13", "dg14", "dg15"}
    assert base64.b64decode(payload["dg13"]) == card.dg13
    again = ChipData.from_dict(payload)
    assert again == card
    assert again.aa_private_key is None  # the chip's secret never travels


def test_chip_data_from_a_bad_payload_names_every_bad_key() -> None:
    with pytest.raises(DomainValidationError) as exc:
        ChipData.from_dict({"dg1": "not base64!", "dg99": "AA==", "dg2": 5, "photo": "AA=="})
    assert {(p.field, p.rule) for p in exc.value.problems} == {
        ("dg1", "base64"),
        ("dg99", "unknown_key"),
        ("dg2", "type"),
        ("photo", "unknown_key"),
        ("sod", "required"),
    }
    with pytest.raises(DomainValidationError) as exc:
        ChipData.from_dict({"sod": "A" * (2 << 20)})
    assert only_problem(exc) == ("sod", "too_large")


# --------------------------------------------------------------------------- passive authentication
def test_a_genuine_chip_passes_every_step_of_passive_authentication(
    card: ChipData, store: TrustStore
) -> None:
    report = verify(ChipData.from_dict(card.to_dict()), store)
    assert report.ok, failed(report)
    assert [s.name for s in report.steps] == [
        "sod.parse",
        "sod.content_type",
        "sod.lds_object",
        "ds.certificate",
        "ds.issuer",
        "ds.chain_signature",
        "ds.validity",
        "csca.validity",
        "ds.key_usage",
        "sod.signed_attributes",
        "sod.signature",
        "dg.present",
        "dg1.hash",
        "dg2.hash",
        "dg13.hash",
        "dg14.hash",
        "dg15.hash",
        "dg1.parse",
        "dg2.parse",
        "dg13.parse",
    ]
    assert all(s.ok for s in report.steps)
    assert report.mrz_lines == holder().mrz_lines()
    assert report.dg13 == holder().dg13()
    assert report.face is not None and report.face.image == synthetic_face_jpeg(7)
    assert report.verified_data_groups == (1, 2, 13, 14, 15)
    assert report.hash_algorithm == "sha256"


def test_the_report_summary_carries_no_personal_data(card: ChipData, store: TrustStore) -> None:
    text = str(verify(card, store).as_dict())
    for personal in ("Nguyễn", "001085012345", "1985", "Tây Hồ"):
        assert personal not in text


def test_one_byte_changed_in_dg1_fails_the_dg1_hash(card: ChipData, store: TrustStore) -> None:
    assert card.dg1 is not None
    report = verify(card.replace(dg1=flip(card.dg1, 20)), store)
    assert not report.ok
    assert list(failed(report)) == ["dg1.hash"]
    assert "differs from the SOD" in failed(report)["dg1.hash"]
    assert report.mrz_lines is None and report.read_mrz_lines is not None  # read, but not trusted


def test_one_byte_changed_in_dg13_fails_the_dg13_hash(card: ChipData, store: TrustStore) -> None:
    assert card.dg13 is not None
    report = verify(card.replace(dg13=flip(card.dg13, len(card.dg13) - 3)), store)
    assert list(failed(report)) == ["dg13.hash"]
    assert report.dg13 is None and report.read_dg13 is not None


def test_another_persons_dg2_fails_the_dg2_hash(
    card: ChipData, other_card: ChipData, store: TrustStore
) -> None:
    report = verify(card.replace(dg2=other_card.dg2), store)
    assert list(failed(report)) == ["dg2.hash"]
    assert "another chip" in failed(report)["dg2.hash"]


def test_a_sod_resigned_by_an_untrusted_document_signer_fails_at_the_issuer(
    card: ChipData, store: TrustStore, rogue_csca: CertifiedKey
) -> None:
    rogue_ds = create_document_signer(rogue_csca)
    sod = build_sod(card.data_groups, rogue_ds.private_key, rogue_ds.certificate)
    report = verify(card.replace(sod=sod), store)
    assert list(failed(report)) == ["ds.issuer"]
    assert "no CSCA in the trust store" in failed(report)["ds.issuer"]
    assert report.step("sod.signature") is not None and report.step("sod.signature").ok  # type: ignore[union-attr]


def test_a_csca_reusing_the_trusted_name_with_another_key_is_not_the_issuer(
    card: ChipData, store: TrustStore, csca: CertifiedKey
) -> None:
    name_twin = create_csca(common_name="CSCA VN (synthetic, not the real Vietnamese CSCA)")
    assert name_twin.certificate.subject == csca.certificate.subject
    twin_ds = create_document_signer(name_twin)
    report = verify(
        card.replace(sod=build_sod(card.data_groups, twin_ds.private_key, twin_ds.certificate)), store
    )
    assert list(failed(report)) == ["ds.issuer"]
    assert "key identifier" in failed(report)["ds.issuer"]


def test_a_ds_certificate_not_signed_by_the_trusted_csca_fails_the_chain_signature(
    card: ChipData, store: TrustStore, csca: CertifiedKey, rogue_csca: CertifiedKey
) -> None:
    forged = forged_ds(csca.certificate, rogue_csca.private_key, authority_key=csca.private_key.public_key())
    report = verify(
        card.replace(sod=build_sod(card.data_groups, forged.private_key, forged.certificate)), store
    )
    assert list(failed(report)) == ["ds.chain_signature"]
    assert "not signed by the trusted CSCA" in failed(report)["ds.chain_signature"]


def test_a_ds_key_without_digital_signature_usage_fails_the_key_usage(
    card: ChipData, store: TrustStore, csca: CertifiedKey
) -> None:
    signer = forged_ds(
        csca.certificate,
        csca.private_key,
        authority_key=csca.private_key.public_key(),
        digital_signature=False,
    )
    report = verify(
        card.replace(sod=build_sod(card.data_groups, signer.private_key, signer.certificate)), store
    )
    assert list(failed(report)) == ["ds.key_usage"]


def test_verifying_after_the_ds_certificate_expired_fails_the_ds_validity(
    card: ChipData, store: TrustStore, ds: CertifiedKey
) -> None:
    later = ds.certificate.not_valid_after_utc + timedelta(days=1)
    report = verify(card, store, at=later)
    assert list(failed(report)) == ["ds.validity"]
    assert "expired" in failed(report)["ds.validity"]


def test_verifying_before_the_ds_certificate_is_valid_fails_the_ds_validity(
    card: ChipData, store: TrustStore, ds: CertifiedKey
) -> None:
    report = verify(card, store, at=ds.certificate.not_valid_before_utc - timedelta(seconds=1))
    assert "ds.validity" in failed(report) and "not yet valid" in failed(report)["ds.validity"]


def test_a_chip_signed_by_a_ds_whose_validity_is_over_fails_only_the_ds_validity() -> None:
    old_csca = create_csca(not_before=datetime(2012, 1, 1, tzinfo=UTC), validity=timedelta(days=20 * 365))
    old_ds = create_document_signer(
        old_csca, not_before=datetime(2013, 1, 1, tzinfo=UTC), validity=timedelta(days=5 * 365)
    )
    old_card = issue_chip(holder(issue_date=date(2013, 2, 1)), old_ds.private_key, old_ds.certificate)
    report = verify(old_card, TrustStore([old_csca.certificate]))
    assert list(failed(report)) == ["ds.validity"]
    assert verify(old_card, TrustStore([old_csca.certificate]), at=datetime(2015, 6, 1, tzinfo=UTC)).ok


def test_verifying_after_the_csca_expired_fails_the_csca_validity_too(
    card: ChipData, store: TrustStore, csca: CertifiedKey
) -> None:
    report = verify(card, store, at=csca.certificate.not_valid_after_utc + timedelta(days=1))
    assert list(failed(report)) == ["ds.validity", "csca.validity"]


@pytest.mark.parametrize("missing", ["dg1", "dg13"])
def test_a_missing_mandatory_data_group_fails_the_presence_step(
    card: ChipData, store: TrustStore, missing: str
) -> None:
    report = verify(card.replace(**{missing: None}), store)
    assert list(failed(report)) == ["dg.present"]
    assert f"not read: DG{missing[2:]}" in failed(report)["dg.present"]


def test_a_missing_optional_dg2_is_fine_but_mandatory_groups_are_configurable(
    card: ChipData, store: TrustStore
) -> None:
    assert verify(card.replace(dg2=None), store).ok
    report = passive_authentication(card.replace(dg2=None), store, at=NOW, mandatory=(1, 2, 13))
    assert list(failed(report)) == ["dg.present"]


def test_a_sod_without_the_hash_of_a_mandatory_group_fails(
    card: ChipData, store: TrustStore, ds: CertifiedKey
) -> None:
    groups = {n: v for n, v in card.data_groups.items() if n != 13}
    sod = build_sod(groups, ds.private_key, ds.certificate)
    report = verify(card.replace(sod=sod), store)
    assert set(failed(report)) == {"dg.present", "dg13.hash"}
    assert "no hash in the SOD: DG13" in failed(report)["dg.present"]


def test_a_data_group_read_but_absent_from_the_sod_fails(card: ChipData, store: TrustStore) -> None:
    report = verify(card.replace(dg3=b"\x63\x00"), store)
    assert list(failed(report)) == ["dg3.hash"]
    assert "no hash" in failed(report)["dg3.hash"]


@pytest.mark.parametrize(
    "sod",
    [
        b"",
        b"\x77\x00",
        b"garbage bytes, not a SOD",
        b"\x77\x03\x30\x01\x00",
        tlv.encode_tlv(0x77, b"\x30\x80"),
    ],
)
def test_garbage_instead_of_the_sod_fails_the_sod_parse_step(
    card: ChipData, store: TrustStore, sod: bytes
) -> None:
    report = verify(card.replace(sod=sod), store)
    assert [s.name for s in report.steps] == ["sod.parse"]
    assert not report.ok and report.steps[0].detail


def test_a_truncated_sod_fails_the_sod_parse_step(card: ChipData, store: TrustStore) -> None:
    report = verify(card.replace(sod=card.sod[:-10]), store)
    assert [(s.name, s.ok) for s in report.steps] == [("sod.parse", False)]
    assert "truncated" in report.steps[0].detail


def test_garbage_instead_of_dg13_fails_its_hash_and_its_parse(card: ChipData, store: TrustStore) -> None:
    report = verify(card.replace(dg13=b"\x6d\x05garbage"), store)
    assert set(failed(report)) == {"dg13.hash", "dg13.parse"}
    assert "dg13 [trailing_bytes]" in failed(report)["dg13.parse"]


def test_a_sod_whose_content_is_not_an_lds_security_object_fails_the_content_type(
    card: ChipData, store: TrustStore
) -> None:
    def retype(signed_data: cms.SignedData) -> None:
        signed_data["encap_content_info"]["content_type"] = "data"

    report = verify(card.replace(sod=edit_sod(card.sod, retype)), store)
    assert [(s.name, s.ok) for s in report.steps][-1] == ("sod.content_type", False)


def test_a_sod_whose_hash_list_was_edited_fails_the_message_digest_and_the_hash(
    card: ChipData, store: TrustStore, other_card: ChipData
) -> None:
    other_dg2 = other_card.dg2
    assert other_dg2 is not None

    def swap_dg2_hash(signed_data: cms.SignedData) -> None:
        from dancu.blocks.identity.chip.sod import LDSSecurityObject

        econtent = signed_data["encap_content_info"]["content"]
        lso = LDSSecurityObject.load(bytes(econtent))
        for item in lso["data_group_hash_values"]:
            if item["data_group_number"].native == 2:
                item["data_group_hash_value"] = hashlib.sha256(other_dg2).digest()
        signed_data["encap_content_info"]["content"] = cms.ParsableOctetString(lso.dump(force=True))

    report = verify(card.replace(sod=edit_sod(card.sod, swap_dg2_hash), dg2=other_dg2), store)
    assert list(failed(report)) == ["sod.signed_attributes"]
    assert "message-digest" in failed(report)["sod.signed_attributes"]


def test_a_changed_signature_fails_the_signature_step(card: ChipData, store: TrustStore) -> None:
    def spoil(signed_data: cms.SignedData) -> None:
        signer = signed_data["signer_infos"][0]
        signer["signature"] = flip(signer["signature"].native, 10)

    report = verify(card.replace(sod=edit_sod(card.sod, spoil)), store)
    assert list(failed(report)) == ["sod.signature"]


def test_a_sod_without_its_ds_certificate_fails_at_the_certificate(card: ChipData, store: TrustStore) -> None:
    def strip(signed_data: cms.SignedData) -> None:
        signed_data["certificates"] = []

    report = verify(card.replace(sod=edit_sod(card.sod, strip)), store)
    assert "ds.certificate" in failed(report)
    assert not report.ok


def test_an_unreadable_embedded_certificate_fails_at_the_certificate(
    card: ChipData, store: TrustStore, ds: CertifiedKey
) -> None:
    der = ds.certificate.public_bytes(Encoding.DER)
    start = card.sod.index(der)
    assert der[8:13] == b"\xa0\x03\x02\x01\x02"  # tbsCertificate.version = v3
    broken = card.sod[: start + 12] + b"\x21" + card.sod[start + 13 :]  # version 34 does not exist
    report = verify(card.replace(sod=broken), store)
    assert list(failed(report)) == ["ds.certificate"]
    assert "unreadable certificate" in failed(report)["ds.certificate"]


def test_a_sod_signed_with_rsa_pss_by_an_rsa_document_signer_verifies(
    card: ChipData, store: TrustStore, csca: CertifiedKey
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "RSA DS")]))
        .issuer_name(csca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.private_key.public_key()), critical=False
        )
        .sign(csca.private_key, hashes.SHA256())
    )
    sod = build_sod(card.data_groups, key, cert)
    parsed = parse_sod(sod)
    assert (parsed.signer.signature_algorithm, parsed.signer.pss_salt_length) == ("rsassa_pss", 32)
    report = verify(card.replace(sod=sod), store)
    assert report.ok, failed(report)

    def spoil(signed_data: cms.SignedData) -> None:
        signer = signed_data["signer_infos"][0]
        signer["signature"] = flip(signer["signature"].native, 100)

    assert list(failed(verify(card.replace(sod=edit_sod(sod, spoil)), store))) == ["sod.signature"]


def test_a_naive_verification_time_is_a_caller_error(card: ChipData, store: TrustStore) -> None:
    with pytest.raises(DomainValidationError) as exc:
        passive_authentication(card, store, at=datetime(2030, 1, 1))
    assert only_problem(exc) == ("at", "timezone")


def test_parse_sod_exposes_the_signer_and_the_certificate(card: ChipData, ds: CertifiedKey) -> None:
    parsed = parse_sod(card.sod)
    assert parsed.content_type == "2.23.136.1.1.1"
    assert parsed.signer.serial_number == ds.certificate.serial_number
    assert parsed.signer.signature_algorithm == "ecdsa" and parsed.signer.signature_hash == "sha256"
    assert parsed.certificates == (ds.certificate.public_bytes(Encoding.DER),)


ARBITRARY_SOD = st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=600).map(lambda b: tlv.encode_tlv(0x77, b)),  # past the wrapper, into CMS
    st.binary(max_size=600).map(lambda b: tlv.encode_tlv(0x77, tlv.encode_tlv(0x30, b))),
)


@FUZZ
@given(ARBITRARY_SOD)
def test_passive_authentication_of_an_arbitrary_sod_gives_a_failed_report(
    card: ChipData, store: TrustStore, data: bytes
) -> None:
    report = verify(card.replace(sod=data), store)
    assert not report.ok and report.steps


@FUZZ
@given(index=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_single_byte_mutations_of_the_sod_always_give_a_report(
    card: ChipData, store: TrustStore, index: int, value: int
) -> None:
    i = index % len(card.sod)
    mutated = card.sod[:i] + bytes([value]) + card.sod[i + 1 :]
    report = verify(card.replace(sod=mutated), store)
    assert report.steps
    try:
        parse_sod(mutated)
    except DomainValidationError as exc:
        assert exc.problems[0].field.startswith("sod")


@FUZZ
@given(
    group=st.sampled_from([1, 13]),
    index=st.integers(min_value=0),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_single_byte_change_of_dg1_or_dg13_is_detected(
    card: ChipData, store: TrustStore, group: int, index: int, delta: int
) -> None:
    original = card.data_groups[group]
    i = index % len(original)
    mutated = original[:i] + bytes([(original[i] + delta) % 256]) + original[i + 1 :]
    report = verify(card.replace(**{f"dg{group}": mutated}), store)
    assert not report.ok
    assert f"dg{group}.hash" in failed(report)


# --------------------------------------------------------------------------- active authentication
def test_a_genuine_chip_answers_the_active_authentication_challenge(card: ChipData) -> None:
    assert card.dg14 is not None and parse_dg14_active_auth(card.dg14) == "sha256"
    assert card.dg15 is not None and isinstance(parse_dg15(card.dg15), ec.EllipticCurvePublicKey)
    report = active_authentication(card.dg15, card.simulated_chip(), dg14=card.dg14)
    assert report.ok, report.failures
    assert [s.name for s in report.steps] == ["dg15.parse", "dg14.aa_info", "aa.response", "aa.signature"]


def test_a_cloned_chip_without_the_private_key_fails_active_authentication(
    card: ChipData, ds: CertifiedKey
) -> None:
    clone = issue_chip(holder(), ds.private_key, ds.certificate, with_active_auth=True)  # another AA key
    report = active_authentication(card.dg15, clone.simulated_chip(), dg14=card.dg14)
    assert [s.name for s in report.failures] == ["aa.signature"]


def test_active_authentication_names_what_is_missing_or_malformed(
    card: ChipData, other_card: ChipData
) -> None:
    chip = card.simulated_chip()
    assert active_authentication(None, chip).failures[0].name == "dg15.parse"
    assert active_authentication(b"\x6f\x02\x30\x00", chip).failures[0].name == "dg15.parse"
    assert active_authentication(card.dg15, chip).failures[0].name == "dg14.aa_info"
    assert (
        active_authentication(card.dg15, lambda c: b"\x00" * 10, dg14=card.dg14).failures[0].name
        == "aa.signature"
    )
    with pytest.raises(DomainValidationError) as exc:
        other_card.simulated_chip()
    assert only_problem(exc) == ("dg15", "no_active_auth")
    with pytest.raises(DomainValidationError) as exc:
        chip.internal_authenticate(b"short")
    assert only_problem(exc) == ("challenge", "length")


def test_the_card_holder_is_validated_before_a_chip_is_issued(ds: CertifiedKey, csca: CertifiedKey) -> None:
    with pytest.raises(DomainValidationError) as exc:
        issue_chip(holder(id_number="123", sex="X", old_id_number="12AB"), ds.private_key, ds.certificate)
    assert {p.field for p in exc.value.problems} == {"id_number", "sex", "old_id_number"}
    with pytest.raises(DomainValidationError) as exc:
        issue_chip(holder(), csca.private_key, ds.certificate)
    assert only_problem(exc) == ("ds_key", "key_mismatch")
