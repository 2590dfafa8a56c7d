"""Webhooks of residence notification results (the integration API).

An establishment registers a URL (``register_webhook``, purpose ``residence.notification``); each
notification result — a stored check-in, boarding or manifest, a rejected batch or offline row — is
queued in the same transaction as the result (``enqueue``), so that a result is never announced
before it is committed nor lost after. ``deliver_due`` (run by ``dancu residence_webhooks``) POSTs
each queued result as JSON, signed:

* ``X-Dancu-Timestamp``: Unix seconds of the attempt;
* ``X-Dancu-Signature``: ``sha256=`` + hex HMAC-SHA256, under the webhook's secret, of
  ``<timestamp>.<body>`` (the receiver recomputes it and refuses a timestamp older than 5 minutes);
* ``X-Dancu-Delivery``: the delivery id (the same on every retry: the receiver deduplicates by it).

A 2xx answer delivers; anything else (or no answer within 10 s) is retried after 30 s, 1, 2, 4 …
minutes, at most 6 hours apart, and the delivery is kept until delivered. Payloads hold ids, times
and statuses only: no personal data leaves with a webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dancu import outbound
from dancu.apps.residence.models import Webhook, WebhookDelivery

TIMEOUT_SECONDS = 10
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
LEASE = timedelta(seconds=60)
MAX_WEBHOOKS = 5


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s doubled each time, at most 6 hours."""
    return min(BASE_BACKOFF * (2 ** max(0, min(attempts - 1, 20))), MAX_BACKOFF)


def _http_hosts() -> list[str]:
    return list(getattr(settings, "DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS", ()))


def url_problem(url: str) -> str:
    """Why ``url`` cannot receive webhooks ("" if it can): :func:`dancu.outbound.url_problem`
    (OWASP SSRF Prevention Cheat Sheet; RFC 6890 special-purpose addresses): HTTPS only, except
    plain HTTP to the hosts of ``DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS`` (tests and development:
    127.0.0.1); no private, loopback or link-local address, literal or resolved."""
    return outbound.url_problem(url, allow_http_hosts=_http_hosts())


def new_secret() -> str:
    return secrets.token_hex(32)


def enqueue(establishment_id: int, event: str, payload: dict[str, object]) -> int:
    """Queue ``payload`` for each active webhook of the establishment (call inside the
    transaction that stores the result); the number of deliveries queued."""
    hooks = list(
        Webhook.objects.filter(establishment_id=establishment_id, active=True).values_list("pk", flat=True)
    )
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook_id=h, event=event, payload={"event": event, **payload}, next_attempt_at=now
            )
            for h in hooks
        ]
    )
    return len(hooks)


@dataclass(frozen=True)
class DeliveryReport:
    attempted: int
    delivered: int
    failed: int


def _claim(now: datetime, limit: int) -> list[WebhookDelivery]:
    """Take up to ``limit`` due deliveries, leasing them (``next_attempt_at`` moved by ``LEASE``)
    so that two workers never send the same delivery at once."""
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("webhook")
            .filter(delivered_at__isnull=True, next_attempt_at__lte=now, webhook__active=True)
            .order_by("next_attempt_at", "id")[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
            next_attempt_at=now + LEASE, leased_until=now + LEASE
        )
    return due


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = json.dumps(
        {"delivery_id": delivery.pk, **delivery.payload}, sort_keys=True, ensure_ascii=False
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "dancu-residence-webhooks/1",
        "X-Dancu-Event": delivery.event,
        "X-Dancu-Delivery": str(delivery.pk),
        "X-Dancu-Timestamp": stamp,
        "X-Dancu-Signature": sign(delivery.webhook.secret, stamp, body),
    }
    try:
        status = outbound.post(
            delivery.webhook.url, body, headers, TIMEOUT_SECONDS, allow_http_hosts=_http_hosts()
        )
    except outbound.Refused as exc:
        return None, f"URL not allowed: {exc}"[:300]
    except (OSError, ValueError) as exc:
        return None, f"{exc.__class__.__name__}: {exc}"[:300]
    if 300 <= status < 400:
        return status, f"HTTP {status} (redirects are not followed)"
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


def deliver_due(*, limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """POST the due deliveries once each (through :func:`dancu.outbound.post`: a URL or address
    no longer allowed, or a redirect, is a failure); failures are rescheduled with :func:`backoff`."""
    moment = now or timezone.now()
    delivered = failed = 0
    due = _claim(moment, limit)
    for d in due:
        status, error = _post(d)  # the URL's rules are checked again, and the host resolved, now
        attempts = d.attempts + 1
        if status is not None and 200 <= status < 300:
            WebhookDelivery.objects.filter(pk=d.pk).update(
                attempts=attempts,
                delivered_at=timezone.now(),
                last_status=status,
                last_error="",
                leased_until=None,
            )
            delivered += 1
        else:
            WebhookDelivery.objects.filter(pk=d.pk).update(
                attempts=attempts,
                next_attempt_at=timezone.now() + backoff(attempts),
                last_status=status,
                last_error=error[:300],
                leased_until=None,
            )
            failed += 1
    return DeliveryReport(len(due), delivered, failed)
