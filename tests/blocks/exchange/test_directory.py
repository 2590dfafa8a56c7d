"""The GovStack Information Mediator directory (bb-information-mediator,
``api/GovStack_IM_Directory_Services_API.yaml``): ``listClients``, and per provider
``listMethods``, ``allowedMethods`` (only what the caller holds a grant for) and ``getOpenAPI``,
with the caller named by ``Information-Mediator-Client``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.blocks.exchange.conftest import World


def _meta(
    world: World, op: str, *, caller: str | None = None, token: str | None = None, query: str = ""
) -> Any:
    headers = {}
    if caller is not None:
        headers["Information-Mediator-Client"] = caller
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Client().get(f"/exchange/r1/{world.registry.identifier}/{op}{query}", headers=headers)


def test_list_clients_names_members_and_subsystems(world: World) -> None:
    body = Client().get("/exchange/listClients").json()
    ids = [
        (c["id"]["objectType"], c["id"]["memberCode"], c["id"].get("subsystemCode")) for c in body["member"]
    ]
    assert ("MEMBER", "BHXH-HN", None) in ids
    assert ("SUBSYSTEM", "CA-HN", "DANCU-REGISTRY") in ids
    assert Client().get("/exchange/r1/listClients").json() == body
    assert Client().get("/exchange/listClients?instanceId=EE").json() == {"member": []}


def test_list_methods_lists_the_registry_services(world: World) -> None:
    body = _meta(world, "listMethods", caller=world.bhxh.identifier).json()
    assert sorted(s["serviceCode"] for s in body["member"]) == [
        "applicant",
        "citizen",
        "household",
        "life-status",
        "residence",
        "verify-identity",
    ]
    one = body["member"][0]
    assert one["objectType"] == "SERVICE" and one["memberClass"] == "GOV" and one["serviceType"] == "REST"
    assert _meta(world, "listMethods").status_code == 400


def test_allowed_methods_lists_only_granted_services_and_needs_credentials(
    world: World, grant: Callable[..., Any]
) -> None:
    assert _meta(world, "allowedMethods", caller=world.bhxh.identifier, token=world.bhxh_token).json() == {
        "member": []
    }
    grant(service="life-status", purposes={"public_service.processing": ["life_status"]})
    body = _meta(world, "allowedMethods", caller=world.bhxh.identifier, token=world.bhxh_token).json()
    assert [s["serviceCode"] for s in body["member"]] == ["life-status"]
    assert _meta(
        world, "allowedMethods", caller=world.labour.identifier, token=world.labour_token
    ).json() == {"member": []}
    assert (
        _meta(world, "allowedMethods", caller=world.bhxh.identifier, token=world.labour_token).status_code
        == 401
    )


def test_get_openapi_returns_the_service_description(world: World) -> None:
    res = _meta(world, "getOpenAPI", caller=world.bhxh.identifier, query="?serviceCode=citizen")
    assert res.status_code == 200
    assert res.json()["openapi"].startswith("3.")
    assert (
        _meta(world, "getOpenAPI", caller=world.bhxh.identifier, query="?serviceCode=nope").status_code == 404
    )
    assert _meta(world, "getOpenAPI", caller=world.bhxh.identifier).status_code == 400


@pytest.mark.parametrize(
    "caller", ["VN-HN/GOV/BHXH-HN", "a/b/c/d/e", "VN HN/GOV/X/Y", "", "VN-HN/GOV/../Y", "VN-HN/GOV/X/."]
)
def test_a_malformed_caller_is_a_400(world: World, caller: str) -> None:
    res = _meta(world, "listMethods", caller=caller)
    assert res.status_code == 400
    assert res.json()["detail"][0]["field"] == "Information-Mediator-Client"


def test_a_malformed_service_code_is_a_400(world: World) -> None:
    res = _meta(world, "getOpenAPI", caller=world.bhxh.identifier, query="?serviceCode=%00bad")
    assert (res.status_code, res.json()["detail"][0]["rule"]) == (400, "identifier_part")


@pytest.mark.parametrize("code", ["..", ".", "..."])
def test_an_identifier_part_made_only_of_dots_is_refused(code: str) -> None:
    """A part of dots only would be a path segment URL normalisation removes: the service's URL
    (the audience an end user's token is bound to, ADR 0010 §23) would name another member's."""
    from dancu.blocks.exchange.identifiers import check_part, parse_service_id
    from dancu.errors import DomainValidationError

    with pytest.raises(DomainValidationError):
        check_part("subsystem_code", code)
    with pytest.raises(DomainValidationError):
        parse_service_id(f"VN-HN/GOV/BHXH-HN/{code}/citizen")
    assert check_part("subsystem_code", "v1.2") == "v1.2"  # dots among other characters are fine
