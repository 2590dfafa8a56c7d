"""The idempotency fingerprint taken from the signed bytes (ADR 0010 §21): the fast path cuts the
arrival time out of the request's canonical JSON instead of encoding the document again, and must
give exactly what ``gateway._fingerprint`` gives — or a replay after the change would be a 409."""

from __future__ import annotations

from typing import Any

import pytest

from dancu.blocks.exchange import crypto, gateway


def _doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "service": "VN-HN/GOV/CA-HN/DANCU-REGISTRY/citizen",
        "path": "001085012345",
        "method": "POST",
        "query": "fields=full_name",
        "body_sha256": crypto.sha256_hex(b"{}"),
        "received_at": "2026-12-01T12:00:00.123456+00:00",
        "client": "VN-HN/GOV/BHXH-HN/TIEPNHAN",
        "request_id": "req-0001",
        "purpose": "public_service.processing",
        "end_user": "canbo.nguyenthimai",
        "case_reference": "HS-2026-0042",
        "body": None,
    }
    doc.update(over)
    return doc


@pytest.mark.parametrize(
    "doc",
    [
        _doc(),
        # A client that writes the member itself into its body or case reference: escaped text,
        # never a second match of the cut.
        _doc(body='{"x": "\\"received_at\\":\\"2026-12-01T12:00:00.123456+00:00\\","}'),
        _doc(case_reference='"received_at":"2026-12-01T12:00:00.123456+00:00",'),
        _doc(body="Hồ sơ \u2028 số 42"),
    ],
    ids=["plain", "member-in-the-body", "member-in-the-case-reference", "vietnamese"],
)
def test_the_fingerprint_from_the_signed_bytes_is_the_documents_fingerprint(doc: dict[str, Any]) -> None:
    assert gateway._fingerprint_of(crypto.canonical(doc), doc) == gateway._fingerprint(doc)


def test_a_different_request_has_a_different_fingerprint_and_the_arrival_time_does_not_count() -> None:
    first, later = _doc(), _doc(received_at="2026-12-01T12:00:09.000001+00:00")
    other = _doc(path="001085099999")
    fp = gateway._fingerprint_of(crypto.canonical(first), first)
    assert fp == gateway._fingerprint_of(crypto.canonical(later), later)
    assert fp != gateway._fingerprint_of(crypto.canonical(other), other)
