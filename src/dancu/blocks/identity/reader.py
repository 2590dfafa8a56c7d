"""Chip readers: the adapter through which a kiosk or a desk reads a card's chip (model 7).

A contactless reader on the kiosk's PC (PC/SC) and its middleware open the chip with the card's
access key — Basic Access Control from the MRZ information (document number, date of birth, date
of expiry) or PACE with the card access number (CAN; on a Vietnamese card the last six digits of
the ID number, ``mrz.pace_can``), ICAO 9303 part 11 §4.3 and §4.4 — and read the elementary files
(EF.COM, DG1, DG2, DG13, EF.SOD). A web page cannot reach PC/SC, so, as card-reader middleware
usually does, a small **bridge** on the kiosk's own machine answers HTTP on the loopback address
and the kiosk page calls it. The platform then checks what it got (passive authentication,
``services.verify``): nothing the bridge says is trusted beyond the signed files.

The adapter contract (:class:`ChipReader`), tested for every driver in
``tests/blocks/identity/test_reader.py``:

* ``read(key)`` with the card's MRZ key or CAN returns :class:`ChipRead`: the files as standard
  base64 (``ChipData.to_dict`` shape) and the access protocol used (``bac`` or ``pace``);
* ``read(key, files, challenge=…)`` with the server's 8-byte challenge also performs Active
  Authentication (ICAO 9303 part 11 §6.1, INTERNAL AUTHENTICATE) on a chip that has an AA key and
  returns its answer in ``ChipRead.active_auth`` (base64; empty when the chip has no AA key — the
  server then sees from the SOD whether DG15 exists, ``chip.verify.chip_active_authentication``),
  and reads DG14 and DG15 (what the answer is checked with) whatever ``files`` says. The
  challenge is the server's (the desk page only relays it to the bridge) and the server
  checks the answer against its own copy, used once: a recorded answer cannot be replayed; a
  challenge that is not 8 bytes raises ``ReaderError("malformed")``;
* a wrong key — the chip refuses mutual authentication — raises ``ReaderError("access_denied")``;
  no card on the reader ``ReaderError("no_card")``; the reader or bridge not answering
  ``ReaderError("unavailable")``; a malformed key ``ReaderError("malformed")``. Nothing else.

Drivers: :class:`SimulatedReader` (development: cards placed on it are synthetic chips from
``chip.issue_chip``; it refuses a wrong key as a chip would) and :class:`BridgeClient` (the HTTP
bridge, for the server side and the tests). :func:`serve_bridge` runs the bridge in front of any
driver, bound to 127.0.0.1, answering the kiosk's origin only. Any web page the kiosk's browser
opens can send requests to the loopback address, so the bridge does not rely on CORS alone
(which only hides answers): it answers only a ``Host`` of ``127.0.0.1:<port>`` or
``localhost:<port>`` (a DNS-rebinding page sends its own host name), only a request whose
``Origin`` is the kiosk's (a request without one is refused), only a ``Content-Length`` that is a
number of at most :data:`MAX_REQUEST_BYTES`, and after :data:`MAX_KEY_FAILURES` wrong access keys
in a row it refuses every read for :data:`KEY_LOCKOUT_SECONDS` (ICAO 9303 part 11 §4.4 leaves
guessing the 6-digit CAN to the terminal's own limits; a card's chip may also block itself).
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast

from dancu.blocks.identity.chip import ChipData
from dancu.blocks.identity.chip.lds import parse_dg1, parse_dg1_td3
from dancu.blocks.identity.mrz import bac_keys, pace_can, parse_td1, parse_td3
from dancu.errors import DomainValidationError

RULES = ("access_denied", "no_card", "unavailable", "malformed")
AA_CHALLENGE_BYTES = 8  # ICAO 9303 part 11 §6.1: RND.IFD, 8 bytes
DEFAULT_FILES = ("com", "dg1", "dg2", "dg13", "sod")
MAX_REQUEST_BYTES = 4096
MAX_KEY_FAILURES = 3
KEY_LOCKOUT_SECONDS = 30.0


class ReaderError(Exception):
    """The read failed; ``rule`` is one of :data:`RULES`."""

    def __init__(self, rule: str, message: str) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown reader rule {rule!r}")
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class AccessKey:
    """The key that opens the chip: the MRZ information (BAC) or the CAN (PACE)."""

    document_number: str = ""
    date_of_birth: date | None = None
    date_of_expiry: date | None = None
    can: str = ""

    @classmethod
    def from_mrz(cls, document_number: str, date_of_birth: date, date_of_expiry: date | None) -> AccessKey:
        return cls(
            document_number=document_number, date_of_birth=date_of_birth, date_of_expiry=date_of_expiry
        )

    @classmethod
    def from_can(cls, can: str) -> AccessKey:
        return cls(can=can)

    def check(self) -> None:
        """A CAN of six digits, or an MRZ key with a document number and a date of birth."""
        if self.can:
            if not (len(self.can) == 6 and self.can.isdigit()):
                raise ReaderError("malformed", "the card access number (CAN) is 6 digits")
        elif not self.document_number or self.date_of_birth is None:
            raise ReaderError("malformed", "give the CAN, or the document number and the date of birth")

    def as_json(self) -> dict[str, Any]:
        if self.can:
            return {"can": self.can}
        return {
            "mrz": {
                "document_number": self.document_number,
                "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else "",
                "date_of_expiry": self.date_of_expiry.isoformat() if self.date_of_expiry else None,
            }
        }

    @classmethod
    def from_json(cls, payload: object) -> AccessKey:
        try:
            if not isinstance(payload, dict):
                raise TypeError
            if "can" in payload:
                return cls.from_can(str(payload["can"]))
            mrz = payload["mrz"]
            expiry = mrz.get("date_of_expiry")
            return cls.from_mrz(
                str(mrz["document_number"]),
                date.fromisoformat(str(mrz["date_of_birth"])),
                date.fromisoformat(str(expiry)) if expiry else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ReaderError("malformed", 'expected {"can": …} or {"mrz": {…}}') from None


@dataclass(frozen=True)
class ChipRead:
    """What the reader read: ``files`` as ``ChipData.to_dict`` gives them, and ``access``."""

    files: dict[str, str]
    access: str
    active_auth: str = ""  # base64 of the chip's INTERNAL AUTHENTICATE answer to the challenge


class ChipReader(Protocol):
    def read(
        self, key: AccessKey, files: tuple[str, ...] = DEFAULT_FILES, challenge: bytes | None = None
    ) -> ChipRead: ...


def _check_challenge(challenge: bytes | None) -> None:
    if challenge is not None and len(challenge) != AA_CHALLENGE_BYTES:
        raise ReaderError("malformed", f"the Active Authentication challenge is {AA_CHALLENGE_BYTES} bytes")


# --------------------------------------------------------------------------- development driver
class SimulatedReader:
    """A reader with a synthetic card on it (or none). Opens the chip as the chip itself would:
    BAC succeeds only with the K_seed of the card's own MRZ (ICAO 9303 part 11 §9.7.1: the chip
    and the terminal derive the same keys or mutual authentication fails), PACE only with its CAN;
    a chip with an Active Authentication key answers the challenge as the chip would (it signs
    it with the key that never leaves it: ``ChipData.simulated_chip``)."""

    def __init__(self) -> None:
        self._chip: ChipData | None = None
        self._seed = b""
        self._can = ""
        self._lock = threading.Lock()

    def place(self, chip: ChipData, *, can: str = "") -> None:
        """Put a card on the reader (its DG1 gives the MRZ, hence the BAC key and the CAN). A
        passport (TD3 DG1) opens with BAC, and with PACE when ``can`` is given: the 6-digit card
        access number a PACE-capable passport prints on its data page (ICAO 9303 part 11 §9.7.3;
        part 4 for where it is printed). A Vietnamese card's CAN is always the last six digits of
        its ID number (``mrz.pace_can``); ``can`` is then not accepted."""
        if can and not (len(can) == 6 and can.isdigit()):
            raise ValueError("a CAN is 6 digits")
        try:
            td1 = parse_td1("\n".join(parse_dg1(chip.data_groups[1])), reference=date(2099, 1, 1))
            if can:
                raise ValueError("a Vietnamese card's CAN comes from its ID number")
            seed, can = td1.bac_keys().seed, pace_can(td1.id_number)
        except DomainValidationError:
            td3 = parse_td3("\n".join(parse_dg1_td3(chip.data_groups[1])), reference=date(2099, 1, 1))
            seed = td3.bac_keys().seed
        with self._lock:
            self._chip, self._seed, self._can = chip, seed, can

    def remove(self) -> None:
        with self._lock:
            self._chip = None

    def read(
        self, key: AccessKey, files: tuple[str, ...] = DEFAULT_FILES, challenge: bytes | None = None
    ) -> ChipRead:
        key.check()
        _check_challenge(challenge)
        if challenge is not None:  # the answer is checked with DG15 (and DG14's algorithm)
            files = tuple(dict.fromkeys((*files, "dg14", "dg15")))
        with self._lock:
            chip, seed, can = self._chip, self._seed, self._can
        if chip is None:
            raise ReaderError("no_card", "no card on the reader")
        if key.can:
            access, opened = "pace", bool(can) and hmac.compare_digest(key.can, can)
        else:
            assert key.date_of_birth is not None
            try:
                presented = bac_keys(key.document_number, key.date_of_birth, key.date_of_expiry).seed
            except DomainValidationError:
                raise ReaderError("malformed", "the MRZ key is not valid") from None
            access, opened = "bac", hmac.compare_digest(presented, seed)
        if not opened:
            raise ReaderError("access_denied", "the chip refused the access key")
        everything = chip.to_dict()
        answer = ""
        if challenge is not None and chip.aa_private_key is not None:
            answer = base64.b64encode(chip.simulated_chip()(challenge)).decode("ascii")
        return ChipRead({name: everything[name] for name in files if name in everything}, access, answer)


# --------------------------------------------------------------------------- the HTTP bridge
class BridgeClient:
    """The bridge seen as a reader: ``POST {url}/read`` with the access key as JSON."""

    def __init__(self, url: str, *, origin: str = "", timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.origin = origin  # the kiosk page's origin, which the bridge requires
        self.timeout = timeout

    def read(
        self, key: AccessKey, files: tuple[str, ...] = DEFAULT_FILES, challenge: bytes | None = None
    ) -> ChipRead:
        _check_challenge(challenge)
        extra = {"challenge": challenge.hex()} if challenge is not None else {}
        body = json.dumps({**key.as_json(), "files": list(files), **extra}).encode()
        headers = {"Content-Type": "application/json", **({"Origin": self.origin} if self.origin else {})}
        url = f"{self.url}/read"
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                problem = json.loads(exc.read())
                rule, message = str(problem["error"]), str(problem["message"])
            except (ValueError, KeyError, TypeError):
                rule, message = "unavailable", f"the reader bridge answered {exc.code}"
            raise ReaderError(rule if rule in RULES else "unavailable", message) from None
        except (OSError, ValueError):
            raise ReaderError("unavailable", "the reader bridge does not answer") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("files"), dict):
            raise ReaderError("unavailable", "the reader bridge answered something else")
        active_auth = answer.get("active_auth") or ""
        if not isinstance(active_auth, str):  # base64 text, or absent: not a list's repr
            raise ReaderError("unavailable", "the reader bridge answered something else")
        return ChipRead(
            {str(k): str(v) for k, v in answer["files"].items()},
            str(answer.get("access", "")),
            active_auth,
        )


def _challenge_of(payload: dict[str, Any]) -> bytes | None:
    """The request's ``challenge``: 16 hexadecimal digits (8 bytes), or absent."""
    raw = payload.get("challenge")
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) != 2 * AA_CHALLENGE_BYTES:
        raise ReaderError("malformed", "challenge: 16 hexadecimal digits")
    try:
        return bytes.fromhex(raw)
    except ValueError:
        raise ReaderError("malformed", "challenge: 16 hexadecimal digits") from None


_STATUS = {"access_denied": 403, "no_card": 409, "unavailable": 503, "malformed": 400}


def serve_bridge(
    reader: ChipReader,
    *,
    origin: str,
    port: int = 0,
    max_failures: int = MAX_KEY_FAILURES,
    lockout_seconds: float = KEY_LOCKOUT_SECONDS,
    clock: Any = time.monotonic,
) -> ThreadingHTTPServer:
    """The bridge in front of ``reader`` on 127.0.0.1:``port`` (0: any free port), answering
    requests from ``origin`` only (the kiosk page's origin, e.g. ``https://kham.benhvien.vn``), with
    the checks of the module docstring. Returns the server; call ``serve_forever`` (or run it in a
    thread) and ``shutdown``."""
    lock = threading.Lock()
    failures = {"count": 0, "until": 0.0}

    def locked_out() -> float:
        """Seconds left of the lock-out after too many wrong keys (0: none)."""
        with lock:
            return max(0.0, failures["until"] - clock())

    def count(opened: bool) -> None:
        with lock:
            if opened:
                failures["count"] = 0
                return
            failures["count"] += 1
            if failures["count"] >= max_failures:
                failures["count"], failures["until"] = 0, clock() + lockout_seconds

    class Handler(BaseHTTPRequestHandler):
        def _host_ok(self) -> bool:
            bound = cast(tuple[str, int], self.server.server_address)[1]  # bound to 127.0.0.1
            return self.headers.get("Host") in (f"127.0.0.1:{bound}", f"localhost:{bound}")

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            if self.headers.get("Origin") == origin:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
            self.end_headers()
            self.wfile.write(data)

        def do_OPTIONS(self) -> None:
            if not self._host_ok():
                self._send(403, {"error": "malformed", "message": "host not allowed"})
                return
            if self.headers.get("Origin") != origin:
                self._send(403, {"error": "malformed", "message": "origin not allowed"})
                return
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Methods", "POST")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Allow-Private-Network", "true")
            self.send_header("Vary", "Origin")
            self.end_headers()

        def do_POST(self) -> None:
            if self.path != "/read":
                self._send(404, {"error": "malformed", "message": "POST /read"})
                return
            if not self._host_ok():
                self._send(403, {"error": "malformed", "message": "host not allowed"})
                return
            if self.headers.get("Origin") != origin:
                self._send(403, {"error": "malformed", "message": "origin not allowed"})
                return
            declared = self.headers.get("Content-Length") or "0"
            if not declared.isdigit():  # negative, signed or not a number
                self._send(400, {"error": "malformed", "message": "Content-Length is not a number"})
                self.close_connection = True
                return
            length = int(declared)
            if length > MAX_REQUEST_BYTES:
                self._send(413, {"error": "malformed", "message": f"request over {MAX_REQUEST_BYTES} bytes"})
                self.close_connection = True
                return
            wait = locked_out()
            if wait:
                message = f"too many wrong access keys: try again in {int(wait) + 1} s"
                self._send(429, {"error": "access_denied", "message": message})
                return
            try:
                payload = json.loads(self.rfile.read(length) or b"null")
                key = AccessKey.from_json(payload)
                wanted = payload.get("files") or list(DEFAULT_FILES)
                files = tuple(str(f) for f in wanted)[:20]
                result = reader.read(key, files, _challenge_of(payload))
            except ReaderError as exc:
                if exc.rule == "access_denied":
                    count(opened=False)
                self._send(_STATUS[exc.rule], {"error": exc.rule, "message": str(exc)})
                return
            except ValueError:
                self._send(400, {"error": "malformed", "message": "the body is not JSON"})
                return
            count(opened=True)
            answer: dict[str, Any] = {"files": result.files, "access": result.access}
            if result.active_auth:
                answer["active_auth"] = result.active_auth
            self._send(200, answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
