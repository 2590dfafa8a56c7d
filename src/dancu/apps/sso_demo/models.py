"""The demo relying parties' own configuration: what a real RP keeps in its settings."""

from __future__ import annotations

from django.db import models


class DemoClient(models.Model):
    """Client credentials of one demo relying party (the plaintext secret: demo only — a real RP
    keeps it in its secret store; the provider stores only its keyed hash)."""

    slug = models.SlugField(unique=True)  # "portal" or "app"
    client_id = models.CharField(max_length=100)
    client_secret = models.CharField(max_length=255)

    def __str__(self) -> str:
        return self.slug
