"""Change notifications (issue 5 item 8): a provider publishes events ("citizen.died",
"citizen.moved"); subscribed members receive them, each filtered to the fields its grant gives its
purpose — by webhook (signed, retried with back-off) or by pull (then acknowledged). An event that
cannot be delivered is kept and retried, never dropped (GovStack IM BB spec, pub/sub: "messages
are kept until delivered"; Decree 47/2020/NĐ-CP on sharing).

Providers publish through :func:`publish`. The platform's own registry publishes its changes
(residence moved, death recorded, ID number changed, details corrected) through the registry's
hook (``registry.events``), which the exchange connects to in its ``AppConfig.ready``:
:func:`on_registry_change` runs inside the registry write's transaction, so the event and its
deliveries commit with the change or not at all. Those events carry only the kind of change and
the ID number; subscribers fetch the details through the gateway, under their grant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from dancu import outbound
from dancu.blocks.audit.context import Actor
from dancu.blocks.exchange import crypto
from dancu.blocks.exchange.identifiers import check_part
from dancu.blocks.exchange.models import Delivery, Event, Grant, Service, Subscription, Subsystem
from dancu.blocks.exchange.services import administers, grant_in_force, is_operator, oversees
from dancu.blocks.registry.events import Change, ChangeKind, concerns
from dancu.errors import AccessDenied, DomainValidationError, NotFound

MAX_BACKOFF = timedelta(hours=6)


def _grant_for(client: Subsystem, service: Service, purpose: str, at: datetime) -> Grant | None:
    for g in Grant.objects.filter(client=client, service=service, status=Grant.Status.APPROVED).order_by(
        "-id"
    ):
        if grant_in_force(g, at) and purpose in g.purposes:
            return g
    return None


@transaction.atomic
def subscribe(
    actor: Actor, client: Subsystem, service: Service, purpose: str, *, callback_url: str = ""
) -> Subscription:
    """The client member's administrator subscribes its subsystem to a service's events; only
    under a grant in force for that purpose (deny by default). A webhook URL must pass
    :func:`dancu.outbound.url_problem` (OWASP SSRF Prevention Cheat Sheet: https only, no private,
    loopback or other RFC 6890 special-purpose address, literal or resolved)."""
    if not administers(actor, client.member):
        raise AccessDenied(
            "only the client member's administrators subscribe", field="actor", rule="administrator"
        )
    if callback_url:
        problem = outbound.url_problem(callback_url, allow_http_hosts=_http_hosts())
        if problem:
            raise DomainValidationError.single(
                "callback_url", "url", f"{problem} (an https URL, or empty to pull)"
            )
    if _grant_for(client, service, purpose, timezone.now()) is None:
        raise AccessDenied(
            f"no grant in force for {service.identifier} and purpose {purpose}",
            field="service",
            rule="no_grant",
        )
    sub, _ = Subscription.objects.update_or_create(
        client=client,
        service=service,
        purpose=purpose,
        defaults={"callback_url": callback_url, "active": True},
    )
    return sub


@transaction.atomic
def publish(
    actor: Actor, service: Service, kind: str, data: dict[str, Any], *, citizen_id: int | None = None
) -> Event:
    """The provider publishes an event; one delivery per active subscription whose grant is in
    force now, carrying only the fields that grant gives the subscription's purpose, signed by
    the provider subsystem's key."""
    if not administers(actor, service.subsystem.member):
        raise AccessDenied(
            "only the provider publishes its events", field="actor", rule="provider_administrator"
        )
    check_part("kind", kind)
    return _publish(service, kind, data, citizen_id=citizen_id, now=timezone.now())


def _publish(
    service: Service,
    kind: str,
    data: dict[str, Any],
    *,
    citizen_id: int | None,
    now: datetime,
    always: frozenset[str] = frozenset(),
    subscriptions: list[Subscription] | None = None,
) -> Event:
    """Store the signed event and one delivery per subscription whose grant is in force, with
    the fields that grant gives its purpose (and the ``always`` keys: what names the event)."""
    key = crypto.unwrap(service.subsystem.private_key_wrapped, service.subsystem.identifier)
    document = {"service": service.identifier, "kind": kind, "data": data, "occurred_at": now.isoformat()}
    event = Event.objects.create(
        service=service,
        kind=kind,
        citizen_id=citizen_id,
        document=document,
        signature=crypto.sign(key, crypto.canonical(document)),
        key_id=service.subsystem.key_id,
        occurred_at=now,
    )
    if subscriptions is None:
        subscriptions = list(
            Subscription.objects.select_related("client").filter(service=service, active=True)
        )
    for sub in subscriptions:
        grant = _grant_for(sub.client, service, sub.purpose, now)
        if grant is None:
            continue
        allowed = set(grant.purposes[sub.purpose]) | always
        body = {
            "event_id": event.pk,
            "service": service.identifier,
            "kind": kind,
            "purpose": sub.purpose,
            "data": {k: v for k, v in data.items() if k in allowed},
            "occurred_at": now.isoformat(),
        }
        Delivery.objects.create(
            event=event, subscription=sub, body=body, signature=crypto.sign(key, crypto.canonical(body))
        )
    return event


# Which of the registry's services each kind of change concerns: a subscriber to any of them
# hears of it (an ID change concerns every service, since subscribers know citizens by number).
REGISTRY_SERVICES_BY_CHANGE: dict[str, tuple[str, ...]] = {
    ChangeKind.MOVED: ("citizen", "residence", "household"),
    ChangeKind.DIED: ("citizen", "life-status", "household"),
    ChangeKind.ID_NUMBER_CHANGED: ("citizen", "verify-identity", "household", "residence", "life-status"),
    ChangeKind.CORRECTED: ("citizen", "verify-identity", "household"),
}


def on_registry_change(change: Change) -> None:
    """The registry's hook (``registry.events``), inside the write's transaction: one signed
    event per registry service concerned that has active subscriptions, each delivered with the
    kind of change and the ID number only (least data: the details are fetched through the
    gateway, under the subscriber's grant and purpose), to subscribers whose member organisation's
    jurisdiction covers a place the change concerns. No subscriber: nothing is written."""
    handlers = [f"registry.{code}" for code in REGISTRY_SERVICES_BY_CHANGE[change.kind]]
    subs = Subscription.objects.select_related(
        "client__member__organisation", "service__subsystem__member"
    ).filter(
        active=True,
        service__handler__in=handlers,
        service__active=True,
    )
    by_service: dict[int, list[Subscription]] = {}
    for sub in subs:
        # Only members whose jurisdiction covers the change hear of it: the registry would not
        # give them the details anyway (the gateway's actor has the member organisation's
        # jurisdiction), and the ID number alone is personal data.
        org = sub.client.member.organisation
        if org is None or not concerns(
            change, province_code=org.jurisdiction_province_code, ward_code=org.jurisdiction_ward_code
        ):
            continue
        by_service.setdefault(sub.service_id, []).append(sub)
    payload = change.payload()
    for group in by_service.values():
        _publish(
            group[0].service,
            str(change.kind),
            dict(payload),
            citizen_id=change.citizen_id,
            now=change.occurred_at,
            always=frozenset(payload),
            subscriptions=group,
        )


@dataclass(frozen=True)
class SubscriptionRow:
    """A subscription as the administration pages show it."""

    subscription: Subscription
    pending: int  # deliveries not yet acknowledged (or not yet taken by the webhook)
    delivered: int
    manages: bool  # the actor administers the subscribing member


def subscriptions_visible_to(actor: Actor) -> list[SubscriptionRow]:
    """Subscriptions where the actor's organisation is the subscriber or the provider (all of
    them for the operator), with their delivery counts."""
    qs = Subscription.objects.select_related("client__member", "service__subsystem__member").annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
        delivered=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DELIVERED)),
    )
    if not is_operator(actor):
        org = actor.organisation_id
        if org is None or not oversees(actor):  # administrators and DPOs only (ADR 0010 §20)
            return []
        qs = qs.filter(
            Q(client__member__organisation_id=org) | Q(service__subsystem__member__organisation_id=org)
        )
    return [
        SubscriptionRow(s, s.pending, s.delivered, administers(actor, s.client.member))
        for s in qs.order_by("-created_at", "-id")[:500]
    ]


@transaction.atomic
def unsubscribe(actor: Actor, subscription_id: int) -> Subscription:
    """The subscribing member's administrator ends a subscription: no new deliveries; those
    already made stay (pending ones can still be pulled or delivered)."""
    sub = Subscription.objects.select_related("client__member").filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound("no such subscription", field="subscription")
    if not administers(actor, sub.client.member):
        raise AccessDenied(
            "only the subscribing member's administrators end a subscription",
            field="actor",
            rule="administrator",
        )
    sub.active = False
    sub.save(update_fields=["active"])
    return sub


@dataclass(frozen=True)
class Pending:
    delivery_id: int
    body: dict[str, Any]
    signature: str
    key_id: str


def pull(client: Subsystem, *, limit: int = 100) -> list[Pending]:
    """The pending deliveries of the client's pull subscriptions, oldest first (at least once:
    they stay pending until acknowledged)."""
    rows = (
        Delivery.objects.select_related("event")
        .filter(subscription__client=client, subscription__callback_url="", status=Delivery.Status.PENDING)
        .order_by("id")[: max(1, min(limit, 500))]
    )
    return [Pending(d.pk, d.body, d.signature, d.event.key_id) for d in rows]


def acknowledge(client: Subsystem, delivery_ids: list[int]) -> int:
    """Mark the client's own deliveries delivered; returns how many changed."""
    return Delivery.objects.filter(
        pk__in=delivery_ids, subscription__client=client, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.DELIVERED, delivered_at=timezone.now())


Sender = Callable[[str, bytes, dict[str, str]], int]


def _http_hosts() -> list[str]:
    """Hosts a webhook may reach by plain HTTP, at any address (tests and development only)."""
    return list(getattr(settings, "DANCU_EXCHANGE_WEBHOOK_HTTP_HOSTS", ()))


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """One POST through :func:`dancu.outbound.post`: the host resolved and checked now, the
    checked address connected to, redirects not followed (a 3xx fails and is retried). A refused
    address raises ``ValueError``: the delivery is kept and retried like any failure."""
    return outbound.post(
        url,
        body,
        headers,
        float(settings.DANCU_EXCHANGE_PROVIDER_TIMEOUT),
        allow_http_hosts=_http_hosts(),
    )


def deliver_due(
    *, now: datetime | None = None, send: Sender = _http_post, limit: int = 200
) -> tuple[int, int]:
    """POST every due webhook delivery (signed: ``X-Exchange-Signature`` over the canonical
    body); a 2xx delivers it, anything else reschedules it with exponential back-off (1 min,
    2, 4 … up to 6 h). Returns (delivered, rescheduled)."""
    moment = now or timezone.now()
    done = retried = 0
    due = (
        Delivery.objects.select_related("subscription", "event")
        .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=moment)
        .exclude(subscription__callback_url="")
        .order_by("next_attempt_at", "id")[:limit]
    )
    for d in list(due):
        body = crypto.canonical(d.body)
        headers = {
            "Content-Type": "application/json",
            "X-Exchange-Signature": d.signature,
            "X-Exchange-Key-Id": d.event.key_id,
            "X-Exchange-Delivery": str(d.pk),
        }
        try:
            status = send(d.subscription.callback_url, body, headers)
            error = "" if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, ValueError) as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:255]
        d.attempts += 1
        if not error:
            d.status = Delivery.Status.DELIVERED
            d.delivered_at = moment
            d.last_error = ""
            done += 1
        else:
            d.last_error = error
            d.next_attempt_at = moment + min(timedelta(minutes=2 ** (d.attempts - 1)), MAX_BACKOFF)
            retried += 1
        d.save(update_fields=["attempts", "status", "delivered_at", "last_error", "next_attempt_at"])
    return done, retried


def verify_delivery(public_key_b64: str, body: dict[str, Any], signature: str) -> bool:
    """What a subscriber runs: the body is the provider's, unchanged."""
    return crypto.verify(public_key_b64, signature, crypto.canonical(body))
