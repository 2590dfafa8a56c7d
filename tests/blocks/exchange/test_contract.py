"""The gateway's call contract is discoverable: ``/exchange/openapi.json`` describes how a member
system calls a service (headers, the signed answer, every refusal with its status and rule, with
examples), and the GovStack IM directory services beside it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from dancu.blocks.exchange import contract

SOURCES = [Path(contract.__file__).with_name(n) for n in ("gateway.py", "remote.py")]


def _raised() -> set[tuple[int, str]]:
    """Every (status, rule) the gateway and the forwarding raise, read from their source."""
    found: set[tuple[int, str]] = set()
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        found |= {(int(s), r) for s, r in re.findall(r'Refusal\(\s*(\d{3}),\s*[^,]+,\s*"([a-z_]+)"', text)}
        found |= {(int(s), r) for s, r in re.findall(r'_failure\(\s*(\d{3}),\s*"([a-z_]+)"', text)}
    return found


@pytest.mark.django_db
def test_the_contract_is_served_with_the_headers_the_answer_and_every_refusal() -> None:
    res = Client().get("/exchange/openapi.json")
    assert res.status_code == 200
    doc: dict[str, Any] = res.json()
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "http://testserver/"}]
    path = "/exchange/{instance}/{memberClass}/{memberCode}/{subsystemCode}/{serviceCode}/{path}"
    op = doc["paths"][path]["get"]
    assert set(doc["paths"][path]) == {"get", "post"}
    declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
    assert declared == set(re.findall(r"{(\w+)}", path))  # every template part is described
    headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
    assert {"Information-Mediator-Client", "X-Request-Id", "X-Purpose", "X-End-User"} <= {
        n for n, p in headers.items() if p["required"]
    }
    assert "public_service.processing" in headers["X-Purpose"]["schema"]["enum"]
    ok = op["responses"]["200"]
    assert "X-Exchange-Signature" in ok["headers"] and ok["content"]["application/json"]["example"]["data"]
    raised = _raised()
    assert len(raised) > 25
    for status, rule in raised:
        examples = op["responses"][str(status)]["content"]["application/json"]["examples"]
        assert rule in examples, f"{status} {rule} is not in the contract"
    for p, item in doc["paths"].items():  # the directory's templates are described too
        for operation in item.values():
            names = {x["name"] for x in operation.get("parameters", []) if x["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", p)), p


def test_every_documented_refusal_is_one_the_gateway_raises() -> None:
    raised_rules = {r for _, r in _raised()} | {
        "rate_limited",  # RateLimitedRefusal names it itself
        "gateway_key_unavailable",  # answered by the view (test_rewrap.py)
    }
    assert set(contract.REFUSALS) == raised_rules
