"""The citizen data tracker (issue 5 item 6): which exchanges touched a citizen's data — which
organisation, which official, when, which fields, for what purpose and case — and the citizen's
flags on accesses they consider unjustified, which the provider's data-protection officer
reviews (Law 91/2025/QH15 on personal data protection: the data subject's right to know who
processed their data and to object; Decree 356/2025/NĐ-CP).

The caller (the citizen's page, ``apps/citizen``) has authenticated the citizen and passes their
citizen id; these functions never reveal other citizens' data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from dancu.blocks.audit.context import Actor
from dancu.blocks.audit.purposes import PURPOSES
from dancu.blocks.exchange.models import AccessFlag, Delivery, Member, Message, MessageSubject
from dancu.blocks.exchange.services import administers, is_operator
from dancu.blocks.organisations.models import Membership
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from dancu.validation import check_text


@dataclass(frozen=True)
class ExchangeAccess:
    """One exchange that concerned the citizen, as the citizen sees it."""

    message_id: int
    occurred_at: datetime
    organisation: str
    official: str
    provider: str
    service_id: str
    purpose_code: str
    purpose_vi: str
    purpose_en: str
    case_reference: str
    fields: list[str]
    outcome: str
    flagged: bool


def exchanges_for_citizen(citizen_id: int, *, limit: int = 200) -> list[ExchangeAccess]:
    """The exchanges whose answer carried this citizen's data (or was refused by the registry
    on their record), newest first."""
    ids = list(
        MessageSubject.objects.filter(citizen_id=citizen_id)
        .order_by("-message_id")
        .values_list("message_id", flat=True)[:limit]
    )
    flagged = set(
        AccessFlag.objects.filter(citizen_id=citizen_id, message_id__in=ids).values_list(
            "message_id", flat=True
        )
    )
    out = []
    for m in Message.objects.filter(pk__in=ids).order_by("-occurred_at", "-id"):
        p = PURPOSES.get(m.purpose)
        out.append(
            ExchangeAccess(
                message_id=m.pk,
                occurred_at=m.occurred_at,
                organisation=m.client_name,
                official=m.end_user,
                provider=m.provider_name,
                service_id=m.service_id,
                purpose_code=m.purpose,
                purpose_vi=p.name_vi if p else m.purpose,
                purpose_en=p.name_en if p else m.purpose,
                case_reference=m.case_reference,
                fields=list(m.fields),
                outcome=m.outcome,
                flagged=m.pk in flagged,
            )
        )
    return out


@transaction.atomic
def flag_access(citizen_id: int, message_id: int, reason: str) -> AccessFlag:
    """The citizen flags an exchange that touched their data as unjustified; once per exchange."""
    reason = check_text("reason", reason, max_length=2000, required=True).strip()
    if not MessageSubject.objects.filter(citizen_id=citizen_id, message_id=message_id).exists():
        raise NotFound("no exchange of your data with that number", field="message_id")
    msg = Message.objects.get(pk=message_id)
    try:
        with transaction.atomic():
            return AccessFlag.objects.create(
                message_id=message_id,
                citizen_id=citizen_id,
                provider_member_pk=msg.provider_member_pk,
                client_member_pk=msg.client_member_pk,
                reason=reason,
            )
    except IntegrityError:
        raise DomainValidationError.single(
            "message_id", "already_flagged", "you have already flagged this exchange"
        ) from None


# What the citizen reads for a change notification's kind (``notifications.ChangeKind``).
NOTICE_KINDS: dict[str, tuple[str, str]] = {
    "citizen.moved": ("Thay đổi nơi cư trú", "Change of residence"),
    "citizen.died": ("Khai tử", "Death registered"),
    "citizen.id_number_changed": ("Đổi số định danh", "ID number changed"),
    "citizen.corrected": ("Cải chính thông tin", "Record corrected"),
}


@dataclass(frozen=True)
class NotificationSent:
    """A change notification about the citizen sent (or waiting to be sent) to a subscriber."""

    occurred_at: datetime
    kind: str
    kind_vi: str
    kind_en: str
    provider: str
    organisation: str
    purpose_vi: str
    purpose_en: str
    fields: list[str]
    delivered: bool


def notifications_for_citizen(citizen_id: int, *, limit: int = 200) -> list[NotificationSent]:
    """The change notifications about this citizen (issue 5 item 8) and which member organisation
    each went to, with the fields it carried and whether it was delivered, newest first — what the
    provider told others about them, next to what others asked (``exchanges_for_citizen``)."""
    rows = (
        Delivery.objects.filter(event__citizen_id=citizen_id)
        .select_related("event__service__subsystem__member", "subscription__client__member")
        .order_by("-event__occurred_at", "-id")[:limit]
    )
    out = []
    for d in rows:
        kind = d.event.kind
        vi, en = NOTICE_KINDS.get(kind, (kind, kind))
        purpose = str(d.body.get("purpose", ""))
        p = PURPOSES.get(purpose)
        data = d.body.get("data")
        out.append(
            NotificationSent(
                occurred_at=d.event.occurred_at,
                kind=kind,
                kind_vi=vi,
                kind_en=en,
                provider=d.event.service.subsystem.member.name,
                organisation=d.subscription.client.member.name,
                purpose_vi=p.name_vi if p else purpose,
                purpose_en=p.name_en if p else purpose,
                fields=sorted(data) if isinstance(data, dict) else [],
                delivered=d.status == Delivery.Status.DELIVERED,
            )
        )
    return out


def _may_review(actor: Actor, member: Member) -> bool:
    """The provider's data-protection officer (role auditor), its administrators, the operator."""
    if administers(actor, member):
        return True
    return (
        member.organisation_id is not None
        and actor.organisation_id == member.organisation_id
        and actor.role == Membership.Role.AUDITOR
    )


def flags_for_review(actor: Actor, *, status: str | None = AccessFlag.Status.OPEN) -> list[AccessFlag]:
    """The flags on exchanges served by the members the actor reviews for."""
    qs = AccessFlag.objects.all()
    if not is_operator(actor):
        members = [
            m.pk
            for m in Member.objects.filter(organisation_id=actor.organisation_id or -1)
            if _may_review(actor, m)
        ]
        if not members:
            raise AccessDenied(
                "only a provider's data-protection officer reviews flags", field="actor", rule="dpo"
            )
        qs = qs.filter(provider_member_pk__in=members)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at", "-id"))


@transaction.atomic
def review_flag(actor: Actor, flag_id: int, note: str) -> AccessFlag:
    flag = AccessFlag.objects.select_for_update().filter(pk=flag_id).first()
    if flag is None:
        raise NotFound("no such flag", field="flag")
    member = Member.objects.filter(pk=flag.provider_member_pk or -1).first()
    if member is None or not _may_review(actor, member):
        raise AccessDenied(
            "only the provider's data-protection officer reviews this flag", field="actor", rule="dpo"
        )
    flag.status = AccessFlag.Status.REVIEWED
    flag.reviewed_by = actor.label[:150]
    flag.reviewed_at = timezone.now()
    flag.review_note = check_text("note", note, max_length=2000, required=True).strip()
    flag.save()
    return flag
