"""The contract every messaging driver keeps (run against each of ``DRIVERS``): it accepts a
valid SMS and e-mail and returns a receipt with a unique id; it refuses an unknown channel, an
empty address or body, an e-mail address without @ — naming the field; and it never logs the
body (which holds one-time codes)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dancu.blocks.messaging import services as messaging
from dancu.errors import DomainValidationError


@pytest.fixture(params=messaging.DRIVERS)
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> messaging.Driver:
    return messaging.make_driver(request.param, outbox_dir=tmp_path / "outbox")


def test_sends_sms_and_email_with_unique_receipts(driver: messaging.Driver) -> None:
    a = driver.send(messaging.Message("sms", "0912345678", "eid.code.login", "ma 123456"))
    b = driver.send(messaging.Message("email", "an@example.vn", "eid.code.login", "ma 654321"))
    assert a.message_id != b.message_id and a.sent_at.tzinfo is not None


@pytest.mark.parametrize(
    ("channel", "to", "body", "field"),
    [
        ("fax", "0912345678", "x", "channel"),
        ("sms", " ", "x", "to"),
        ("email", "not-an-address", "x", "to"),
        ("sms", "0912345678", "", "body"),
    ],
)
def test_refuses_bad_messages_naming_the_field(
    driver: messaging.Driver, channel: str, to: str, body: str, field: str
) -> None:
    with pytest.raises(DomainValidationError) as refused:
        driver.send(messaging.Message(channel, to, "eid.code.login", body))
    assert refused.value.problems[0].field == field


def test_never_logs_the_body_or_the_full_address(
    driver: messaging.Driver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        driver.send(messaging.Message("sms", "0912345678", "eid.code.login", "secret 987654"))
    assert "987654" not in caplog.text and "0912345678" not in caplog.text


def test_the_file_driver_writes_json_lines(tmp_path: Path) -> None:
    driver = messaging.FileDriver(tmp_path / "outbox")
    driver.send(messaging.Message("sms", "0912345678", "eid.code.login", "ma 123456"))
    assert driver.path == tmp_path / "outbox" / "outbox.jsonl"
    assert driver.read()[0]["body"] == "ma 123456"


def test_an_unknown_driver_is_refused() -> None:
    with pytest.raises(DomainValidationError):
        messaging.make_driver("carrier-pigeon")


def test_a_bad_driver_setting_stops_start_up_naming_the_variable() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DANCU_MESSAGING_DRIVER": "pigeon", "SECRET_KEY": "x" * 40}
    run = subprocess.run(
        [sys.executable, "-c", "import dancu.settings"], env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "ConfigError" in run.stderr and "DANCU_MESSAGING_DRIVER" in run.stderr


def test_masking() -> None:
    assert messaging.mask("0912345678") == "09******78"
    assert messaging.mask("an@example.vn") == "a***@example.vn"
