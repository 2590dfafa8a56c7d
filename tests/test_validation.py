"""Free text anywhere in the platform: control characters and lone surrogates are refused with
the field named, before anything reaches the database (PostgreSQL cannot store NUL in text)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.registry.models import Citizen
from dancu.errors import DomainValidationError
from dancu.validation import check_text, text_problems


@pytest.mark.parametrize("bad", ["a\x00b", "\x07", "x\x7f", "\x1b[31m"])
def test_control_characters_are_refused(bad: str) -> None:
    assert [(p.field, p.rule) for p in text_problems("reason", bad, max_length=50)] == [
        ("reason", "characters")
    ]


def test_tabs_and_line_breaks_are_ordinary_text() -> None:
    assert check_text("reason", "dòng 1\ndòng 2\tcột", max_length=50) == "dòng 1\ndòng 2\tcột"


def test_lone_surrogates_too_long_and_missing_text_are_refused_with_their_rule() -> None:
    assert text_problems("note", "\ud800", max_length=5)[0].rule == "unicode"
    assert text_problems("note", "abcdef", max_length=5)[0].rule == "length"
    assert text_problems("note", "  ", max_length=5, required=True)[0].rule == "required"
    assert text_problems("note", None, max_length=5)[0].rule == "type"


def test_an_access_context_refuses_a_case_reference_with_a_nul() -> None:
    with pytest.raises(DomainValidationError) as exc:
        AccessContext(actor=Actor.system(), purpose="registry.lookup", case_reference="HS-1\x00")
    assert [(p.field, p.rule) for p in exc.value.problems] == [("case_reference", "characters")]


@pytest.mark.django_db
def test_a_registration_with_control_characters_stores_nothing(
    adminunits_ready: None, system_ctx: Callable[[str], AccessContext]
) -> None:
    from dancu.blocks.registry.services import NewCitizen, register_citizen

    data: dict[str, Any] = {
        "id_number": "001085012345",
        "full_name": "Nguyễn Văn An",
        "date_of_birth": date(1985, 3, 2),
        "sex": "M",
        "religion": "Phật\x00giáo",
    }
    with pytest.raises(DomainValidationError) as exc:
        register_citizen(
            system_ctx("registry.administration"), NewCitizen(**data), reason="ok\x00", legal_basis="x"
        )
    assert {(p.field, p.rule) for p in exc.value.problems} >= {("reason", "characters")}
    assert Citizen.objects.count() == 0
    data["religion"] = "Phật\x00giáo"
    with pytest.raises(DomainValidationError) as exc:
        register_citizen(
            system_ctx("registry.administration"), NewCitizen(**data), reason="ok", legal_basis="x"
        )
    assert ("religion", "characters") in {(p.field, p.rule) for p in exc.value.problems}
    assert Citizen.objects.count() == 0
