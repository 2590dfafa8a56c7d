"""HTTP authentication of machine clients: ``Authorization: Bearer dk_<prefix>_<secret>``.

An organisation's information system (a hospital's, a hotel's) calls the API with an API key
issued by ``dancu api_key create``; the key acts for its organisation with the role
``integration`` (``policy.POLICY``). A request without the header falls through to the next
authentication of the operation (the staff session); a request *with* a bad key is refused at
once (401), naming why: ``invalid``, ``revoked`` or ``organisation_inactive``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from dancu.blocks.audit.context import Actor
from dancu.blocks.organisations.services import ApiClient, ApiKeyRejected, actor_for, authenticate_api_key


class ApiKeyRefused(AuthenticationError):
    """A 401 that says which rule the presented key broke."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(401, message)


class ApiKeyAuth(HttpBearer):
    """django-ninja authentication by organisation API key (OpenAPI scheme ``ApiKeyAuth``)."""

    openapi_bearerFormat = "dk_<prefix>_<secret>"
    openapi_description = (
        "API key of an organisation, issued with `dancu api_key create --organisation CODE --name NAME` "
        "and shown once: `Authorization: Bearer dk_<prefix>_<secret>`."
    )

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient:
        try:
            return authenticate_api_key(token)
        except ApiKeyRejected as exc:
            raise ApiKeyRefused(exc.rule, str(exc)) from None


def api_client(request: HttpRequest) -> ApiClient | None:
    """The API key that authenticated ``request`` (``ApiKeyAuth``), or None for a staff session."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


def request_actor(request: HttpRequest, organisation_id: int | None = None) -> Actor:
    """Who acts in an API call of an operation with ``auth=[ApiKeyAuth(), django_auth]``: the API
    key's organisation (role ``integration``), else the logged-in staff member in their
    organisation ``organisation_id`` (default: the first; ``services.actor_for``)."""
    client = api_client(request)
    return client.actor if client is not None else actor_for(request.user, organisation_id)
