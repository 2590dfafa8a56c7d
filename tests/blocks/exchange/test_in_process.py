"""In-process providers of applications (ADR 0010 §5): an application registers its handler with
``register_handler`` and the platform operator publishes its service with
``publish_in_process_service``; BHXH's intake system, granted the purpose, then gets the handler's
answer through the gateway, signed and logged. Reserved, malformed and doubly-taken handler names
are refused; only the operator publishes; a change drops cached routes (ADR 0010 §13).

Actors: ``operator`` (the platform operator's administrator), ``police_admin`` (the registry's
owner, approves grants on its subsystem's services), ``bhxh_admin`` (requests the grant)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.exchange import fast, providers
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Message, Service
from dancu.errors import AccessDenied, DomainValidationError
from tests.blocks.exchange.conftest import Call, World
from tests.conftest import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("adminunits")]

HANDLER = "wards.opening_hours"


def opening_hours(ctx: AccessContext, params: Mapping[str, Any], path: str) -> providers.Answer:
    """Opening hours of a ward's one-stop office (no personal data)."""
    return providers.Answer(
        data={"ward": path.strip("/"), "hours": "07:30–17:00", "note": "internal"}, subjects=[]
    )


@pytest.fixture(autouse=True)
def _own_handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test registers into a copy of the gateway's table (the process's stays as it was)."""
    monkeypatch.setattr(providers, "HANDLERS", dict(providers.HANDLERS))
    yield
    fast.forget_routes()


def _publish(operator: Person, world: World, **overrides: Any) -> Service:
    kwargs: dict[str, Any] = {
        "code": "opening-hours",
        "handler": HANDLER,
        "title_vi": "Giờ làm việc của bộ phận một cửa",
        "title_en": "One-stop office opening hours",
        "legal_basis": "Nghị định 61/2018/NĐ-CP",
        "fields_by_purpose": {"public_service.processing": ["ward", "hours"]},
    }
    kwargs.update(overrides)
    return ex.publish_in_process_service(operator.actor, world.registry, **kwargs)


def test_a_registered_handler_is_published_and_answers_through_the_gateway(
    operator: Person, world: World, grant: Callable[..., Any], call: Callable[..., Call]
) -> None:
    ex.register_handler(HANDLER, opening_hours)
    service = _publish(operator, world)
    assert (service.handler, service.methods, service.fields) == (HANDLER, "GET", ["ward", "hours"])
    assert service.description.startswith("Opening hours of a ward")
    world.services["opening-hours"] = service
    grant(service="opening-hours", purposes={"public_service.processing": ["ward", "hours"]})

    answer = call("opening-hours", "00103", request_id="hours-1")

    assert answer.status == 200, answer.json
    assert answer.json["data"] == {"ward": "00103", "hours": "07:30–17:00"}  # "note" is not in the grant
    logged = Message.objects.get(request_id="hours-1")
    assert logged.outcome == "ok" and logged.response_signature


def test_publishing_again_refreshes_the_one_catalogue_row(operator: Person, world: World) -> None:
    ex.register_handler(HANDLER, opening_hours)
    _publish(operator, world)
    again = _publish(operator, world, title_en="Opening hours", methods="GET,POST")
    assert Service.objects.filter(code="opening-hours").count() == 1
    assert (again.title_en, again.methods) == ("Opening hours", "GET,POST")


def test_only_the_platform_operator_publishes(police_admin: Person, world: World) -> None:
    ex.register_handler(HANDLER, opening_hours)
    with pytest.raises(AccessDenied):
        ex.publish_in_process_service(
            police_admin.actor,
            world.registry,
            code="opening-hours",
            handler=HANDLER,
            title_vi="Giờ làm việc",
            title_en="Opening hours",
            legal_basis="Nghị định 61/2018/NĐ-CP",
            fields_by_purpose={"public_service.processing": ["hours"]},
        )
    assert not Service.objects.filter(code="opening-hours").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"handler": "wards.unregistered"}, "handler", "registered"),
        ({"code": "giờ làm việc"}, "code", "identifier_part"),
        ({"methods": "DELETE"}, "methods", "choice"),
        ({"fields_by_purpose": {}}, "fields_by_purpose", "required"),
        ({"title_vi": ""}, "title_vi", "required"),
    ],
)
def test_a_bad_publication_names_the_field_and_the_rule(
    operator: Person, world: World, overrides: dict[str, Any], field: str, rule: str
) -> None:
    ex.register_handler(HANDLER, opening_hours)
    with pytest.raises(DomainValidationError) as err:
        _publish(operator, world, **overrides)
    assert (err.value.problems[0].field, err.value.problems[0].rule) == (field, rule)
    assert not Service.objects.filter(subsystem=world.registry, handler=HANDLER).exists()


def test_an_unknown_purpose_is_refused(operator: Person, world: World) -> None:
    ex.register_handler(HANDLER, opening_hours)
    with pytest.raises(DomainValidationError):
        _publish(operator, world, fields_by_purpose={"marketing.campaign": ["hours"]})


@pytest.mark.parametrize(
    "name", ["registry.citizen", "registry.opening_hours", "Wards.Hours", "hours", "a." + "b" * 63]
)
def test_reserved_and_malformed_handler_names_are_refused(name: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        ex.register_handler(name, opening_hours)
    assert name not in providers.HANDLERS or name == "registry.citizen"
    assert providers.HANDLERS["registry.citizen"] is providers.citizen


def test_a_name_already_taken_by_another_provider_is_refused_the_same_one_is_a_no_op() -> None:
    ex.register_handler(HANDLER, opening_hours)
    ex.register_handler(HANDLER, opening_hours)  # e.g. AppConfig.ready run twice

    def impostor(ctx: AccessContext, params: Mapping[str, Any], path: str) -> providers.Answer:
        return providers.Answer(data={}, subjects=[])

    with pytest.raises(ImproperlyConfigured, match="already registered"):
        ex.register_handler(HANDLER, impostor)
    assert providers.HANDLERS[HANDLER] is opening_hours


def test_registering_a_handler_drops_this_processs_cached_routes() -> None:
    fast._ROUTES[("VN-HN/GOV/BHXH-HN/TIEPNHAN", "VN-HN/GOV/CA-HN/LAMSACH/x")] = fast.Route(1, [])
    ex.register_handler(HANDLER, opening_hours)
    assert fast._ROUTES == {}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the configuration version is PostgreSQL's")
def test_publishing_bumps_the_configuration_version_so_cached_routes_turn_stale(
    operator: Person, world: World
) -> None:
    def version() -> int:
        with connection.cursor() as cur:
            cur.execute(fast._VERSION_SQL)
            return int(cur.fetchone()[0])

    ex.register_handler(HANDLER, opening_hours)
    before = version()
    _publish(operator, world)
    first = version()
    _publish(operator, world, title_en="Opening hours")
    assert before < first < version()
