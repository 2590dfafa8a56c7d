"""The gateway (issue 5 item 3): BHXH Hà Nội's system asks the registry, through the exchange, for
a citizen by ID number; the answer is filtered to the fields its grant gives the purpose, signed,
bound to the request and logged with the registry's own audit event — and every refusal names its
rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.exchange import crypto
from dancu.blocks.exchange.models import Message, MessageSubject
from tests.blocks.exchange.conftest import Call, World
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("adminunits")


def test_bhxh_gets_only_its_granted_fields_signed_and_logged(
    world: World, grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant()

    res = call("citizen", an_tay_ho.id_number)

    assert res.status == 200, res.json
    assert res.json["data"] == {
        "id_number": an_tay_ho.id_number,
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1985-03-02",
        "life_status": "alive",
    }
    assert "religion" in res.json["fields_withheld"]
    msg = Message.objects.get()
    assert (msg.outcome, msg.status, msg.purpose, msg.end_user) == (
        "ok",
        200,
        "public_service.processing",
        "canbo.nguyenthimai",
    )
    assert msg.fields == ["date_of_birth", "full_name", "id_number", "life_status"]
    # The response is bound to the request and signed by the provider's key; the request by the client's.
    assert msg.response["request_hash"] == msg.request_hash == res.response["X-Exchange-Request-Hash"]
    assert crypto.verify(
        world.registry.public_key, res.response["X-Exchange-Signature"], crypto.canonical(msg.response)
    )
    assert crypto.verify(world.bhxh.public_key, msg.request_signature, crypto.canonical(msg.request))
    assert list(MessageSubject.objects.values_list("citizen_id", flat=True)) == [an_tay_ho.citizen_id]


def test_the_registry_records_its_own_audit_event_for_the_official_of_the_client_member(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant()
    call("citizen", an_tay_ho.id_number)

    event = AuditEvent.objects.get(subject_citizen_id=an_tay_ho.citizen_id, action="registry.read")
    assert event.organisation_name == "Bảo hiểm xã hội thành phố Hà Nội"
    assert event.actor_label.startswith("canbo.nguyenthimai · VN-HN/GOV/BHXH-HN/TIEPNHAN")
    assert (event.purpose, event.case_reference, event.result) == (
        "public_service.processing",
        "HS-BHXH-2026-0042",
        "ok",
    )
    assert events_for_citizen(an_tay_ho.citizen_id)[0].organisation == "Bảo hiểm xã hội thành phố Hà Nội"


def test_social_insurance_gets_less_than_the_police_and_a_grant_never_exceeds_the_catalogue(
    world: World, grant: Callable[..., Any]
) -> None:
    assert "religion" not in world.services["citizen"].fields_by_purpose["public_service.processing"]
    assert "religion" in world.services["citizen"].fields_by_purpose["registry.lookup"]
    from dancu.errors import DomainValidationError

    with pytest.raises(DomainValidationError) as err:
        grant(purposes={"public_service.processing": ["id_number", "religion"]})
    assert err.value.problems[0].rule == "field_not_served"
    with pytest.raises(DomainValidationError) as err:  # a department may not use registry.lookup
        grant(purposes={"registry.lookup": ["id_number"]})
    assert err.value.problems[0].rule == "purpose_not_allowed"


def test_household_residence_life_status_and_verify_identity(
    world: World, grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant(
        service="household",
        purposes={"public_service.processing": ["id_number", "full_name", "relationship_to_head"]},
    )
    grant(service="residence", purposes={"public_service.processing": ["id_number", "permanent_address"]})
    grant(service="life-status", purposes={"public_service.processing": ["life_status", "date_of_death"]})
    grant(service="verify-identity", purposes={"identity.verification": ["match"]})

    hh = call("household", an_tay_ho.id_number, request_id="r-hh")
    assert hh.status == 200, hh.json
    assert hh.json["data"]["items"] == [
        {"id_number": an_tay_ho.id_number, "full_name": "Nguyễn Văn An", "relationship_to_head": "head"}
    ]
    res = call("residence", an_tay_ho.id_number, request_id="r-res")
    assert res.status == 200 and set(res.json["data"]) == {"id_number", "permanent_address"}
    life = call("life-status", an_tay_ho.id_number, request_id="r-life")
    assert life.json["data"] == {"life_status": "alive", "date_of_death": None}
    ok = call(
        "verify-identity",
        an_tay_ho.id_number,
        request_id="r-ver",
        purpose="identity.verification",
        method="POST",
        body={"full_name": "Nguyen Van An", "date_of_birth": "1985-03-02"},
    )
    assert ok.status == 200, ok.json
    assert ok.json["data"] == {"match": True}
    no = call(
        "verify-identity",
        an_tay_ho.id_number,
        request_id="r-ver2",
        purpose="identity.verification",
        method="POST",
        body={"full_name": "Trần Văn Khác", "date_of_birth": "1985-03-02"},
    )
    assert no.json["data"] == {"match": False}


def test_idempotent_on_request_id_and_a_different_body_is_a_conflict(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any, binh_hoan_kiem: Any
) -> None:
    grant()
    first = call("citizen", an_tay_ho.id_number, request_id="same-id")
    again = call("citizen", an_tay_ho.id_number, request_id="same-id")

    assert again.status == 200 and again.json == first.json
    assert again.response["X-Exchange-Replayed"] == "true"
    assert again.response["X-Exchange-Message-Id"] == first.response["X-Exchange-Message-Id"]
    assert AuditEvent.objects.filter(action="registry.read").count() == 1  # not asked twice

    other = call("citizen", binh_hoan_kiem.id_number, request_id="same-id")
    assert other.status == 409
    assert other.rule == "request_id_reused"
    assert Message.objects.filter(outcome="ok").count() == 1


@pytest.mark.parametrize(
    ("kwargs", "status", "rule"),
    [
        ({"client": "VN-HN/GOV/NOBODY/SYS"}, 401, "unknown_client"),
        ({"token": "xk_00000000_" + "A" * 43}, 401, "bad_credentials"),
        ({"token": "not-a-token"}, 401, "bad_credentials"),
        ({"client": "not an id"}, 400, "client_id_format"),
        ({"purpose": None}, 400, "header_missing"),
        ({"purpose": "no.such.purpose"}, 400, "unknown_purpose"),
        ({"purpose": "data.cleaning"}, 403, "purpose_not_granted"),
        ({"request_id": "bad id with spaces"}, 400, "request_id_format"),
        ({"query": "fields=religion"}, 403, "field_not_granted"),
        ({"service_id": "VN-HN/GOV/CA-HN/DANCU-REGISTRY/nothing"}, 404, "unknown_service"),
    ],
)
def test_refusals_name_the_rule_and_are_logged_without_touching_the_registry(
    grant: Callable[..., Any],
    call: Callable[..., Call],
    an_tay_ho: Any,
    kwargs: dict[str, Any],
    status: int,
    rule: str,
) -> None:
    grant()
    res = call("citizen", an_tay_ho.id_number, **kwargs)

    assert (res.status, res.rule) == (status, rule), res.json
    msg = Message.objects.get()
    assert (msg.outcome, msg.rule, msg.status) == ("refused", rule, status)
    assert not AuditEvent.objects.filter(action="registry.read").exists()
    assert not MessageSubject.objects.exists()


def test_the_other_members_credential_does_not_open_this_client(
    world: World, grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant()
    assert call("citizen", an_tay_ho.id_number, token=world.labour_token).rule == "bad_credentials"


def test_grant_lifecycle_no_grant_requested_revoked_expired(
    world: World,
    grant: Callable[..., Any],
    call: Callable[..., Call],
    an_tay_ho: Any,
    police_admin: Person,
    labour_admin: Person,
) -> None:
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.exchange.models import Grant

    assert call("citizen", an_tay_ho.id_number, request_id="a").rule == "no_grant"
    pending = grant(approve=False)
    assert call("citizen", an_tay_ho.id_number, request_id="b").rule == "grant_not_approved"
    ex.approve_grant(police_admin.actor, pending.pk)
    assert call("citizen", an_tay_ho.id_number, request_id="c").status == 200
    ex.revoke_grant(police_admin.actor, pending.pk)
    assert call("citizen", an_tay_ho.id_number, request_id="d").rule == "grant_revoked"
    g2 = grant()
    Grant.objects.filter(pk=g2.pk).update(valid_until=g2.valid_from)
    assert call("citizen", an_tay_ho.id_number, request_id="e").rule == "grant_expired"


def test_only_the_providers_administrator_approves(
    grant: Callable[..., Any], labour_admin: Person, bhxh_admin: Person
) -> None:
    from dancu.blocks.exchange import services as ex
    from dancu.errors import AccessDenied

    pending = grant(approve=False)
    for who in (bhxh_admin, labour_admin):
        with pytest.raises(AccessDenied) as err:
            ex.approve_grant(who.actor, pending.pk)
        assert err.value.rule == "provider_administrator"


def test_a_citizen_outside_the_members_jurisdiction_is_refused_by_the_registry_and_both_are_recorded(
    grant: Callable[..., Any], call: Callable[..., Call], cuong_hcm: Any
) -> None:
    grant()
    res = call("citizen", cuong_hcm.id_number)

    assert (res.status, res.rule) == (403, "jurisdiction")
    msg = Message.objects.get()
    assert (msg.outcome, msg.rule) == ("provider_error", "jurisdiction")
    assert AuditEvent.objects.filter(
        subject_citizen_id=cuong_hcm.citizen_id, action="registry.read", result="denied"
    ).exists()


def test_unknown_number_is_a_404_from_the_provider(
    grant: Callable[..., Any], call: Callable[..., Call]
) -> None:
    grant()
    res = call("citizen", "001085999999")
    assert (res.status, res.rule) == (404, "not_found")


def test_oversized_and_non_json_bodies_are_refused(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant()
    big = call(
        "citizen", an_tay_ho.id_number, method="POST", body=json.dumps({"x": "a" * 70_000}), request_id="big"
    )
    assert (big.status, big.rule) == (413, "too_large")
    huge = call("citizen", an_tay_ho.id_number, method="POST", body="x" * 3_000_000, request_id="huge")
    assert (huge.status, huge.rule) == (413, "too_large")  # past Django's own limit: refused unread
    bad = call("citizen", an_tay_ho.id_number, method="POST", body="[1, 2", request_id="bad")
    assert (bad.status, bad.rule) == (400, "json")
    # Nested past the decoder's recursion limit: a 400 naming the body and the rule, not a 500.
    deep = call("citizen", an_tay_ho.id_number, method="POST", body="[" * 50_000, request_id="deep")
    assert (deep.status, deep.rule) == (400, "depth")


def test_a_provider_crash_leaves_nothing_half_written(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dancu.blocks.exchange import providers

    grant()

    def crash(ctx: Any, params: Any, path: str) -> Any:
        from dancu.blocks.audit import services as audit

        audit.record(ctx, "registry.read", subject_citizen_id=an_tay_ho.citizen_id)
        raise RuntimeError("provider exploded")

    monkeypatch.setitem(providers.HANDLERS, "registry.citizen", crash)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError, match="provider exploded"):
        call("citizen", an_tay_ho.id_number)  # the test client re-raises the server's exception

    assert not Message.objects.filter(outcome="ok").exists()
    assert AuditEvent.objects.count() == before  # the provider's event went with the transaction
    assert not MessageSubject.objects.exists()


def test_two_concurrent_calls_with_one_request_id_give_one_answer(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second call passed the idempotency check before the first was stored (a race): the
    unique index refuses its insert, its registry read is rolled back, and it answers with the
    stored message."""
    from dancu.blocks.exchange import gateway

    grant()
    first = call("citizen", an_tay_ho.id_number, request_id="raced")
    real = gateway._stored
    calls = {"n": 0}

    def blind_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(*args, **kwargs)

    monkeypatch.setattr(gateway, "_stored", blind_once)
    second = call("citizen", an_tay_ho.id_number, request_id="raced")

    assert second.status == 200
    assert second.response["X-Exchange-Message-Id"] == first.response["X-Exchange-Message-Id"]
    assert Message.objects.filter(request_id="raced").count() == 1
    assert AuditEvent.objects.filter(action="registry.read").count() == 1


def test_a_refusal_keeps_what_the_unknown_client_sent_as_evidence(
    call: Callable[..., Call], world: World
) -> None:
    res = call("citizen", "001085012345", client="VN-HN/GOV/NOBODY/SYS", request_id="who-is-this")
    assert res.rule == "unknown_client"
    msg = Message.objects.get()
    assert (msg.client_id, msg.request_id, msg.end_user) == (
        "VN-HN/GOV/NOBODY/SYS",
        "who-is-this",
        "canbo.nguyenthimai",
    )
    bad = call("citizen", "001085012345", client="bad\x00client", request_id="r2")
    assert bad.rule == "client_id_format"
    assert Message.objects.get(request_id="r2").client_id == "badclient"  # control characters dropped


def test_a_control_character_in_the_path_is_refused_and_the_refusal_is_stored(
    grant: Callable[..., Any], call: Callable[..., Call]
) -> None:
    grant()
    res = call("citizen", "%00001085012345")  # decoded to a NUL by Django, which PostgreSQL won't store
    assert (res.status, res.rule) == (400, "control_character")
    assert Message.objects.get().request["path"] == "001085012345"


def test_an_inactive_client_organisation_or_provider_is_refused(
    world: World, grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    from dancu.blocks.exchange.models import Member
    from dancu.blocks.organisations.models import Organisation

    grant()
    Organisation.objects.filter(code="BHXH-HN").update(active=False)
    assert call("citizen", an_tay_ho.id_number, request_id="a").rule == "client_inactive"
    Organisation.objects.filter(code="BHXH-HN").update(active=True)
    Member.objects.filter(member_code="CA-HN").update(active=False)
    assert call("citizen", an_tay_ho.id_number, request_id="b").rule == "unknown_service"
