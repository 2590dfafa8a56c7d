"""Send a text to a phone (SMS) or an e-mail address through the configured driver.

The interface (:class:`Driver`) is what a production SMS gateway or mail relay implements; the
drivers here are for development and tests:

* ``console`` — writes one log line per message: channel, a masked address and the message's
  *kind* — never the body, which holds a one-time code (no personal data or secrets in logs);
* ``file`` — appends one JSON object per message to ``<DANCU_OUTBOX_DIR>/outbox.jsonl``
  (``var/outbox/`` by default), where a developer or a browser test reads the code.

Every driver passes the same contract tests (``tests/blocks/messaging/test_contract.py``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from dancu.errors import DomainValidationError

log = logging.getLogger("dancu.messaging")

CHANNELS = ("sms", "email")
DRIVERS = ("console", "file")


@dataclass(frozen=True)
class Message:
    """One message. ``kind`` is a stable code (``eid.otp.login``) safe to log; ``body`` is not."""

    channel: str
    to: str
    kind: str
    body: str


@dataclass(frozen=True)
class Sent:
    """A driver's receipt: its id for the message and when it was handed over."""

    message_id: str
    sent_at: datetime


class Driver(Protocol):
    name: str

    def send(self, message: Message) -> Sent: ...


def mask(address: str) -> str:
    """An address safe to log: ``09******78``, ``a***@example.vn``."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{address[:2]}{'*' * max(len(address) - 4, 0)}{address[-2:]}" if len(address) > 4 else "****"


def validate(message: Message) -> None:
    """Refuse an unknown channel, an empty address or body (the same rules for every driver)."""
    if message.channel not in CHANNELS:
        raise DomainValidationError.single("channel", "choice", f"must be one of {', '.join(CHANNELS)}")
    if not message.to.strip():
        raise DomainValidationError.single("to", "required", "a message needs an address")
    if message.channel == "email" and "@" not in message.to:
        raise DomainValidationError.single("to", "email", "an e-mail address needs an @")
    if not message.body:
        raise DomainValidationError.single("body", "required", "a message needs a body")


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._n = 0

    def next(self, prefix: str) -> str:
        with self._lock:
            self._n += 1
            return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{self._n}"


class ConsoleDriver:
    """Logs the channel, masked address and kind (never the body)."""

    name = "console"

    def __init__(self) -> None:
        self._ids = _Counter()

    def send(self, message: Message) -> Sent:
        validate(message)
        message_id = self._ids.next("console")
        log.info("message %s %s to %s kind=%s", message_id, message.channel, mask(message.to), message.kind)
        return Sent(message_id, datetime.now(UTC))


class FileDriver:
    """Appends JSON lines to ``outbox.jsonl`` in ``directory`` (created on first use)."""

    name = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._ids = _Counter()
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.directory / "outbox.jsonl"

    def send(self, message: Message) -> Sent:
        validate(message)
        sent = Sent(self._ids.next("file"), datetime.now(UTC))
        line = json.dumps(
            {
                "id": sent.message_id,
                "sent_at": sent.sent_at.isoformat(),
                "channel": message.channel,
                "to": message.to,
                "kind": message.kind,
                "body": message.body,
            },
            ensure_ascii=False,
        )
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        return sent

    def read(self) -> list[dict[str, str]]:
        """Every message written so far (development and tests)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


def make_driver(name: str, *, outbox_dir: Path | None = None) -> Driver:
    """The driver called ``name`` (one of :data:`DRIVERS`)."""
    if name == "console":
        return ConsoleDriver()
    if name == "file":
        return FileDriver(outbox_dir or Path("var/outbox"))
    raise DomainValidationError.single("driver", "choice", f"must be one of {', '.join(DRIVERS)}")


_override: Driver | None = None
_configured: tuple[str, str, Driver] | None = None


def configured_driver() -> Driver:
    """The driver of the settings ``DANCU_MESSAGING_DRIVER`` / ``DANCU_OUTBOX_DIR`` (or an override)."""
    global _configured
    if _override is not None:
        return _override
    from django.conf import settings

    name = getattr(settings, "DANCU_MESSAGING_DRIVER", "console")
    outbox = str(getattr(settings, "DANCU_OUTBOX_DIR", "var/outbox"))
    if _configured is None or _configured[:2] != (name, outbox):
        _configured = (name, outbox, make_driver(name, outbox_dir=Path(outbox)))
    return _configured[2]


def override_driver(driver: Driver | None) -> Callable[[], None]:
    """Use ``driver`` until the returned function is called (tests)."""
    global _override
    previous = _override
    _override = driver

    def restore() -> None:
        global _override
        _override = previous

    return restore


def send(channel: str, to: str, kind: str, body: str) -> Sent:
    """Send one message through the configured driver."""
    return configured_driver().send(Message(channel=channel, to=to, kind=kind, body=body))
