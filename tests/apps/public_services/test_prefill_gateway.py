"""Prefill through the data-exchange gateway (issue 7 item 2, ADR 0016): the portal is a member
system of the gateway; opening a form reads the citizen's own record through the registry's
``applicant`` service — signed and logged with the form as case reference, recorded on the
citizen's history — and when the gateway cannot serve it (not connected, credential revoked, grant
revoked, the registry down, a garbled answer) the citizen sees the "registry unavailable" page and
keeps what they typed as a draft; nothing is stored and no personal data reaches the log.

Actors: Nguyễn Văn An (``an``), a citizen with a level-1 eID account; the portal's administrator
(``quantri.dvc``, created by ``connect_portal``), who revokes the portal's own credential; the
platform operator, who revokes the portal's grant.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.apps.gateway_client import client as gateway_client
from dancu.apps.gateway_client.models import ExchangeConnection
from dancu.apps.public_services import registry_link, services
from dancu.apps.public_services.models import Dossier, Draft
from dancu.blocks.audit.context import Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Grant, Message
from dancu.blocks.organisations.services import actor_for
from dancu.errors import NotFound
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS

pytestmark = pytest.mark.django_db
FORM = "/dich-vu-cong/nop/temporary-absence/"
AN_ID = "001085012345"
TYPED = {
    "idempotency_key": "g" * 24,
    "reason": "Đi công tác xa",
    "destination": "",
    "absent_from": "",
    "absent_until": "",
}


def _portal_subsystem() -> Any:
    conn = ExchangeConnection.objects.get(system=registry_link.SYSTEM)
    return ex.find_subsystem(conn.client_identifier)


def test_opening_a_form_reads_the_citizens_own_record_through_the_gateway(
    an: int, citizen_client: Callable[..., Client]
) -> None:
    before = Message.objects.count()
    page = citizen_client(an).get(FORM)

    assert page.status_code == 200 and "Nguyễn Văn An" in page.content.decode()
    msg = Message.objects.order_by("pk").last()
    assert Message.objects.count() == before + 1 and msg is not None
    assert msg.service_id.endswith("/CA-HN/DANCU-REGISTRY/applicant")
    assert (msg.status, msg.purpose, msg.end_user) == (200, "public_service.processing", f"citizen:{AN_ID}")
    assert msg.case_reference == "DVC temporary-absence"
    assert msg.request_signature and msg.response_signature and msg.response_hash
    event = AuditEvent.objects.filter(action="registry.read", case_reference="DVC temporary-absence").last()
    assert event is not None and event.subject_citizen_id == msg.subjects[0]


def test_without_a_gateway_connection_the_form_says_the_registry_is_unavailable_and_keeps_a_draft(
    an: int, citizen_client: Callable[..., Client]
) -> None:
    ExchangeConnection.objects.filter(system=registry_link.SYSTEM).delete()
    client = citizen_client(an)

    assert client.get(FORM).status_code == 503
    response = client.post(FORM, TYPED)
    assert response.status_code == 503 and b'data-testid="draft-saved"' in response.content
    assert not Dossier.objects.exists()
    assert Draft.objects.get(user_id=an).values["reason"] == "Đi công tác xa"


def test_a_revoked_portal_credential_is_refused_by_the_gateway_and_logged_without_personal_data(
    an: int, citizen_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    admin = get_user_model().objects.get(username="quantri.dvc")
    sub = _portal_subsystem()
    ex.revoke_credential(actor_for(admin, sub.member.organisation_id), sub)
    caplog.set_level(logging.WARNING, logger="dancu.apps.public_services.registry_link")

    response = citizen_client(an).get(FORM)

    assert response.status_code == 503 and 'data-testid="unavailable"' in response.content.decode()
    assert "credentials_revoked" in caplog.text
    assert AN_ID not in caplog.text and "Nguyễn" not in caplog.text
    assert not AuditEvent.objects.filter(
        action="registry.read", case_reference="DVC temporary-absence"
    ).exists()


def test_a_revoked_grant_closes_the_prefill(an: int, citizen_client: Callable[..., Client]) -> None:
    grant = Grant.objects.get(
        client=_portal_subsystem(), service__code=registry_link.SERVICE, status=Grant.Status.APPROVED
    )
    ex.revoke_grant(Actor.system("test: the platform operator"), grant.pk)
    with pytest.raises(registry_link.RegistryUnavailable) as err:
        registry_link.read_own_record(AN_ID, "DVC temporary-absence")
    assert err.value.status == 403
    assert citizen_client(an).get(FORM).status_code == 503


def test_a_registry_that_fails_behind_the_gateway_keeps_the_typed_data_as_a_draft(
    an: int, citizen_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dancu.blocks.exchange import providers

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(providers.registry, "get_by_id_number", down)
    response = citizen_client(an).post(FORM, TYPED)

    assert response.status_code == 503 and b'data-testid="draft-saved"' in response.content
    assert not Dossier.objects.exists() and Draft.objects.filter(user_id=an).exists()


def test_an_unknown_person_is_not_found_not_unavailable(an: int) -> None:
    with pytest.raises(NotFound):
        registry_link.read_own_record("001085999999", "DVC temporary-absence")


def test_a_submission_carries_its_tracking_code_to_the_exchange_log(an: int) -> None:
    dossier, created = services.submit(
        an,
        "temporary-absence",
        {
            "absent_from": (date.today() + timedelta(days=3)).strftime("%d/%m/%Y"),
            "absent_until": (date.today() + timedelta(days=40)).strftime("%d/%m/%Y"),
            "destination": HOAN_KIEM_ADDRESS,
            "reason": "Đi công tác xa",
        },
        idempotency_key="k" * 24,
    )
    assert created
    msg = Message.objects.get(case_reference=dossier.tracking_code)
    assert msg.status == 200 and msg.end_user == f"citizen:{AN_ID}"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(("id_number", "full_name", "date_of_birth", "permanent_address", "cards", "origin"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(("data", "detail", "x")), JSON | st.dictionaries(FIELDS, JSON)))
def test_any_answer_of_the_gateway_is_a_view_or_a_clear_refusal(
    body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fuzz: whatever the gateway returns, the portal gets a ``CitizenView`` or
    ``RegistryUnavailable`` / ``NotFound`` — never another exception (a 500)."""
    monkeypatch.setattr(registry_link, "portal_organisation_id", lambda: 1)
    for status in (200, 404, 403, 502):
        reply = gateway_client.Reply(status, body, 1)
        monkeypatch.setattr(gateway_client, "call", lambda *a, reply=reply, **k: reply)
        try:
            view = registry_link.read_own_record(AN_ID, "DVC fuzz")
        except (registry_link.RegistryUnavailable, NotFound):
            continue
        assert status == 200 and isinstance(view.full_name, str)


def test_the_connect_command_stores_a_connection_from_the_environment(
    an: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = ExchangeConnection.objects.get(system=registry_link.SYSTEM)
    sub = _portal_subsystem()
    token = ex.issue_credential(Actor.system("test: the operator"), sub).token
    monkeypatch.setenv("PORTAL_CREDENTIAL", token)
    out = StringIO()
    args = ["gateway_client", "connect", "--organisation", "TTPVHCC-HN", "--system", "public_services"]
    call_command(
        *args,
        "--client-id", conn.client_identifier,
        "--provider", conn.provider_identifier,
        "--credential-env", "PORTAL_CREDENTIAL",
        stdout=out,
    )  # fmt: skip
    assert token not in out.getvalue()
    assert gateway_client.unwrap(ExchangeConnection.objects.get(system=registry_link.SYSTEM)) == token
    assert registry_link.read_own_record(AN_ID, "DVC temporary-absence").id_number == AN_ID

    monkeypatch.setenv("NOT_A_CREDENTIAL", "secret")
    bad = {
        "--organisation": ("NO-SUCH-ORG", "--organisation"),
        "--client-id": ("VN-HN/GOV", "--client-id"),
        "--credential-env": ("NOT_A_CREDENTIAL", "--credential-env"),
    }
    for flag, (value, named) in bad.items():
        given_args = {
            "--organisation": "TTPVHCC-HN",
            "--client-id": conn.client_identifier,
            "--credential-env": "PORTAL_CREDENTIAL",
            flag: value,
        }
        with pytest.raises(CommandError, match=named):
            call_command(
                *args[:2],
                *[x for kv in given_args.items() for x in kv],
                "--system", "public_services", "--provider", conn.provider_identifier,
            )  # fmt: skip
    assert os.environ["NOT_A_CREDENTIAL"] not in str(
        ExchangeConnection.objects.values_list("credential_wrapped")
    )


# --------------------------------------------------------------------------- other agencies' registers
def test_a_traffic_fine_is_read_from_the_police_register_through_the_gateway(an: int) -> None:
    """The traffic-fine decision the citizen pays is read from the police's register through the
    gateway (``sector_registers``), signed and logged with the dossier's tracking code."""
    from tests.apps.public_services.test_more_services import fine, submit

    fine()
    dossier = submit(an, "traffic-fine", {"decision_number": "QD-123/2026"})

    assert dossier.items["plate"] == {"value": "30A-123.45", "source": "sector"}
    reads = Message.objects.filter(service_id__endswith="/GOV/CA-HN/XLVPHC/traffic-fines").order_by("pk")
    assert reads.count() == 2  # the rule's check, the items it stores
    assert all(m.status == 200 and m.end_user == f"citizen:{AN_ID}" for m in reads)
    assert reads.last().response_signature  # type: ignore[union-attr]


def test_another_persons_decision_is_not_found_in_the_register_like_a_missing_one(an: int) -> None:
    from dancu.apps.public_services import sector_registers
    from tests.apps.public_services.test_more_services import fine
    from tests.blocks.eid.conftest import MAI_ID

    fine(number="QD-999/2026", id_number=MAI_ID)
    assert sector_registers.fetch("traffic-fines", "QD-999/2026", AN_ID, "DVC traffic-fine") is None
    assert sector_registers.fetch("traffic-fines", "QD-000/2026", AN_ID, "DVC traffic-fine") is None
    answers = Message.objects.filter(service_id__endswith="/traffic-fines").values_list("status", "rule")
    assert list(answers) == [(404, "not_found"), (404, "not_found")]  # the same answer, nothing revealed
    assert "30A" not in str(Message.objects.filter(service_id__endswith="/traffic-fines").values("response"))


def test_a_register_that_refuses_the_portal_keeps_the_typed_data_as_a_draft(
    an: int, citizen_client: Callable[..., Client]
) -> None:
    from tests.apps.public_services.test_more_services import fine

    fine()
    grant = Grant.objects.get(
        client=_portal_subsystem(), service__code="traffic-fines", status=Grant.Status.APPROVED
    )
    ex.revoke_grant(Actor.system("test: the platform operator"), grant.pk)
    client = citizen_client(an)
    form = "/dich-vu-cong/nop/traffic-fine/"
    page = client.get(form).content.decode()
    key = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]

    response = client.post(form, {"idempotency_key": key, "decision_number": "QD-123/2026"})

    assert response.status_code == 503 and b'data-testid="draft-saved"' in response.content
    assert not Dossier.objects.exists()
    assert (
        Draft.objects.get(user_id=an, service_code="traffic-fine").values["decision_number"] == "QD-123/2026"
    )


def test_the_unemployment_months_come_from_bhxh_for_the_end_user_only(an: int) -> None:
    from dancu.apps.public_services import sector_registers

    assert sector_registers.fetch("unemployment-insurance", f"{AN_ID}/2026-11-30", AN_ID, "DVC x") == {
        "id_number": AN_ID,
        "until": "2026-11-30",
        "months_paid": 0,
    }
    ctx = type("Ctx", (), {"actor": Actor(user_id=None, label="x", end_user="citizen:001190099001")})()
    with pytest.raises(NotFound):
        sector_registers.unemployment_insurance(ctx, {}, f"{AN_ID}/2026-11-30")
    with pytest.raises(NotFound):
        sector_registers.driving_licence(ctx, {}, "010190099001")
    # An's own number in the end-user header is the client's word alone (no ``VerifiedEndUser``,
    # ADR 0010 §22): it opens nothing either.
    bare = type("Ctx", (), {"actor": Actor(user_id=None, label="x", end_user=f"citizen:{AN_ID}")})()
    with pytest.raises(NotFound):
        sector_registers.unemployment_insurance(bare, {}, f"{AN_ID}/2026-11-30")


def test_the_registers_are_refused_to_any_system_but_a_citizen_portal(an: int) -> None:
    """The registers answer on the end-user header, which the client writes itself: another
    member's system (here one of the police's own) may neither be granted them nor use a grant."""
    from dancu.apps.public_services import sector_registers
    from dancu.blocks.exchange.models import Member, Service
    from dancu.errors import DomainValidationError

    operator = Actor.system("test: the platform operator")
    police = Member.objects.get(member_code="CA-HN")
    other = ex.create_subsystem(operator, police, code="TRA-CUU", name="Hệ thống tra cứu")
    identifiers = sector_registers.publish()
    for code, identifier in identifiers.items():
        service = Service.objects.get(subsystem__member__member_code=identifier.split("/")[2], code=code)
        with pytest.raises(DomainValidationError) as refused:
            ex.request_grant(
                operator,
                client=other,
                service=service,
                purposes={registry_link.PURPOSE: ["id_number"]},
                legal_basis="thử",
                valid_from=timezone.now(),
                valid_until=timezone.now() + timedelta(days=1),
            )
        assert refused.value.problems[0].rule == "self_service_client"
