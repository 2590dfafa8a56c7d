"""Fixtures of the desk pages: those of the eID block's tests (residents, chip PKI, outbox)."""

from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures used by the tests
    an_children,
    an_chip,
    an_level2,
    an_phone_on_record,
    an_registered,
    mai_chip,
    mai_level2,
    other_ward_police,
    outbox,
    pki,
    residents,
    trusted,
)
