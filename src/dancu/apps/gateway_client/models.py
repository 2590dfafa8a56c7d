"""The gateway clients of the applications that act for a member of the data-exchange gateway
(the social-policy bank's credit system, a sector registry, a land office): which subsystem, which
provider, and the client credential wrapped (``client.py``)."""

from __future__ import annotations

from django.db import models


class ExchangeConnection(models.Model):
    organisation_id = models.PositiveIntegerField()
    # The application's system this connection is for (``social_loans``, ``sector``, ``land``).
    system = models.CharField(max_length=32)
    client_identifier = models.CharField(max_length=255)
    provider_identifier = models.CharField(max_length=255)
    credential_wrapped = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation_id", "system"], name="gateway_client_connection")
        ]

    def __str__(self) -> str:
        return f"{self.system}: {self.client_identifier}"
