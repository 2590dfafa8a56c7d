"""Forwarding to external providers over HTTP (issue 5 item 3): the gateway calls the provider's
``endpoint_url`` with the client's identity, request id, purpose, official and case, and the
signature of the request document, within a timeout and a size limit.

What comes back is classified, never trusted blindly:

* 2xx with a JSON object: an answer (its ``data`` object, or the object itself);
* 4xx: the provider refused — an answer too, passed on with its status (``provider_refused``);
* 5xx (``provider_failed``), no connection (``provider_unreachable``), no answer within the
  timeout (``provider_timeout``, 504), anything that is not a JSON object or is too large
  (``provider_garbage``): a failure, reported as 502/504 and logged, but not an answer — the
  client may retry under the same request id.

No database transaction is held open while the provider is called.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dancu.blocks.exchange.models import Message


@dataclass(frozen=True)
class RemoteResult:
    status: int
    outcome: str
    rule: str
    body: dict[str, Any]  # the provider's JSON object (answers) or our problem document (failures)
    data: dict[str, Any] | None = None  # on a 2xx answer: the data to filter


def _problem(field: str, rule: str, message: str) -> dict[str, Any]:
    return {"detail": [{"field": field, "rule": rule, "message": message}]}


def _failure(status: int, rule: str, message: str) -> RemoteResult:
    return RemoteResult(status, Message.Outcome.FAILED, rule, _problem("provider", rule, message))


def _read_json(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def forward(
    endpoint_url: str,
    *,
    method: str,
    path: str,
    query: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    max_bytes: int,
) -> RemoteResult:
    """Call the provider and classify its answer (see the module docstring)."""
    url = endpoint_url.rstrip("/") + ("/" + quote(path.strip("/"), safe="/") if path.strip("/") else "")
    if query:
        url += "?" + query
    req = urllib.request.Request(  # noqa: S310 — the operator registers the provider's https URL
        url,
        data=body if method == "POST" else None,
        method=method,
        headers={**headers, "Accept": "application/json"},
    )
    if method == "POST":
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:  # noqa: S310
            raw = res.read(max_bytes + 1)
            status = res.status
    except urllib.error.HTTPError as err:
        raw = err.read(max_bytes + 1) if err.fp is not None else b""
        if 400 <= err.code < 500:
            found = _read_json(raw) if len(raw) <= max_bytes else None
            rule = "provider_refused"
            return RemoteResult(
                err.code,
                Message.Outcome.PROVIDER_ERROR,
                rule,
                found
                if found is not None
                else _problem("provider", rule, f"the provider answered {err.code}"),
            )
        return _failure(502, "provider_failed", f"the provider failed with HTTP {err.code}")
    except TimeoutError:
        return _failure(504, "provider_timeout", f"the provider did not answer within {timeout:g} s")
    except urllib.error.URLError as err:
        if isinstance(err.reason, (TimeoutError, socket.timeout)):
            return _failure(504, "provider_timeout", f"the provider did not answer within {timeout:g} s")
        return _failure(502, "provider_unreachable", "the provider could not be reached")
    except (ConnectionError, OSError):
        return _failure(502, "provider_unreachable", "the provider could not be reached")
    if len(raw) > max_bytes:
        return _failure(502, "provider_garbage", f"the provider's answer exceeds {max_bytes} bytes")
    found = _read_json(raw)
    if found is None or not (200 <= status < 300):
        return _failure(502, "provider_garbage", "the provider's answer is not a JSON object")
    data = found.get("data") if isinstance(found.get("data"), dict) else found
    return RemoteResult(status, Message.Outcome.OK, "", found, data=data)
