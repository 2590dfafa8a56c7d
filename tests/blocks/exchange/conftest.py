"""Exchange fixtures: the platform operator, the registry as a provider member, two client members
(Sở Lao động – Thương binh và Xã hội, BHXH thành phố Hà Nội) with administrators, credentials and
grants, and residents registered through the registry's service.

* ``operator`` — an administrator of the platform operator (manages members and the catalogue)
* ``police_admin`` — an administrator of Công an thành phố Hà Nội (the registry's owner: approves
  grants on its services)
* ``labour_admin`` — an administrator of Sở Lao động (requests grants for its systems)
* ``bhxh_admin`` — an administrator of BHXH Hà Nội
* ``bhxh_dpo`` — BHXH's data-protection officer (role auditor)
* ``groups`` — the size of each group the fast path's lanes ran
* ``account_links``, ``citizen_token`` — citizens' accounts and their access tokens (ADR 0010 §22)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dancu.blocks.exchange import fast
from dancu.blocks.registry import pg_read
from tests.blocks.registry.conftest import (  # noqa: F401 — fixtures used by the exchange tests
    adminunits,
    an_tay_ho,
    binh_hoan_kiem,
    cuong_hcm,
    new_citizen,
    register,
)
from tests.conftest import HANOI, Person


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Each test starts with full token buckets (they live in the cache, not the database)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def operator(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "quantri.nentang",
        org_code="VH-DANCU",
        org_name="Đơn vị vận hành nền tảng",
        kind="platform",
        role="admin",
    )


@pytest.fixture
def police_admin(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "quantri.congan",
        org_code="CA-HN",
        org_name="Công an thành phố Hà Nội",
        kind="police_city",
        role="admin",
        province=HANOI,
    )


@pytest.fixture
def labour_admin(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "quantri.soldtbxh",
        org_code="SLDTBXH-HN",
        org_name="Sở Lao động – Thương binh và Xã hội Hà Nội",
        kind="department",
        role="admin",
        province=HANOI,
    )


@pytest.fixture
def bhxh_admin(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "quantri.bhxh",
        org_code="BHXH-HN",
        org_name="Bảo hiểm xã hội thành phố Hà Nội",
        kind="department",
        role="admin",
        province=HANOI,
    )


@pytest.fixture
def bhxh_dpo(make_person: Callable[..., Person], bhxh_admin: Person) -> Person:
    return make_person("dpo.bhxh", org_code="BHXH-HN", kind="department", role="auditor", province=HANOI)


@dataclass
class World:
    registry: Any  # the registry's subsystem (provider)
    labour: Any  # Sở Lao động's subsystem (client)
    bhxh: Any  # BHXH's subsystem (client)
    labour_token: str
    bhxh_token: str
    services: dict[str, Any]

    def service_id(self, code: str) -> str:
        return self.services[code].identifier


@pytest.fixture
def world(operator: Person, police_admin: Person, labour_admin: Person, bhxh_admin: Person) -> World:
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.organisations.models import Organisation

    org = Organisation.objects.get
    police = ex.create_member(
        operator.actor,
        member_class="GOV",
        member_code="CA-HN",
        name="Công an thành phố Hà Nội",
        organisation=org(code="CA-HN"),
    )
    labour = ex.create_member(
        operator.actor,
        member_class="GOV",
        member_code="SLDTBXH-HN",
        name="Sở Lao động – Thương binh và Xã hội Hà Nội",
        organisation=org(code="SLDTBXH-HN"),
    )
    bhxh = ex.create_member(
        operator.actor,
        member_class="GOV",
        member_code="BHXH-HN",
        name="Bảo hiểm xã hội thành phố Hà Nội",
        organisation=org(code="BHXH-HN"),
    )
    registry = ex.create_subsystem(operator.actor, police, code="DANCU-REGISTRY", name="CSDL dân cư")
    labour_sys = ex.create_subsystem(operator.actor, labour, code="ANSINH", name="Hệ thống an sinh xã hội")
    bhxh_sys = ex.create_subsystem(operator.actor, bhxh, code="TIEPNHAN", name="Hệ thống tiếp nhận hồ sơ")
    published = {s.code: s for s in ex.publish_registry_services(operator.actor, registry)}
    return World(
        registry=registry,
        labour=labour_sys,
        bhxh=bhxh_sys,
        labour_token=ex.issue_credential(labour_admin.actor, labour_sys).token,
        bhxh_token=ex.issue_credential(bhxh_admin.actor, bhxh_sys).token,
        services=published,
    )


@pytest.fixture
def grant(world: World, police_admin: Person, bhxh_admin: Person) -> Callable[..., Any]:
    """Request (as the client's administrator) and approve (as the provider's) a grant."""
    from dancu.blocks.exchange import services as ex

    def make(
        client: Any = None,
        service: str = "citizen",
        purposes: dict[str, list[str]] | None = None,
        *,
        approve: bool = True,
        days: int = 365,
        requester: Person | None = None,
    ) -> Any:
        g = ex.request_grant(
            (requester or bhxh_admin).actor,
            client=client or world.bhxh,
            service=world.services[service],
            purposes=purposes
            or {"public_service.processing": ["id_number", "full_name", "date_of_birth", "life_status"]},
            legal_basis="Luật Bảo hiểm xã hội 2024 Điều 20; Nghị định 47/2020/NĐ-CP",
            valid_from=timezone.now() - timedelta(minutes=1),
            valid_until=timezone.now() + timedelta(days=days),
        )
        return ex.approve_grant(police_admin.actor, g.pk) if approve else g

    return make


@dataclass
class Call:
    """One HTTP call to the gateway: the response, its JSON body."""

    response: Any

    @property
    def status(self) -> int:
        return int(self.response.status_code)

    @property
    def json(self) -> Any:
        return self.response.json()

    @property
    def rule(self) -> str:
        return str(self.json["detail"][0]["rule"])


@pytest.fixture
def call(world: World) -> Callable[..., Call]:
    """``call(service, path, **headers)`` through the Django test client, as BHXH by default."""
    http = Client()

    def make(
        service: str = "citizen",
        path: str = "",
        *,
        client: str | None = None,
        token: str | None = None,
        request_id: str = "req-0001",
        purpose: str | None = "public_service.processing",
        end_user: str = "canbo.nguyenthimai",
        case_reference: str = "HS-BHXH-2026-0042",
        method: str = "GET",
        body: Any = None,
        query: str = "",
        extra: dict[str, str] | None = None,
        service_id: str | None = None,
    ) -> Call:
        headers = {
            "Information-Mediator-Client": client if client is not None else world.bhxh.identifier,
            "Authorization": f"Bearer {token if token is not None else world.bhxh_token}",
            "X-Request-Id": request_id,
            "X-End-User": end_user,
            "X-Case-Reference": case_reference,
        }
        if purpose is not None:
            headers["X-Purpose"] = purpose
        headers.update(extra or {})
        url = f"/exchange/{service_id or world.service_id(service)}/{path}"
        if query:
            url += f"?{query}"
        if method == "POST":
            import json

            data = body if isinstance(body, (bytes, str)) else json.dumps(body or {})
            return Call(http.post(url, data=data, content_type="application/json", headers=headers))
        return Call(http.get(url, headers=headers))

    return make


@contextmanager
def fast_lanes(settings: Any, count: int) -> Iterator[None]:
    """The gateway with ``count`` lanes (``DANCU_EXCHANGE_LANES``; 0: the ORM path), started
    afresh; the lanes and the registry's read connections closed after."""
    settings.DANCU_EXCHANGE_LANES = count
    fast.close()
    try:
        yield
    finally:
        fast.close()
        pg_read.close()


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each group the lanes ran (proof that the fast path served the calls)."""
    sizes: list[int] = []
    real = fast.run_group

    def counted(conn: Any, jobs: list[fast.Job]) -> list[fast.Job]:
        sizes.append(len(jobs))
        return real(conn, jobs)

    monkeypatch.setattr(fast, "run_group", counted)
    return sizes


# The account → citizen links of the exchange tests (the eID account block links them in production).
ACCOUNT_LINKS: dict[int, str] = {}


def resolve_account(user_id: int) -> str | None:
    return ACCOUNT_LINKS.get(user_id)


@pytest.fixture
def account_links(settings: Any) -> dict[int, str]:
    """The account → citizen links the OpenID provider resolves (``resolve_account``), empty at
    the start of each test (account ids are reused between tests)."""
    settings.DANCU_OIDC_CITIZEN_RESOLVER = "tests.blocks.exchange.conftest.resolve_account"
    ACCOUNT_LINKS.clear()
    return ACCOUNT_LINKS


def relying_party(name: str, host: str, organisation_id: int | None, min_acr: str = "") -> Any:
    """A relying party registered at the platform's OpenID provider for ``organisation_id``
    (its ``oauth2_provider`` application)."""
    from oauth2_provider.models import get_application_model

    from dancu.blocks.sso.services import register_client

    registered = register_client(
        name_vi=name,
        redirect_uris=[f"https://{host}/oidc/callback"],
        scopes=["openid", "profile"],
        organisation_id=organisation_id,
        min_acr=min_acr,
    )
    return get_application_model().objects.get(client_id=registered.client_id)


def issue_token(user: Any, application: Any, *, minutes: int = 10, resource: list[str] | None = None) -> str:
    """An access token as the provider stores it after ``user`` signed in to ``application``
    (only its SHA-256 is kept, RFC 9700 token storage), bound to ``resource`` (RFC 8707) — by
    default to the gateway (``DANCU_EXCHANGE_END_USER_RESOURCE``), as a relying party that calls
    the gateway for the citizen asks for it."""
    import secrets

    from django.conf import settings
    from oauth2_provider.models import get_access_token_model, set_token_value

    raw = secrets.token_urlsafe(30)
    token = get_access_token_model()(
        user=user,
        application=application,
        expires=timezone.now() + timedelta(minutes=minutes),
        scope="openid profile",
        resource=[settings.DANCU_EXCHANGE_END_USER_RESOURCE] if resource is None else resource,
    )
    set_token_value(token, raw)
    token.save()
    return raw


@pytest.fixture
def citizen_token(account_links: dict[int, str], django_user_model: Any) -> Callable[..., str]:
    """``citizen_token(citizen_or_id_number, org_code="BHXH-HN", minutes=10)``: an access token of
    the platform's OpenID provider issued to the citizen's account for a relying party registered
    for organisation ``org_code`` — what that organisation's portal holds after the citizen signed
    in there, and presents as ``X-End-User-Token`` (ADR 0010 §22). Stored as the provider stores
    it (only its SHA-256, RFC 9700 token storage)."""
    from dancu.blocks.organisations.models import Organisation

    apps: dict[str, Any] = {}
    users: dict[str, Any] = {}

    def make(citizen: Any, org_code: str = "BHXH-HN", *, minutes: int = 10) -> str:
        number = citizen if isinstance(citizen, str) else citizen.id_number
        if org_code not in apps:
            org = Organisation.objects.get(code=org_code)
            apps[org_code] = relying_party(f"Cổng của {org.name}", f"{org_code.lower()}.example", org.pk)
        if number not in users:
            users[number] = django_user_model.objects.create_user(username=f"cd.{number}")
            account_links[users[number].pk] = number
        return issue_token(users[number], apps[org_code], minutes=minutes)

    return make
