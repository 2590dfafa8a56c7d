"""Printed receipts of the notary (model 8), checked by anyone. The notary clerk of Văn phòng
công chứng Tây Hồ verifies Nguyễn Văn An as the seller of an act and prints the signed receipt;
a bank clerk with no account on the platform later enters (or scans from the receipt's QR code)
its reference and signature, and learns whether the platform issued it and whether it is
unaltered — seeing only what the receipt shows. A wrong signature, a receipt altered in the
database, or one signed with a replaced key are told apart from a genuine one.

Also: the production key command (mode 0600, no overwrite without ``--force``)."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dancu.apps.desks import presenters, services
from dancu.apps.desks.models import SignedReceipt
from dancu.blocks.identity.services import QrEvidence
from dancu.errors import DomainValidationError
from dancu.ratelimit import Rate
from tests.blocks.identity.conftest import AN_ID, AN_NAME, AN_QR, TAY_HO_ADDRESS
from tests.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(residents: Any, notary_clerk: Person) -> services.ReceiptView:
    """The seller's signed receipt of act CC-2026/100 (Nguyễn Văn An, verified by card QR)."""
    act = services.create_act(notary_clerk.actor, "CC-2026/100", "sale")
    outcome = services.verify_party(
        services.desk_context(notary_clerk.actor), act.act_id, "Bên bán", QrEvidence(AN_QR)
    )
    return outcome.receipt


def _flip(signature: str) -> str:
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# --------------------------------------------------------------------------- the service
def test_a_genuine_receipt_is_confirmed_with_its_own_content_only(receipt: services.ReceiptView) -> None:
    check = services.check_receipt_publicly(receipt.receipt_id, receipt.signature)
    assert (check.genuine, check.rule, check.key_id) == (True, "ok", receipt.key_id)
    assert check.content == json.loads(receipt.document)  # exactly the signed, printed content
    assert check.content is not None and check.content["released"]["full_name"] == AN_NAME


def test_the_signature_may_be_typed_with_breaks_or_read_as_base64url(receipt: services.ReceiptView) -> None:
    spaced = " ".join(receipt.signature[i : i + 8] for i in range(0, len(receipt.signature), 8))
    assert services.check_receipt_publicly(f" {receipt.receipt_id.upper()} ", spaced).genuine
    query = parse_qs(services.receipt_check_query(receipt))
    assert query["r"] == [receipt.receipt_id]
    assert services.check_receipt_publicly(query["r"][0], query["s"][0]).genuine


def test_a_wrong_signature_or_an_unknown_reference_reveals_nothing(receipt: services.ReceiptView) -> None:
    wrong = services.check_receipt_publicly(receipt.receipt_id, _flip(receipt.signature))
    unknown = services.check_receipt_publicly("5b0f5a3c-2f4e-4c53-9a4e-1b7f0d6f2c11", receipt.signature)
    for check in (wrong, unknown):
        assert (check.genuine, check.rule, check.content) == (False, "not_found", None)


def test_a_receipt_altered_in_the_database_is_not_confirmed(receipt: services.ReceiptView) -> None:
    stored = SignedReceipt.objects.get(receipt_id=receipt.receipt_id)
    stored.document = stored.document.replace("Nguyễn Văn An", "Nguyễn Văn Ân")
    stored.save()
    check = services.check_receipt_publicly(receipt.receipt_id, receipt.signature)
    assert (check.genuine, check.rule, check.content) == (False, "altered", None)


def test_a_receipt_of_a_replaced_key_is_not_confirmed(
    receipt: services.ReceiptView, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_key = tmp_path / "new-key.pem"
    services.write_signing_key(new_key)
    monkeypatch.setenv(services.RECEIPT_KEY_ENV, str(new_key))
    check = services.check_receipt_publicly(receipt.receipt_id, receipt.signature)
    assert (check.genuine, check.rule, check.key_id) == (False, "unknown_key", receipt.key_id)
    services._keys.pop(new_key, None)


@pytest.mark.parametrize(
    ("reference", "signature", "fields"),
    [
        ("", "", {("receipt_id", "required"), ("signature", "required")}),
        ("CC-2026/100", "abc", {("receipt_id", "format"), ("signature", "length")}),
        ("5b0f5a3c-2f4e-4c53-9a4e-1b7f0d6f2c11", "not base64!", {("signature", "format")}),
    ],
)
def test_malformed_input_names_the_field(
    reference: str, signature: str, fields: set[tuple[str, str]]
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.check_receipt_publicly(reference, signature)
    assert {(p.field, p.rule) for p in exc.value.problems} == fields


# --------------------------------------------------------------------------- the page, no log-in
def test_anyone_checks_a_receipt_on_the_public_page(client: Client, receipt: services.ReceiptView) -> None:
    assert client.get("/desks/receipt-check/").status_code == 200  # no log-in asked
    response = client.get("/desks/receipt-check/", {"r": receipt.receipt_id, "s": receipt.signature})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="receipt-genuine"' in html and "Xác thực: giấy biên nhận do nền tảng cấp" in html
    assert AN_NAME in html and TAY_HO_ADDRESS in html and AN_ID in html and "CC-2026/100" in html
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_the_public_page_shows_nothing_for_a_wrong_signature(
    client: Client, receipt: services.ReceiptView
) -> None:
    html = client.get(
        "/desks/receipt-check/", {"r": receipt.receipt_id, "s": _flip(receipt.signature)}
    ).content.decode()
    assert 'data-testid="receipt-not-genuine"' in html and 'data-rule="not_found"' in html
    assert AN_NAME not in html and AN_ID not in html and "CC-2026/100" not in html
    response = client.get("/desks/receipt-check/", {"r": "nope", "s": ""})
    assert response.status_code == 400 and AN_NAME not in response.content.decode()


def test_the_printed_receipt_carries_a_qr_code_of_its_check_link(
    logged_in: Callable[[Person], Client], client: Client, receipt: services.ReceiptView, notary_clerk: Person
) -> None:
    page = logged_in(notary_clerk).get(f"/desks/receipts/{receipt.receipt_id}/").content.decode()
    assert 'data-testid="receipt-qr"' in page
    check_url = "http://testserver/desks/receipt-check/?" + services.receipt_check_query(receipt)
    assert presenters.qr_svg_data_uri(check_url) in page
    parts = urlsplit(check_url)
    html = client.get(parts.path + "?" + parts.query).content.decode()
    assert 'data-testid="receipt-genuine"' in html


def test_a_photo_of_the_receipt_qr_is_checked(client: Client, receipt: services.ReceiptView) -> None:
    import segno

    link = "https://dancu.example/desks/receipt-check/?" + services.receipt_check_query(receipt)
    buffer = BytesIO()
    segno.make_qr(link, error="m").save(buffer, kind="png", scale=6)
    photo = SimpleUploadedFile("receipt.png", buffer.getvalue(), content_type="image/png")
    html = client.post("/desks/receipt-check/", {"photo": photo}).content.decode()
    assert 'data-testid="receipt-genuine"' in html and AN_NAME in html
    blank = SimpleUploadedFile("blank.png", b"not an image", content_type="image/png")
    response = client.post("/desks/receipt-check/", {"photo": blank})
    assert response.status_code == 400 and AN_NAME not in response.content.decode()


# --------------------------------------------------------------------------- the API, no log-in
def test_the_api_checks_a_receipt_without_credentials(client: Client, receipt: services.ReceiptView) -> None:
    body = {"receipt_id": receipt.receipt_id, "signature": receipt.signature}
    response = client.post("/api/v1/receipts/check", body, content_type="application/json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["genuine"], answer["rule"], answer["key_id"]) == (True, "ok", receipt.key_id)
    assert answer["content"] == json.loads(receipt.document)

    body["signature"] = _flip(receipt.signature)
    answer = client.post("/api/v1/receipts/check", body, content_type="application/json").json()
    assert (answer["genuine"], answer["rule"], answer["content"]) == (False, "not_found", None)

    bad = client.post(
        "/api/v1/receipts/check", {"receipt_id": "x", "signature": "y"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["detail"]} == {"receipt_id", "signature"}


def test_the_api_operation_is_documented_with_an_example(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/receipts/check"]["post"]
    assert operation.get("security") in (None, [])
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples["printed"]["value"]) == {"receipt_id", "signature"}


# --------------------------------------------------------------------------- the production key
def test_the_key_command_writes_a_private_key_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "receipt-ed25519.pem"
    out = StringIO()
    call_command("receipt_signing_key", str(path), stdout=out)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    public = key.public_key()
    printed = out.getvalue()
    assert f"key id: {services.key_id(public)}" in printed  # type: ignore[arg-type]
    assert services.key_fingerprint(public) in printed  # type: ignore[arg-type]
    assert "BEGIN PUBLIC KEY" in printed and "PRIVATE" not in printed


def test_the_key_command_refuses_to_replace_a_key_without_force(tmp_path: Path) -> None:
    path = tmp_path / "production" / "receipt.pem"
    call_command("receipt_signing_key", str(path), stdout=StringIO())
    first = path.read_bytes()
    with pytest.raises(CommandError, match="--force"):
        call_command("receipt_signing_key", str(path), stdout=StringIO())
    assert path.read_bytes() == first
    path.chmod(0o644)  # even a key file someone made readable comes back 0600
    call_command("receipt_signing_key", str(path), "--force", stdout=StringIO())
    assert path.read_bytes() != first and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["receipt.pem"]  # no temporary file left


def test_the_key_command_uses_the_configured_path(receipt_key: Path) -> None:
    with pytest.raises(CommandError, match="exists"):
        call_command("receipt_signing_key", stdout=StringIO())  # the environment names receipt_key


# --------------------------------------------------------------------------- rate limits
@pytest.fixture
def tight_limits(settings: Any) -> None:
    """Three checks per address, five for everyone together (refilled one a minute)."""
    settings.DANCU_RECEIPT_CHECK_PER_ADDRESS = Rate(per_minute=1, burst=3)
    settings.DANCU_RECEIPT_CHECK_OVERALL = Rate(per_minute=1, burst=5)


def _api_check(client: Client, receipt: services.ReceiptView, address: str) -> Any:
    payload = {"receipt_id": receipt.receipt_id, "signature": receipt.signature}
    return client.post(
        "/api/v1/receipts/check", json.dumps(payload), content_type="application/json", REMOTE_ADDR=address
    )


@pytest.mark.usefixtures("tight_limits")
def test_the_public_api_refuses_a_client_that_checks_too_often(
    client: Client, receipt: services.ReceiptView
) -> None:
    for _ in range(3):
        assert _api_check(client, receipt, "203.0.113.7").status_code == 200
    refused = _api_check(client, receipt, "203.0.113.7")
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": [
            {"field": "request", "rule": "rate_limit", "message": "Too many requests. Retry after 60 s."}
        ]
    }
    assert refused["Retry-After"] == "60"
    assert _api_check(client, receipt, "198.51.100.9").status_code == 200  # another address still may


@pytest.mark.usefixtures("tight_limits")
def test_the_public_checks_are_limited_for_everyone_together(
    client: Client, receipt: services.ReceiptView
) -> None:
    """Many addresses, one check each: the overall bucket stops the sixth (a distributed walk
    through references)."""
    for i in range(5):
        assert _api_check(client, receipt, f"192.0.2.{i}").status_code == 200
    assert _api_check(client, receipt, "192.0.2.200").status_code == 429


@pytest.mark.usefixtures("tight_limits")
def test_the_public_page_refuses_a_client_that_checks_too_often(
    client: Client, receipt: services.ReceiptView
) -> None:
    url = "/desks/receipt-check/?" + urlencode({"r": receipt.receipt_id, "s": receipt.signature})
    assert client.get("/desks/receipt-check/").status_code == 200  # the empty form costs nothing
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="203.0.113.8").status_code == 200
    refused = client.get(url, REMOTE_ADDR="203.0.113.8", HTTP_ACCEPT_LANGUAGE="vi")
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    html = refused.content.decode()
    assert "Quá nhiều lượt kiểm tra" in html
    assert AN_NAME not in html  # nothing of the receipt shown
    photo = client.post(url, {}, REMOTE_ADDR="203.0.113.8")  # the photo form counts too
    assert photo.status_code in (403, 429)


def test_the_default_limits_let_a_person_check_a_few_receipts(
    client: Client, receipt: services.ReceiptView
) -> None:
    for _ in range(services.RECEIPT_CHECK_PER_ADDRESS.burst):
        assert _api_check(client, receipt, "203.0.113.9").status_code == 200
    assert _api_check(client, receipt, "203.0.113.9").status_code == 429
