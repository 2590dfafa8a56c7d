"""Webhook management for an establishment's integrator (the administrator of its organisation):
register a URL, rotate its signing secret, disable or enable it, see its deliveries and retry one.

Purpose ``residence.notification``; role ``admin`` of the establishment's organisation (a clerk
sends notifications but does not manage where results go). Every change is audited
(``residence.webhook_*``), denials too; another establishment's webhook or delivery is a 404.
The secret is shown once, in the answer to the registration or the rotation (it must be kept
to sign, ``webhooks.sign``); after a rotation every attempt, a retry of an older delivery
included, is signed with the new secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dancu.apps.residence import services, webhooks
from dancu.apps.residence.models import Establishment, Webhook, WebhookDelivery
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.organisations.models import Membership
from dancu.errors import DomainValidationError, NotFound

DELIVERIES_SHOWN = 50


@dataclass(frozen=True)
class DeliveryView:
    delivery_id: int
    event: str
    status: str  # "delivered", "pending" (due or leased) or "failing" (an attempt failed)
    attempts: int
    last_status: int | None
    last_error: str
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime


def _integrator(ctx: AccessContext, action: str) -> Establishment:
    """The actor's establishment, for its organisation's administrator only (denial audited)."""
    est = services._desk_establishment(ctx, action)
    if ctx.actor.role != Membership.Role.ADMIN:
        raise services._deny(
            ctx, action, "role", "only the establishment's administrator manages webhooks", "role"
        )
    return est


def _own_webhook(ctx: AccessContext, action: str, webhook_id: int) -> tuple[Establishment, Webhook]:
    est = _integrator(ctx, action)
    hook = Webhook.objects.filter(pk=webhook_id, establishment=est).first()
    if hook is None:
        audit.record(ctx, action, result=AuditEvent.Result.NOT_FOUND, detail={"webhook": webhook_id})
        raise NotFound("no such webhook of your establishment", field="webhook_id")
    return est, hook


def _view(hook: Webhook, secret: str = "") -> services.WebhookView:
    pending = hook.deliveries.filter(delivered_at__isnull=True).count()
    return services.WebhookView(hook.pk, hook.url, hook.active, hook.created_at, pending, secret)


def _delivery(d: WebhookDelivery) -> DeliveryView:
    status = "delivered" if d.delivered_at else ("failing" if d.attempts else "pending")
    return DeliveryView(
        d.pk,
        d.event,
        status,
        d.attempts,
        d.last_status,
        d.last_error,
        d.next_attempt_at,
        d.delivered_at,
        d.created_at,
    )


def register(ctx: AccessContext, url: str) -> services.WebhookView:
    """Register a URL (the rules of ``services.register_webhook``), by the integrator."""
    _integrator(ctx, "residence.webhook_register")
    return services.register_webhook(ctx, url)


def overview(ctx: AccessContext) -> list[tuple[services.WebhookView, list[DeliveryView]]]:
    """Each webhook of the establishment (no secret) with its latest deliveries, newest first."""
    est = _integrator(ctx, "residence.webhooks")
    out = []
    for hook in Webhook.objects.filter(establishment=est).order_by("id"):
        recent = hook.deliveries.order_by("-id")[:DELIVERIES_SHOWN]
        out.append((_view(hook), [_delivery(d) for d in recent]))
    audit.record(ctx, "residence.webhooks", detail={"establishment": est.pk, "webhooks": len(out)})
    return out


def rotate_secret(ctx: AccessContext, webhook_id: int) -> services.WebhookView:
    """A new signing secret (returned once); the old one signs nothing any more."""
    action = "residence.webhook_rotate"
    _est, hook = _own_webhook(ctx, action, webhook_id)
    with transaction.atomic():
        hook.secret = webhooks.new_secret()
        hook.save(update_fields=["secret"])
        audit.record(ctx, action, detail={"webhook": hook.pk})
    return _view(hook, hook.secret)


def set_active(ctx: AccessContext, webhook_id: int, active: bool) -> services.WebhookView:
    """Disable a webhook (its queued deliveries wait, nothing is sent) or enable it again — if its
    URL is still acceptable (``webhooks.url_problem``) and the establishment stays within
    ``webhooks.MAX_WEBHOOKS`` active webhooks."""
    action = "residence.webhook_enable" if active else "residence.webhook_disable"
    est, hook = _own_webhook(ctx, action, webhook_id)
    if active and not hook.active:
        reason = webhooks.url_problem(hook.url)
        if reason:
            raise DomainValidationError.single("url", "url", reason)
        if Webhook.objects.filter(establishment=est, active=True).count() >= webhooks.MAX_WEBHOOKS:
            raise DomainValidationError.single(
                "webhook_id", "limit", f"at most {webhooks.MAX_WEBHOOKS} webhooks"
            )
    with transaction.atomic():
        hook.active = active
        hook.save(update_fields=["active"])
        audit.record(ctx, action, detail={"webhook": hook.pk})
    return _view(hook)


def retry(ctx: AccessContext, delivery_id: int) -> DeliveryView:
    """Make an undelivered delivery due now (the worker sends it on its next round, with the
    same ``X-Dancu-Delivery`` id); a delivered one is refused (``delivered``), and so is one a
    worker is sending at this moment (``in_progress``: its lease, ``webhooks.LEASE``, has not
    ended) — making it due again would let a second worker send it too. The update is
    conditional, so a worker that claims the delivery between the read and the write wins."""
    action = "residence.webhook_retry"
    est = _integrator(ctx, action)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, webhook__establishment=est).first()
    if delivery is None:
        audit.record(ctx, action, result=AuditEvent.Result.NOT_FOUND, detail={"delivery": delivery_id})
        raise NotFound("no such delivery of your establishment", field="delivery_id")
    if delivery.delivered_at is not None:
        raise DomainValidationError.single("delivery_id", "delivered", "this result was delivered already")
    now = timezone.now()
    with transaction.atomic():
        made_due = (
            WebhookDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
            .update(next_attempt_at=now)
        )
        if made_due:
            audit.record(ctx, action, detail={"delivery": delivery.pk, "webhook": delivery.webhook_id})
    if not made_due:
        delivery.refresh_from_db()
        if delivery.delivered_at is not None:
            raise DomainValidationError.single(
                "delivery_id", "delivered", "this result was delivered already"
            )
        raise DomainValidationError.single(
            "delivery_id",
            "in_progress",
            "this delivery is being sent right now; see its result in a minute and retry then if it failed",
        )
    delivery.next_attempt_at = now
    return _delivery(delivery)
