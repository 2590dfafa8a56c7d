"""The registry's ``applicant`` service (issue 7 item 2: prefill through the gateway): a member system
acting for a citizen gets *that citizen's own* record — the fields a form is prefilled with and the
cards held — wherever the citizen lives, and nobody else's.

Actors: BHXH Hà Nội's intake system (a department with Hà Nội's jurisdiction; its administrator
``bhxh_admin`` requested the grant, the registry's owner ``police_admin`` approved it), acting for
Lê Văn Cường, a citizen registered in Hồ Chí Minh City, or for Nguyễn Văn An of Tây Hồ — each
signed in to BHXH's portal, whose access token the system presents (``X-End-User-Token``; the
token's own rules: ``test_end_user_token.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange.models import Message
from dancu.blocks.exchange.providers import APPLICANT_FIELDS
from tests.blocks.exchange.conftest import Call, World

pytestmark = pytest.mark.usefixtures("adminunits")

PREFILL = {"public_service.processing": list(APPLICANT_FIELDS)}


@pytest.fixture(autouse=True)
def bhxh_is_a_citizen_portal(world: World, settings: Any) -> None:
    """Here BHXH's intake system plays a citizen portal: the only kind of client the applicant
    service serves (``DANCU_EXCHANGE_SELF_SERVICE_CLIENTS``)."""
    settings.DANCU_EXCHANGE_SELF_SERVICE_CLIENTS = [world.bhxh.identifier]


def test_the_citizen_the_system_acts_for_gets_their_own_record_wherever_they_live(
    grant: Callable[..., Any], call: Callable[..., Call], cuong_hcm: Any, citizen_token: Callable[..., str]
) -> None:
    grant(service="applicant", purposes=PREFILL)
    res = call(
        "applicant",
        cuong_hcm.id_number,
        end_user=f"citizen:{cuong_hcm.id_number}",
        extra={"X-End-User-Token": citizen_token(cuong_hcm)},
    )

    assert res.status == 200, res.json
    data = res.json["data"]
    assert data["id_number"] == cuong_hcm.id_number and data["full_name"] == cuong_hcm.full_name
    assert data["permanent_address"]["province_code"] == "79"  # outside Hà Nội: jurisdiction does not apply
    assert "religion" not in data and "religion" not in res.json["fields"]  # not in the catalogue's set
    assert isinstance(data["cards"], list)
    msg = Message.objects.get()
    assert (msg.status, msg.end_user) == (200, f"citizen:{cuong_hcm.id_number}")
    assert AuditEvent.objects.filter(
        subject_citizen_id=cuong_hcm.citizen_id, action="registry.read", result="ok"
    ).exists()


def test_another_persons_record_is_refused_and_not_read(
    grant: Callable[..., Any],
    call: Callable[..., Call],
    cuong_hcm: Any,
    an_tay_ho: Any,
    citizen_token: Callable[..., str],
) -> None:
    """An, verified by his own token, asks for Cường's record; an official; a bare number."""
    grant(service="applicant", purposes=PREFILL)
    ans = {"X-End-User-Token": citizen_token(an_tay_ho)}
    for end_user in (f"citizen:{an_tay_ho.id_number}", "canbo.nguyenthimai", cuong_hcm.id_number):
        res = call(
            "applicant",
            cuong_hcm.id_number,
            end_user=end_user,
            request_id=f"r-{end_user[-6:]}",
            extra=ans if end_user.startswith("citizen:") else None,
        )
        assert (res.status, res.rule) == (403, "not_the_end_user")
        assert res.json["detail"][0]["field"] == "X-End-User"
        assert "data" not in res.json
    assert not AuditEvent.objects.filter(
        subject_citizen_id=cuong_hcm.citizen_id, action="registry.read"
    ).exists()
    assert Message.objects.filter(rule="not_the_end_user").count() == 3  # each refusal logged


def test_a_grant_for_the_citizen_service_does_not_open_the_applicant_service(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant()  # ``citizen`` only
    res = call("applicant", an_tay_ho.id_number, end_user=f"citizen:{an_tay_ho.id_number}")
    assert res.status == 403 and res.rule != "not_the_end_user"
    assert not AuditEvent.objects.filter(
        subject_citizen_id=an_tay_ho.citizen_id, action="registry.read"
    ).exists()


def test_an_unknown_number_is_a_404(
    grant: Callable[..., Any], call: Callable[..., Call], citizen_token: Callable[..., str]
) -> None:
    """An account still linked to a number the registry does not hold (verified, then not found)."""
    grant(service="applicant", purposes=PREFILL)
    res = call(
        "applicant",
        "001085999999",
        end_user="citizen:001085999999",
        extra={"X-End-User-Token": citizen_token("001085999999")},
    )
    assert (res.status, res.rule) == (404, "not_found")


def test_a_system_that_is_not_a_citizen_portal_may_neither_hold_nor_use_a_grant_on_it(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any, settings: Any
) -> None:
    from dancu.errors import DomainValidationError

    grant(service="applicant", purposes=PREFILL)  # while BHXH was listed
    settings.DANCU_EXCHANGE_SELF_SERVICE_CLIENTS = ["VN-HN/GOV/TTPVHCC-HN/CONG-DVC"]
    res = call("applicant", an_tay_ho.id_number, end_user=f"citizen:{an_tay_ho.id_number}")
    assert (res.status, res.rule) == (403, "self_service_client")
    assert not AuditEvent.objects.filter(
        subject_citizen_id=an_tay_ho.citizen_id, action="registry.read"
    ).exists()
    with pytest.raises(DomainValidationError) as refused:
        grant(service="applicant", purposes=PREFILL)
    assert refused.value.problems[0].rule == "self_service_client"
