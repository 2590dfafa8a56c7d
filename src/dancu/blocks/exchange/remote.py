"""Forwarding to external providers over HTTP (issue 5 item 3): the gateway calls the provider's
``endpoint_url`` with the client's identity, request id, purpose, official and case, and the
signature of the request document, within a timeout and a size limit.

The request goes out through the platform's SSRF-safe sender (``dancu.outbound.send``; OWASP SSRF
Prevention Cheat Sheet): the provider's host is resolved at every call and each address must be
public — unless the host (name or address literal) is on the operator's allow-list of provider
hosts ``DANCU_EXCHANGE_PROVIDER_HOSTS`` (agencies' systems on the government network have private
addresses; only the hosts listed there may be reached at one, or over plain ``http``). The
connection goes to the checked address (no DNS rebinding) and redirects are never followed.

What comes back is classified, never trusted blindly:

* 2xx with a JSON object: an answer (its ``data`` object, or the object itself);
* 4xx: the provider refused — an answer too, passed on with its status (``provider_refused``);
* 5xx (``provider_failed``), a redirect (``provider_redirect``), no connection
  (``provider_unreachable``), an address the policy forbids (``provider_address_refused``), no
  answer within the timeout (``provider_timeout``, 504), anything that is not a JSON object or is
  too large (``provider_garbage``): a failure, reported as 502/504 and logged, but not an answer —
  the client may retry under the same request id.

No database transaction is held open while the provider is called.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dancu import outbound
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
    allow_hosts: Iterable[str] = (),
) -> RemoteResult:
    """Call the provider once and classify its answer (see the module docstring). ``allow_hosts``:
    the operator's provider hosts that may have private addresses or use plain http."""
    url = endpoint_url.rstrip("/") + ("/" + quote(path.strip("/"), safe="/") if path.strip("/") else "")
    if query:
        url += "?" + query
    sent = {**headers, "Accept": "application/json"}
    if method == "POST":
        sent["Content-Type"] = "application/json"
    try:
        answer = outbound.send(
            method,
            url,
            body if method == "POST" else None,
            sent,
            timeout,
            allow_http_hosts=allow_hosts,
            max_bytes=max_bytes,
        )
    except outbound.Refused as exc:
        return _failure(502, "provider_address_refused", f"the provider's address is not allowed: {exc}")
    except TimeoutError:
        return _failure(504, "provider_timeout", f"the provider did not answer within {timeout:g} s")
    except OSError:  # no connection, or an answer that is not HTTP (outbound.DeliveryFailed)
        return _failure(502, "provider_unreachable", "the provider could not be reached")
    status, raw = answer.status, answer.body
    if 300 <= status < 400:
        return _failure(
            502, "provider_redirect", f"the provider answered a redirect ({status}); not followed"
        )
    if 400 <= status < 500:
        found = _read_json(raw) if len(raw) <= max_bytes else None
        rule = "provider_refused"
        return RemoteResult(
            status,
            Message.Outcome.PROVIDER_ERROR,
            rule,
            found if found is not None else _problem("provider", rule, f"the provider answered {status}"),
        )
    if status >= 500:
        return _failure(502, "provider_failed", f"the provider failed with HTTP {status}")
    if len(raw) > max_bytes:
        return _failure(502, "provider_garbage", f"the provider's answer exceeds {max_bytes} bytes")
    found = _read_json(raw)
    if found is None or not (200 <= status < 300):
        return _failure(502, "provider_garbage", "the provider's answer is not a JSON object")
    data = found.get("data") if isinstance(found.get("data"), dict) else found
    return RemoteResult(status, Message.Outcome.OK, "", found, data=data)
