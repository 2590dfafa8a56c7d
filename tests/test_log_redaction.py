"""No ID number or phone number reaches the log (Law 91/2025 on personal data protection).

Django's own ``django.request`` logger names the path of each 4xx/5xx answer, and the registry's
paths carry ID numbers: the platform's log formatter (``dancu.logredact``, configured in
``settings.LOGGING``) masks them, keeping the province code."""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

from dancu.logredact import redact


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the platform's console handler would print for the ``django.request`` logger."""
    out = io.StringIO()
    config = settings.LOGGING["formatters"]["plain"]
    factory = logging.config.DictConfigurator({}).resolve(config["()"])
    handler = logging.StreamHandler(out)
    handler.setFormatter(factory(fmt=config["fmt"]))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield out
    finally:
        logger.removeHandler(handler)


@pytest.mark.django_db
def test_an_unauthenticated_call_naming_an_id_number_is_logged_without_it(log_output: io.StringIO) -> None:
    """An integrator without credentials asks for An's record: Django logs the 401 with its path,
    and the line says ``001*********``, not An's number."""
    res = Client().get("/api/v1/registry/citizens/001085000001")

    assert res.status_code == 401
    line = log_output.getvalue()
    assert "/api/v1/registry/citizens/001*********" in line
    assert "001085000001" not in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Not Found: /exchange/X/citizen/001085000001", "Not Found: /exchange/X/citizen/001*********"),
        ("CMND 012345678 replaced", "CMND 012****** replaced"),
        ("phone 0912345678, again +84912345678", "phone 091*******, again +849********"),
        ("Key (id_number)=(079200001234) already exists.", "Key (id_number)=(079*********) already exists."),
        ("rows=10000000 port 5432 year 2026 took 186.6 s", "rows=10000000 port 5432 year 2026 took 186.6 s"),
        ("sha256 " + "1234567890" * 4, "sha256 " + "1234567890" * 4),  # a 40-digit run is no identifier
        ("token a001085000001b", "token a001085000001b"),  # inside a longer word
        (
            "next=%2Fapi%2Fv1%2Fregistry%2Fcitizens%2F001085000001",
            "next=%2Fapi%2Fv1%2Fregistry%2Fcitizens%2F001*********",
        ),
        ("?id=001085000001&x=1", "?id=001*********&x=1"),
        ('{"id_number": "001085000001"}', '{"id_number": "001*********"}'),
    ],
)
def test_identifiers_are_masked_and_other_numbers_kept(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_exception_text_of_an_error_is_masked_too() -> None:
    formatter = logging.config.DictConfigurator({}).resolve(settings.LOGGING["formatters"]["plain"]["()"])(
        fmt="%(message)s"
    )
    try:
        raise ValueError("duplicate key 001085000001")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed for %s", ("0912345678",), sys.exc_info()
        )
    out = formatter.format(record)
    assert "001085000001" not in out and "0912345678" not in out
    assert "failed for 091*******" in out and "duplicate key 001*********" in out


def test_every_handler_a_django_or_platform_line_reaches_masks_it() -> None:
    """Django's defaults (an unformatted console under DEBUG, ``mail_admins``, runserver's request
    lines) are replaced: whatever logger writes — ``django.request``, ``django.server``, the
    platform's own, the root — each handler its records reach formats with the masking formatter."""
    from dancu.logredact import RedactingFormatter

    for name in (
        "django.request",
        "django.server",
        "django.security.csrf",
        "dancu.blocks.exchange.views",
        "",
    ):
        logger: logging.Logger | None = logging.getLogger(name)
        handlers: list[logging.Handler] = []
        while logger is not None:
            handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
            logger = logger.parent if logger.propagate else None
        assert handlers, name
        for handler in handlers:
            assert isinstance(handler.formatter, RedactingFormatter), (name, handler)
