"""Members, subsystems, the service catalogue, access grants and the message log of the data
exchange gateway (issue 5; ADR 0010)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Member(models.Model):
    """An organisation taking part in the exchange (X-Road "member"), identified by
    ``INSTANCE/CLASS/CODE``; linked to the platform's ``Organisation`` where there is one (its
    kind decides which purposes its systems may invoke, ``organisations.policy``)."""

    class MemberClass(models.TextChoices):
        GOV = "GOV", "Cơ quan nhà nước / Government"
        MUN = "MUN", "Chính quyền địa phương / Local government"
        COM = "COM", "Doanh nghiệp / Commercial"
        NGO = "NGO", "Tổ chức phi chính phủ / Non-governmental"
        EDU = "EDU", "Cơ sở giáo dục / Education"
        ORG = "ORG", "Tổ chức khác / Other organisation"

    instance = models.CharField(max_length=64)
    member_class = models.CharField(max_length=8, choices=MemberClass.choices)
    member_code = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "member_class", "member_code"], name="exchange_member_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.identifier} ({self.name})"

    @property
    def identifier(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}"


class Subsystem(models.Model):
    """An information system of a member (X-Road "subsystem", GovStack "application"): it calls
    services with its client credential and signs with its Ed25519 key (private half wrapped,
    ``crypto.new_wrapped_key``)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subsystems")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    public_key = models.CharField(max_length=64)
    private_key_wrapped = models.TextField()
    key_id = models.CharField(max_length=16, db_index=True)
    key_created_at = models.DateTimeField(default=timezone.now)
    # The client credential ``xk_<prefix>_<secret>``: only the SHA-256 of the secret is stored.
    credential_prefix = models.CharField(max_length=16, unique=True, null=True, blank=True)
    credential_sha256 = models.CharField(max_length=64, blank=True)
    credential_issued_at = models.DateTimeField(null=True, blank=True)
    credential_revoked_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["member__name", "code"]
        constraints = [models.UniqueConstraint(fields=["member", "code"], name="exchange_subsystem_code")]

    def __str__(self) -> str:
        return self.identifier

    @property
    def identifier(self) -> str:
        return f"{self.member.identifier}/{self.code}"


class Service(models.Model):
    """A service in the catalogue: ``INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE``, its owner (the
    subsystem's member), legal basis, OpenAPI description and the fields it may return, per
    purpose (the most a grant may give)."""

    subsystem = models.ForeignKey(Subsystem, on_delete=models.PROTECT, related_name="services")
    code = models.CharField(max_length=64)
    version = models.CharField(max_length=16, default="v1")
    title_vi = models.CharField(max_length=255)
    title_en = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    legal_basis = models.CharField(max_length=255)
    # The in-process provider (``providers.HANDLERS``); empty: an external provider at
    # ``endpoint_url`` (``remote.forward``).
    handler = models.CharField(max_length=64, blank=True)
    endpoint_url = models.URLField(max_length=500, blank=True)
    methods = models.CharField(max_length=32, default="GET,POST")
    fields = models.JSONField(default=list)
    fields_by_purpose = models.JSONField(default=dict)
    openapi = models.JSONField(default=dict)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["subsystem__member__name", "code"]
        constraints = [models.UniqueConstraint(fields=["subsystem", "code"], name="exchange_service_code")]

    def __str__(self) -> str:
        return self.identifier

    @property
    def identifier(self) -> str:
        return f"{self.subsystem.identifier}/{self.code}"


class Grant(models.Model):
    """Permission for one client subsystem to call one service, for the named purposes only, each
    purpose with its field set, within a validity period; requested by the client's
    administrator, approved (or rejected) by the provider's, revocable (deny by default)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Chờ duyệt / Requested"
        APPROVED = "approved", "Đã duyệt / Approved"
        REJECTED = "rejected", "Từ chối / Rejected"
        REVOKED = "revoked", "Đã thu hồi / Revoked"

    client = models.ForeignKey(Subsystem, on_delete=models.PROTECT, related_name="grants_held")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="grants")
    purposes = models.JSONField(default=dict)  # {purpose code: [field, ...]}
    legal_basis = models.CharField(max_length=255)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["client", "service", "status"], name="exchange_grant_lookup")]

    def __str__(self) -> str:
        return f"grant {self.pk}: {self.client_id} → {self.service_id} ({self.status})"


class Message(models.Model):
    """One exchange (or refusal) in the append-only message log. ``request`` and ``response`` are
    the canonical documents that were hashed and signed; ``seq``, ``prev_hash`` and ``hash`` are
    filled by ``evidence.seal`` (the hash chain, ADR 0010)."""

    class Outcome(models.TextChoices):
        OK = "ok", "ok"
        PROVIDER_ERROR = "provider_error", "provider refused"  # answered: not found, denied…
        REFUSED = "refused", "refused by the gateway"
        # An external provider timed out, failed (5xx) or answered garbage: reported and logged,
        # but not an answer — the client may retry under the same request id.
        FAILED = "failed", "provider failed"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    client_id = models.CharField(max_length=300)
    client_name = models.CharField(max_length=255, blank=True)
    client_member_pk = models.BigIntegerField(null=True, blank=True)
    service_id = models.CharField(max_length=400)
    provider_name = models.CharField(max_length=255, blank=True)
    provider_member_pk = models.BigIntegerField(null=True, blank=True)
    grant_pk = models.BigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=100)
    purpose = models.CharField(max_length=64, blank=True)
    end_user = models.CharField(max_length=150, blank=True)
    case_reference = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status = models.PositiveSmallIntegerField()
    rule = models.CharField(max_length=64, blank=True)
    fingerprint = models.CharField(max_length=64)
    request = models.JSONField()
    request_hash = models.CharField(max_length=64)
    request_signature = models.CharField(max_length=100)
    request_key_id = models.CharField(max_length=16)
    response = models.JSONField()
    response_hash = models.CharField(max_length=64)
    response_signature = models.CharField(max_length=100)
    response_key_id = models.CharField(max_length=16)
    fields = models.JSONField(default=list)
    subjects = models.JSONField(default=list)  # citizen ids whose data the answer carried
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Idempotency (X-Road message protocol: the client's request id names the request):
            # one answered request per client and request id.
            models.UniqueConstraint(
                fields=["client_id", "request_id"],
                condition=Q(outcome__in=["ok", "provider_error"]),
                name="exchange_message_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["service_id", "occurred_at"], name="exchange_msg_service"),
            models.Index(fields=["client_id", "occurred_at"], name="exchange_msg_client"),
            models.Index(fields=["client_id", "request_id"], name="exchange_msg_reqid"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} {self.client_id} → {self.service_id} ({self.status})"


class MessageSubject(models.Model):
    """Which citizens an exchange's answer concerned (the citizen data tracker's index). Plain
    ids: the log is never cascaded."""

    message_id = models.BigIntegerField()
    citizen_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["citizen_id", "message_id"], name="exchange_subject_citizen")]

    def __str__(self) -> str:
        return f"message {self.message_id} → citizen {self.citizen_id}"


class Checkpoint(models.Model):
    """The chain head after a sealing run, signed by the gateway key; it also anchors the audit
    log's latest checkpoint (ADR 0004: audit checkpoints are exported to the gateway's log)."""

    created_at = models.DateTimeField(default=timezone.now)
    last_seq = models.BigIntegerField()
    last_message_id = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)
    records_sealed = models.IntegerField()
    audit_last_event_id = models.BigIntegerField(null=True, blank=True)
    audit_last_hash = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)

    class Meta:
        ordering = ["-last_seq"]

    def __str__(self) -> str:
        return f"checkpoint at seq {self.last_seq}"


class AccessFlag(models.Model):
    """A citizen's objection to an exchange that touched their data; the provider's
    data-protection officer reviews it (Law 91/2025/QH15: the data subject's right to object)."""

    class Status(models.TextChoices):
        OPEN = "open", "Chờ xem xét / Open"
        REVIEWED = "reviewed", "Đã xem xét / Reviewed"

    message_id = models.BigIntegerField()
    citizen_id = models.BigIntegerField(db_index=True)
    provider_member_pk = models.BigIntegerField(null=True, blank=True, db_index=True)
    client_member_pk = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    reviewed_by = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message_id", "citizen_id"], name="exchange_flag_once")
        ]

    def __str__(self) -> str:
        return f"flag {self.pk} on message {self.message_id} ({self.status})"


class Subscription(models.Model):
    """A client subsystem's subscription to a provider service's change events (issue 5 item 8),
    for one purpose its grant covers; delivered by webhook to ``callback_url``, or pulled when
    it is empty."""

    client = models.ForeignKey(Subsystem, on_delete=models.PROTECT, related_name="subscriptions")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="subscriptions")
    purpose = models.CharField(max_length=64)
    callback_url = models.URLField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "service", "purpose"], name="exchange_subscription_once"
            )
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk}: {self.client_id} → {self.service_id} ({self.purpose})"


class Event(models.Model):
    """A change published by a provider ("citizen.died", "citizen.moved"), signed with the
    provider subsystem's key."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=64)
    citizen_id = models.BigIntegerField(null=True, blank=True)
    document = models.JSONField()  # what was signed: kind, service, data, occurred_at
    signature = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16)
    occurred_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"event {self.pk} {self.kind}"


class Delivery(models.Model):
    """One event for one subscription, filtered to the subscriber's granted fields; kept until
    delivered (acknowledged by pull, or a 2xx from the webhook) — never dropped."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="deliveries")
    body = models.JSONField()
    signature = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=255, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="exchange_delivery_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="exchange_delivery_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class RefusalTally(models.Model):
    """Refusals counted instead of logged one row each (ADR 0010 §10): per minute, per rule, per
    client — the client only when it authenticated (a rate-limited member); refusals of unknown or
    unauthenticated callers share ``client_id = ""``, so what they send cannot make the table
    grow beyond one row per rule a minute. The first refusals of each minute are also logged in
    full (``DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE``)."""

    minute = models.DateTimeField()
    rule = models.CharField(max_length=64)
    client_id = models.CharField(max_length=300, blank=True)
    count = models.BigIntegerField(default=0)
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-minute", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["minute", "rule", "client_id"], name="exchange_refusal_tally_key")
        ]

    def __str__(self) -> str:
        return (
            f"{self.minute:%Y-%m-%d %H:%M} {self.rule} {self.client_id or '(unauthenticated)'}: {self.count}"
        )


class ConfigVersion(models.Model):
    """The version of the gateway's configuration (members, subsystems, services, grants and the
    organisations behind them): one row, set to a fresh value of a sequence by a statement-level
    trigger on each of those tables in the writing transaction (PostgreSQL; migration 0003). The
    fast path (``fast``, ADR 0010 §13) caches routes per process under the version it read and
    checks it in the exchange's own transaction: a revoked grant stops working for every exchange
    whose transaction starts after the revocation committed."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"gateway configuration version {self.version}"
