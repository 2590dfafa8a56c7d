"""A citizen end user is proven, not claimed (ADR 0010 §22): a member system that names
``X-End-User: citizen:<ID number>`` must present ``X-End-User-Token``, an access token this
platform's OpenID provider issued to that citizen for a relying party of the system's own member.
The gateway checks it at every call (exists — revoked tokens are deleted —, not expired, that
citizen's, that member's relying party, assurance) before the call reaches any service; a bare
header is refused with a rule naming the field.

Actors: the city's public-service portal (Trung tâm Phục vụ hành chính công Hà Nội, client
subsystem ``CONG-DVC``, administrator ``quantri.congdvc``; its relying party "Cổng dịch vụ công Hà
Nội" at the OpenID provider); Nguyễn Văn An (Tây Hồ) and Trần Thị Bình (Hoàn Kiếm), each with an
account linked to their record; BHXH Hà Nội, another member with a relying party of its own; the
registry's owner ``police_admin`` approves the grants.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange import gateway
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Message
from dancu.blocks.exchange.providers import APPLICANT_FIELDS
from tests.blocks.exchange.conftest import Call, World, fast_lanes, relying_party
from tests.blocks.exchange.conftest import issue_token as issue
from tests.conftest import HANOI, Person

pytestmark = pytest.mark.usefixtures("adminunits", "account_links")  # accounts resolve to citizens

PREFILL = {"public_service.processing": list(APPLICANT_FIELDS)}
LOOKUP = {"public_service.processing": ["id_number", "full_name", "date_of_birth", "life_status"]}


@dataclass
class Portal:
    subsystem: Any
    credential: str
    organisation_id: int
    application: Any  # the portal's relying party at the OpenID provider (``oauth2_provider.Application``)


@pytest.fixture
def portal_admin(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "quantri.congdvc",
        org_code="TTPVHCC-HN",
        org_name="Trung tâm Phục vụ hành chính công Hà Nội",
        kind="department",
        role="admin",
        province=HANOI,
    )


@pytest.fixture
def portal(
    world: World, operator: Person, portal_admin: Person, police_admin: Person, settings: Any
) -> Portal:
    """The city portal as a member system with grants on ``applicant`` and ``citizen``, and its
    relying party registered for its organisation."""
    from dancu.blocks.organisations.models import Organisation

    org = Organisation.objects.get(code="TTPVHCC-HN")
    member = ex.create_member(
        operator.actor,
        member_class="GOV",
        member_code="TTPVHCC-HN",
        name="Trung tâm Phục vụ hành chính công Hà Nội",
        organisation=org,
    )
    sub = ex.create_subsystem(operator.actor, member, code="CONG-DVC", name="Cổng dịch vụ công")
    settings.DANCU_EXCHANGE_SELF_SERVICE_CLIENTS = [sub.identifier]
    for code, purposes in (("applicant", PREFILL), ("citizen", LOOKUP)):
        g = ex.request_grant(
            portal_admin.actor,
            client=sub,
            service=world.services[code],
            purposes=purposes,
            legal_basis="Nghị định 45/2020/NĐ-CP; Nghị định 107/2021/NĐ-CP",
            valid_from=timezone.now() - timedelta(minutes=1),
            valid_until=timezone.now() + timedelta(days=365),
        )
        ex.approve_grant(police_admin.actor, g.pk)
    return Portal(
        subsystem=sub,
        credential=ex.issue_credential(portal_admin.actor, sub).token,
        organisation_id=org.pk,
        application=relying_party("Cổng dịch vụ công Hà Nội", "dichvucong.hanoi.example", org.pk),
    )


@pytest.fixture
def account(django_user_model: Any, account_links: dict[int, str]) -> Callable[[Any], Any]:
    """``account(citizen)``: the citizen's account, linked to their record."""

    def make(citizen: Any) -> Any:
        user = django_user_model.objects.create_user(username=f"cd.{citizen.id_number}")
        account_links[user.pk] = citizen.id_number
        return user

    return make


@pytest.fixture
def as_portal(portal: Portal, call: Callable[..., Call]) -> Callable[..., Call]:
    """``as_portal(service, path, end_user=…, end_user_token=…)``: the portal calls the gateway."""

    def make(
        service: str,
        path: str,
        *,
        end_user: str,
        end_user_token: str | None = None,
        request_id: str = "dvc-0001",
    ) -> Call:
        extra = {"X-End-User-Token": end_user_token} if end_user_token is not None else {}
        return call(
            service,
            path,
            client=portal.subsystem.identifier,
            token=portal.credential,
            end_user=end_user,
            request_id=request_id,
            case_reference="DVC card-reissue",
            extra=extra,
        )

    return make


@pytest.fixture
def ans_token(portal: Portal, account: Callable[[Any], Any], an_tay_ho: Any) -> str:
    """The access token An holds after he signed in to the city portal."""
    return issue(account(an_tay_ho), portal.application)


@pytest.fixture
def for_citizen(as_portal: Callable[..., Call]) -> Callable[..., Call]:
    """``for_citizen(citizen, token)``: the portal asks for ``citizen``'s own record (``applicant``)
    acting for that citizen (``X-End-User: citizen:<ID number>``) with ``token``."""

    def make(citizen: Any, token: str, *, request_id: str = "dvc-0001") -> Call:
        end_user = f"citizen:{citizen.id_number}"
        return as_portal(
            "applicant", citizen.id_number, end_user=end_user, end_user_token=token, request_id=request_id
        )

    return make


def _reads_of(citizen: Any) -> int:
    return AuditEvent.objects.filter(subject_citizen_id=citizen.citizen_id, action="registry.read").count()


def test_the_portal_acting_for_an_with_ans_token_gets_ans_record(
    for_citizen: Callable[..., Call], ans_token: str, an_tay_ho: Any
) -> None:
    res = for_citizen(an_tay_ho, ans_token)

    assert res.status == 200, res.json
    assert res.json["data"]["id_number"] == an_tay_ho.id_number
    msg = Message.objects.get()
    assert (msg.status, msg.end_user) == (200, f"citizen:{an_tay_ho.id_number}")
    assert ans_token not in str(msg.request) and ans_token not in str(msg.response)  # not logged
    event = AuditEvent.objects.get(subject_citizen_id=an_tay_ho.citizen_id, action="registry.read")
    assert event.result == "ok" and event.actor_label.startswith(f"citizen:{an_tay_ho.id_number} · ")


def test_the_portal_claiming_binh_with_ans_token_is_refused(
    for_citizen: Callable[..., Call],
    ans_token: str,
    account: Callable[[Any], Any],
    an_tay_ho: Any,
    binh_hoan_kiem: Any,
) -> None:
    account(binh_hoan_kiem)

    res = for_citizen(binh_hoan_kiem, ans_token)

    assert (res.status, res.rule) == (403, "end_user_token_mismatch")
    assert res.json["detail"][0]["field"] == "X-End-User-Token"
    assert _reads_of(binh_hoan_kiem) == 0 and _reads_of(an_tay_ho) == 0
    refused = Message.objects.get()
    assert (refused.outcome, refused.rule, refused.end_user) == (
        Message.Outcome.REFUSED,
        "end_user_token_mismatch",
        f"citizen:{binh_hoan_kiem.id_number}",
    )


def test_ans_token_does_not_open_binhs_record_even_when_the_header_names_an(
    as_portal: Callable[..., Call], ans_token: str, an_tay_ho: Any, binh_hoan_kiem: Any
) -> None:
    """The token proves An; the service still answers only about the end user."""
    end_user = f"citizen:{an_tay_ho.id_number}"
    res = as_portal("applicant", binh_hoan_kiem.id_number, end_user=end_user, end_user_token=ans_token)
    assert (res.status, res.rule) == (403, "not_the_end_user")
    assert _reads_of(binh_hoan_kiem) == 0


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        ("of_bhxhs_portal", "end_user_token_foreign"),
        ("of_a_portal_of_no_organisation", "end_user_token_foreign"),
        ("expired", "end_user_token_expired"),
        ("made_up", "end_user_token_invalid"),
        ("the_portals_machine_token", "end_user_token_invalid"),
        ("of_a_staff_account", "end_user_token_mismatch"),
    ],
)
def test_a_token_that_does_not_prove_an_at_the_portal_is_refused(
    token: str,
    rule: str,
    for_citizen: Callable[..., Call],
    portal: Portal,
    account: Callable[[Any], Any],
    django_user_model: Any,
    an_tay_ho: Any,
) -> None:
    """The portal asks for An's record with a token that does not prove An to it: one An got when
    he signed in to BHXH's own portal (another member's relying party) or to a relying party
    registered for no organisation — the city portal cannot use those; An's own token to the
    portal, expired; a made-up token; the portal's own machine token (client credentials: no
    person); a token of a staff account linked to no citizen. Refused with the rule that says
    why; nothing is read."""
    from dancu.blocks.organisations.models import Organisation

    if token in ("of_bhxhs_portal", "of_a_portal_of_no_organisation"):
        org_id = Organisation.objects.get(code="BHXH-HN").pk if token == "of_bhxhs_portal" else None
        raw = issue(account(an_tay_ho), relying_party("Cổng BHXH", "baohiem.example", org_id))
    elif token == "expired":
        raw = issue(account(an_tay_ho), portal.application, minutes=-1)
    elif token == "made_up":
        raw = secrets.token_urlsafe(30)
    elif token == "the_portals_machine_token":
        raw = issue(None, portal.application)
    else:
        raw = issue(django_user_model.objects.create_user("canbo.mai"), portal.application)

    res = for_citizen(an_tay_ho, raw)

    assert (res.status, res.rule) == (403, rule)
    assert _reads_of(an_tay_ho) == 0


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        pytest.param("{gateway}", 200, id="the gateway"),
        pytest.param("{gateway}{applicant}", 200, id="the applicant service itself"),
        pytest.param("{gateway_no_slash}", 200, id="the gateway without its trailing slash"),
        pytest.param(None, 403, id="no resource: valid anywhere, so not here"),
        pytest.param("{gateway}{other_service}", 403, id="another service of the gateway"),
        pytest.param("https://api.portal.example/", 403, id="the portal's own API"),
        pytest.param("{issuer}/oauth/userinfo/", 403, id="the provider's userinfo"),
        pytest.param("{issuer}/exchange-evil/", 403, id="a path that only starts like the gateway's"),
        pytest.param("{issuer_other_port}/exchange/", 403, id="the gateway's path on another port"),
        pytest.param("https://evil.example/exchange/", 403, id="the gateway's path at another host"),
        pytest.param("{issuer}", 403, id="the host's root: valid everywhere on it"),
        pytest.param("{issuer}/", 403, id="the host's root with a slash"),
        pytest.param("{issuer}/oauth/../", 403, id="the root reached through a dot segment"),
    ],
)
def test_the_token_counts_only_when_it_is_bound_to_the_gateway(
    resource: str | None,
    status: int,
    for_citizen: Callable[..., Call],
    portal: Portal,
    account: Callable[[Any], Any],
    world: World,
    an_tay_ho: Any,
    settings: Any,
) -> None:
    """RFC 8707 audience binding (ADR 0010 §23): the portal asked the provider for An's token
    with ``resource=<issuer>/exchange/`` (or the one service it calls). A token of An's to the
    portal that is bound elsewhere — to the portal's own API, to userinfo, to another service of
    the gateway — or to nothing (a bearer token valid at every resource server) is not one the
    portal may replay at the gateway: refused, ``end_user_token_audience``, nothing read."""
    settings.DANCU_OIDC_ISSUER = "https://id.hanoi.example"
    settings.DANCU_EXCHANGE_END_USER_RESOURCE = "https://id.hanoi.example/exchange/"
    values = {
        "gateway": "https://id.hanoi.example/exchange/",
        "gateway_no_slash": "https://id.hanoi.example/exchange",
        "issuer": "https://id.hanoi.example",
        "issuer_other_port": "https://id.hanoi.example:8443",
        "applicant": world.service_id("applicant"),
        "other_service": world.service_id("citizen"),
    }
    bound = [] if resource is None else [resource.format(**values)]

    res = for_citizen(an_tay_ho, issue(account(an_tay_ho), portal.application, resource=bound))

    if status == 200:
        assert res.status == 200, res.json
        assert _reads_of(an_tay_ho) == 1
    else:
        assert (res.status, res.rule) == (403, "end_user_token_audience")
        detail = res.json["detail"][0]
        assert detail["field"] == "X-End-User-Token" and "resource=" in detail["message"]
        assert _reads_of(an_tay_ho) == 0
        assert Message.objects.get().rule == "end_user_token_audience"


def test_a_revoked_token_is_refused_at_the_very_next_call(
    for_citizen: Callable[..., Call], portal: Portal, account: Callable[[Any], Any], an_tay_ho: Any
) -> None:
    """An withdraws his consent to the portal (``sso.services.revoke_tokens``): the token that
    worked a moment ago is refused at once."""
    from dancu.blocks.sso.services import revoke_tokens

    user = account(an_tay_ho)
    token = issue(user, portal.application)
    assert for_citizen(an_tay_ho, token).status == 200

    revoke_tokens(user.pk, portal.application.pk)
    res = for_citizen(an_tay_ho, token, request_id="dvc-2")

    assert (res.status, res.rule) == (403, "end_user_token_invalid")
    assert _reads_of(an_tay_ho) == 1  # the first call only


@pytest.mark.parametrize("end_user", ["citizen:{id}", "Citizen:{id}", "CITIZEN:{id}"])
def test_a_citizen_end_user_without_a_token_is_refused_naming_the_header(
    end_user: str, as_portal: Callable[..., Call], an_tay_ho: Any
) -> None:
    res = as_portal("applicant", an_tay_ho.id_number, end_user=end_user.format(id=an_tay_ho.id_number))
    assert (res.status, res.rule) == (403, "end_user_token_missing")
    detail = res.json["detail"][0]
    assert detail["field"] == "X-End-User-Token" and "X-End-User-Token" in detail["message"]
    assert _reads_of(an_tay_ho) == 0
    assert Message.objects.get().rule == "end_user_token_missing"  # an authenticated member: logged


def test_a_malformed_token_is_a_400(for_citizen: Callable[..., Call], an_tay_ho: Any) -> None:
    res = for_citizen(an_tay_ho, 'a b"c')
    assert (res.status, res.rule) == (400, "end_user_token_format")


def test_the_token_is_checked_only_after_the_client_authenticated(
    portal: Portal, ans_token: str, an_tay_ho: Any, call: Callable[..., Call]
) -> None:
    """A caller without the portal's credential learns nothing about An's token."""
    res = call(
        "applicant",
        an_tay_ho.id_number,
        client=portal.subsystem.identifier,
        token="xk_nope_nope",
        end_user=f"citizen:{an_tay_ho.id_number}",
        extra={"X-End-User-Token": ans_token},
    )
    assert (res.status, res.rule) == (401, "bad_credentials")


def test_a_portal_registered_below_the_required_assurance_is_refused(
    for_citizen: Callable[..., Call],
    portal: Portal,
    account: Callable[[Any], Any],
    an_tay_ho: Any,
    settings: Any,
) -> None:
    """With ``DANCU_EXCHANGE_END_USER_MIN_ACR`` at level 2, a token of a relying party registered
    for any log-in is refused; one registered for level 2 is accepted."""
    from dancu.blocks.eid.assurance import ACR_L2
    from dancu.blocks.sso.models import RelyingParty

    settings.DANCU_EXCHANGE_END_USER_MIN_ACR = ACR_L2
    user = account(an_tay_ho)
    res = for_citizen(an_tay_ho, issue(user, portal.application))
    assert (res.status, res.rule) == (403, "end_user_token_acr")

    RelyingParty.objects.filter(application=portal.application).update(min_acr=ACR_L2)
    res = for_citizen(an_tay_ho, issue(user, portal.application), request_id="dvc-2")
    assert res.status == 200, res.json


def test_officials_named_in_free_text_are_served_as_before(
    as_portal: Callable[..., Call], an_tay_ho: Any
) -> None:
    """An official's name needs no token — and opens no citizen's own-data service."""
    res = as_portal("citizen", an_tay_ho.id_number, end_user="canbo.nguyenthimai")
    assert res.status == 200
    res = as_portal("applicant", an_tay_ho.id_number, end_user="canbo.nguyenthimai", request_id="dvc-2")
    assert (res.status, res.rule) == (403, "not_the_end_user")


def test_over_http_the_end_user_is_never_taken_as_verified(
    as_portal: Callable[..., Call], an_tay_ho: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the platform's own code passes a ``VerifiedEndUser`` (in-process); the HTTP view builds
    every request without one, whatever headers are sent."""
    seen: list[gateway.ExchangeRequest] = []
    real = gateway.handle

    def spy(req: gateway.ExchangeRequest, **kw: Any) -> gateway.ExchangeResponse:
        seen.append(req)
        return real(req, **kw)

    monkeypatch.setattr(gateway, "handle", spy)
    res = as_portal("applicant", an_tay_ho.id_number, end_user=f"citizen:{an_tay_ho.id_number}")
    assert (res.status, res.rule) == (403, "end_user_token_missing")
    assert len(seen) == 1 and seen[0].verified_end_user is None


# --------------------------------------------------------------------------- both paths
@pytest.mark.django_db(transaction=True)
def test_the_fast_path_and_the_orm_path_verify_the_token_alike(
    portal: Portal,
    ans_token: str,
    an_tay_ho: Any,
    binh_hoan_kiem: Any,
    settings: Any,
    groups: list[int],
    world: World,
) -> None:
    """The registry's ``citizen`` look-up (served by the fast path on PostgreSQL) for An with An's
    token is answered, with Bình's number in X-End-User refused, without a token refused — through
    either path, with the same statuses, rules and records."""
    cases = [
        (an_tay_ho.id_number, f"citizen:{an_tay_ho.id_number}", ans_token, 200, ""),
        (
            binh_hoan_kiem.id_number,
            f"citizen:{binh_hoan_kiem.id_number}",
            ans_token,
            403,
            "end_user_token_mismatch",
        ),
        (an_tay_ho.id_number, f"citizen:{an_tay_ho.id_number}", None, 403, "end_user_token_missing"),
    ]
    outcomes: dict[int, list[tuple[Any, ...]]] = {}
    for lanes in (0, 2):
        with fast_lanes(settings, lanes):
            for n, (number, end_user, tok, status, rule) in enumerate(cases):
                headers = {
                    "information-mediator-client": portal.subsystem.identifier,
                    "authorization": f"Bearer {portal.credential}",
                    "x-request-id": f"p{lanes}-{n}",
                    "x-purpose": "public_service.processing",
                    "x-end-user": end_user,
                    "x-case-reference": "DVC card-reissue",
                }
                if tok is not None:
                    headers["x-end-user-token"] = tok
                res = gateway.handle(
                    gateway.ExchangeRequest(world.service_id("citizen"), number, "GET", "", b"", headers)
                )
                msg = Message.objects.get(request_id=f"p{lanes}-{n}")
                assert (res.status, msg.rule) == (status, rule), res.body
                outcomes.setdefault(lanes, []).append(
                    (res.status, msg.rule, msg.end_user, msg.outcome, res.body)
                )
    assert outcomes[0] == outcomes[2]
    assert groups == ([1] if connection.vendor == "postgresql" else [])  # An's answer took a lane on PG
