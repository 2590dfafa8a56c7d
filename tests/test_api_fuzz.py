"""Property-based fuzzing of the JSON API against its own OpenAPI document (schemathesis).

The OpenAPI document is read from the Django WSGI application itself (no server is started) and
every operation is called with generated valid and invalid input. Checks on every response: no
5xx, the status code is documented, the body matches the documented schema (errors included:
``{"detail": [{"field", "rule", "message"}]}``), the content type is the documented one, and an
operation that needs a login refuses the same call without the session or with a forged one.

Authentication: a real session of a city police officer (``sessionid`` from ``Client.force_login``,
given to schemathesis as the API key of the ``SessionAuth`` scheme). The officer's organisation may
use every official purpose including ``registry.administration``, so the POST operations reach the
registry services. CSRF is enforced as in production: each call carries a ``csrftoken`` cookie and
the same value in ``X-CSRFToken``.

Data: the administrative units and three registered citizens. Each call runs in a savepoint that
is rolled back, so every example sees the same data. Known ID numbers, purposes, addresses and a
few hostile strings (NUL, control and bidi characters, over-long text) are mixed into the generated
values, and a share of the generated bodies get a consistent registration, move, correction or
death merged in, so that calls reach real records and the write paths reach the database.

Bounded and deterministic: a fixed seed, ``deterministic`` generation and no example database
give the same examples on every run and machine.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.registry.services import NewCitizen, register_citizen
from tests.conftest import Person

API = "/api/v1"
OPENAPI = f"{API}/openapi.json"
CSRF_TOKEN = "fuzzCsrfTokenFuzzCsrfTokenFuzz01"  # 32 characters: a valid unmasked CSRF secret
SEED = 20260601
MAX_EXAMPLES = 40  # per operation, in the fuzzing phase (the examples and coverage phases add more)

AN_ID = "001085012345"  # the ID number the schema uses as its example
AN_OLD_ID = "012345678"
BINH_ID = "001190222222"
CUONG_ID = "079092000111"  # Hồ Chí Minh City: outside the jurisdiction of the Hà Nội police
TAY_HO_ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"
HOAN_KIEM_ADDRESS = "Số 1 Tràng Tiền, Phường Tràng Tiền, Quận Hoàn Kiếm, Hà Nội"
CURRENT_ADDRESS = "Phường Tây Hồ, Thành phố Hà Nội"
HCMC_ADDRESS = "Số 10 Lê Lợi, Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"

HOSTILE_TEXT = ["a\x00b", "\x00", "Lê\x1bVăn", "\u202eKinh", "ệ" * 300, " "]
DICTIONARIES: dict[str, list[str]] = {
    "id_numbers": [AN_ID, BINH_ID, CUONG_ID, "001099999999"],
    "old_numbers": [AN_OLD_ID, "999999999"],
    "codes": ["01", "79", "00100", "00070"],
    "purposes": [
        "registry.lookup",
        "security.investigation",
        "data.cleaning",
        "public_service.processing",
        "registry.administration",
        "identity.verification",
    ],
    "addresses": [TAY_HO_ADDRESS, HOAN_KIEM_ADDRESS, CURRENT_ADDRESS, HCMC_ADDRESS],
    "names": ["nguyen van an", "Trần Thị Bình", "le"],
    "dates": ["2025-01-10", "1985-03-01", "2999-01-01"],
    "hostile": HOSTILE_TEXT,
}
# parameter (``body.<field>`` for a field of the JSON body) -> (dictionary, probability)
PARAMETERS: dict[str, tuple[str, float]] = {
    "id_number": ("id_numbers", 0.4),
    "old_number": ("old_numbers", 0.4),
    "code": ("codes", 0.4),
    "purpose": ("purposes", 0.5),
    "address": ("addresses", 0.35),
    "name": ("names", 0.35),
    "case_reference": ("hostile", 0.25),
    "body.permanent_address_text": ("addresses", 0.5),
    "body.temporary_address_text": ("addresses", 0.25),
    "body.date_of_death": ("dates", 0.5),
    **{
        f"body.{field}": ("hostile", 0.2)
        for field in [
            "reason",
            "legal_basis",
            "ethnicity",
            "religion",
            "origin_text",
            "household_number",
            "relationship_to_head",
            "family_name",
        ]
    },
}

# A registration, move or death that passes every rule needs several fields to agree (the ID
# number encodes the province of birth, sex and century); some generated bodies get one of these
# merged in, so that the write paths reach the database with the other fields still fuzzed.
NEW_CITIZENS = [
    {
        "id_number": "001187054321",
        "full_name": "Phạm Thị Lan",
        "date_of_birth": "1987-05-05",
        "sex": "F",
        "permanent_address_text": TAY_HO_ADDRESS,
    },
    {
        "id_number": "079205000123",
        "full_name": "Võ Minh Khôi",
        "date_of_birth": "2005-11-30",
        "sex": "M",
        "permanent_address_text": CURRENT_ADDRESS,
    },
]
CORRECTIONS = {
    "full_name": ["Nguyễn Văn Ân"],
    "date_of_birth": ["1985-12-01"],
    "religion": ["Không"],
    "ethnicity": ["Tày"],
    "origin_text": [HOAN_KIEM_ADDRESS],
    "nationality": ["VN", "FR"],
    "dob_precision": ["month", "year"],
    "relationship_to_head": ["head"],
}
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
VALID_BODIES: dict[tuple[str, str], st.SearchStrategy[dict[str, Any]]] = {
    ("POST", "/registry/citizens"): st.sampled_from(NEW_CITIZENS),
    ("POST", "/registry/citizens/{id_number}/corrections"): st.sampled_from(sorted(CORRECTIONS)).flatmap(
        lambda field: st.fixed_dictionaries(
            {
                "changes": st.fixed_dictionaries(
                    {
                        field: st.sampled_from(CORRECTIONS[field])
                        | st.sampled_from(HOSTILE_TEXT)
                        | _json_scalars
                        | st.lists(_json_scalars, max_size=2)
                    }
                )
            }
        )
    ),
    ("POST", "/registry/citizens/{id_number}/moves"): st.just({"permanent_address_text": HOAN_KIEM_ADDRESS}),
    ("POST", "/registry/citizens/{id_number}/death"): st.just({"date_of_death": "2025-01-10"}),
}


def fuzz_config(session_key: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            # The session as the API key of the OpenAPI `SessionAuth` scheme: explicit credentials,
            # which `ignored_auth` removes and forges to see that the call is then refused.
            "auth": {"openapi": {"SessionAuth": {"api_key": session_key}}},
            "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
            "parameters": {
                name: {"dictionary": dictionary, "probability": probability}
                for name, (dictionary, probability) in PARAMETERS.items()
            },
            "generation": {
                "mode": "all",  # valid and invalid input
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": True},  # the examples in the OpenAPI document
                "coverage": {"enabled": True},  # boundary values, missing fields, unexpected methods
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
                "response_headers_conformance": {"enabled": True},
                "ignored_auth": {"enabled": True},
            },
        }
    )


def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """The generated body, or (one time in three) the same body with a consistent core merged in."""
    operation = context.operation
    assert operation is not None
    valid = VALID_BODIES.get((operation.method.upper(), operation.path.removeprefix(API)))
    if valid is None or not isinstance(body, dict):
        return st.just(body)
    return st.sampled_from([False, False, True]).flatmap(
        lambda merge: valid.map(lambda core: {**body, **core}) if merge else st.just(body)
    )


@pytest.fixture
def citizens(adminunits_ready: None, system_ctx: Callable[[str], AccessContext]) -> None:
    ctx = system_ctx("registry.administration")
    why = {"reason": "Đăng ký", "legal_basis": "Luật Cư trú 2020"}
    for id_number, full_name, born, sex, address, old in [
        (AN_ID, "Nguyễn Văn An", date(1985, 3, 2), "M", TAY_HO_ADDRESS, (AN_OLD_ID,)),
        (BINH_ID, "Trần Thị Bình", date(1990, 7, 15), "F", HOAN_KIEM_ADDRESS, ()),
        (CUONG_ID, "Lê Văn Cường", date(1992, 1, 20), "M", HCMC_ADDRESS, ()),
    ]:
        register_citizen(
            ctx,
            NewCitizen(
                id_number=id_number,
                full_name=full_name,
                date_of_birth=born,
                sex=sex,
                permanent_address_text=address,
                old_id_numbers=old,
            ),
            **why,
        )


@pytest.fixture
def police_session_key(settings: Any, city_police: Person) -> str:
    """The session key of a real login of the city police officer."""
    client = Client()
    client.force_login(city_police.user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Keep Django from closing the database connection after each request, as its test client
    does: the connection holds the test's transaction (on PostgreSQL closing it ends the test)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(
    settings: Any, citizens: None, police_session_key: str, keep_test_connection: None
) -> schemathesis.BaseSchema:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the Host the WSGI client sends
    loaded = schemathesis.openapi.from_wsgi(OPENAPI, WSGIHandler(), config=fuzz_config(police_session_key))
    loaded.hook(flatmap_body)
    return loaded


def errors_have_the_shared_shape(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx answer is JSON of the shared shape, also to the malformed requests (wrong content
    type, unparsable body) for which the built-in checks stand aside. 405 for a method the path
    does not have is django-ninja's own plain-text answer (with the ``Allow`` header)."""
    if not 400 <= response.status_code < 500 or response.status_code == 405:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), f"{response.status_code} answered as {content_type!r}"
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) == {"detail"}, body
    problems = body["detail"]
    assert isinstance(problems, list) and problems, body
    for problem in problems:
        assert isinstance(problem, dict) and set(problem) == {"field", "rule", "message"}, problem
        assert all(isinstance(value, str) for value in problem.values()), problem


@contextmanager
def server_tracebacks() -> Iterator[list[str]]:
    """The tracebacks of the exceptions the application turned into a 500."""
    seen: list[str] = []

    def on_exception(sender: Any, **kwargs: Any) -> None:
        seen.append(traceback.format_exc())

    got_request_exception.connect(on_exception)
    try:
        yield seen
    finally:
        got_request_exception.disconnect(on_exception)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_conforms_to_the_openapi_document(case: schemathesis.Case) -> None:
    with server_tracebacks() as tracebacks, transaction.atomic():
        try:
            # The session cookie comes from the schema's auth configuration; CSRF is checked.
            case.call_and_validate(
                cookies={"csrftoken": CSRF_TOKEN},
                headers={"X-CSRFToken": CSRF_TOKEN},
                additional_checks=[errors_have_the_shared_shape],
            )
        except BaseException as exc:
            for tb in tracebacks:
                exc.add_note(f"Server-side traceback:\n{tb}")
            raise
        finally:
            transaction.set_rollback(True)
