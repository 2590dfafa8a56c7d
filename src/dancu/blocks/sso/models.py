"""The provider's own tables beside django-oauth-toolkit's (``oauth2_provider``): the relying-party
profile, the citizen's consents, the signing keys and the nonces already used."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings


class RelyingParty(models.Model):
    """What an administrator registered for one client (``oauth2_provider.Application``): which
    scopes and claims it may receive, for which purpose, at which minimum assurance, and the
    sector it belongs to for pairwise subjects (OpenID Connect Core 1.0 §8.1)."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="relying_party"
    )
    name_vi = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    # The organisation running the RP (an id of ``organisations.Organisation``), or none: then the
    # claims are released to a system actor labelled with the RP's name.
    organisation_id = models.BigIntegerField(null=True, blank=True)
    allowed_scopes = models.CharField(max_length=500, default="openid")
    allowed_claims = models.CharField(max_length=500, blank=True)
    purpose = models.CharField(max_length=64, default="sso.claims_release")
    min_acr = models.CharField(max_length=64, blank=True)
    sector_identifier = models.CharField(max_length=255)
    first_party = models.BooleanField(default=False)
    # The algorithm of this RP's ID tokens (OpenID Connect Registration 1.0
    # ``id_token_signed_response_alg``): it receives tokens signed with this one only.
    id_token_alg = models.CharField(
        max_length=10, choices=[("RS256", "RS256"), ("ES256", "ES256")], default="RS256"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "ứng dụng kết nối (RP) / relying party"
        verbose_name_plural = "ứng dụng kết nối (RP) / relying parties"

    def __str__(self) -> str:
        return self.name_vi

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.allowed_scopes.split())

    @property
    def claims(self) -> frozenset[str]:
        return frozenset(self.allowed_claims.split())


class Consent(models.Model):
    """A citizen's authorisation of one relying party to receive these claims (OpenID Connect Core
    1.0 §3.1.2.4); remembered until revoked, and asked again when the RP asks for more."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    relying_party = models.ForeignKey(RelyingParty, on_delete=models.CASCADE, related_name="consents")
    scopes = models.CharField(max_length=500)
    claims = models.CharField(max_length=500, blank=True)
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "relying_party"])]

    def __str__(self) -> str:
        return f"consent {self.pk}"


class SigningKey(models.Model):
    """An ID-token signing key. The private key is stored as encrypted PKCS#8 PEM (the password is
    derived from ``SECRET_KEY``, see ``keys.py`` and ADR 0009); the public JWK is published in the
    JWKS from ``created_at`` until ``retire_at``."""

    kid = models.CharField(max_length=64, unique=True)
    alg = models.CharField(max_length=10, default="RS256")
    private_pem = models.TextField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField()
    # Signs new tokens while it is the newest active key; set when a newer key replaces it.
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Dropped from the JWKS after this (the grace period for tokens signed before the rotation).
    retire_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.kid


class UsedNonce(models.Model):
    """A nonce already bound to an authorisation code of this client (OpenID Connect Core 1.0
    §3.1.2.1, §15.5.2): a second request with the same value is refused."""

    client_id = models.CharField(max_length=100)
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "digest"], name="sso_nonce_once")]

    def __str__(self) -> str:
        return f"nonce {self.pk}"


class RedeemedCode(models.Model):
    """An authorisation code already exchanged for tokens, kept (as a digest) after DOT deletes
    the grant so that a second presentation can be recognised: the server then refuses it and
    revokes the tokens issued from it (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.2.1 — a replayed code
    means the code leaked)."""

    digest = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=100)
    # The access token issued for the code (an ``oauth2_provider.AccessToken`` id) and the family
    # of the refresh token issued with it: every rotation of that refresh token shares the family.
    access_token_id = models.BigIntegerField(null=True, blank=True)
    token_family = models.UUIDField(null=True, blank=True)
    redeemed_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"redeemed code {self.pk}"
