"""The exchange fixtures of the block's tests, for the pages (``world``: the registry as provider,
BHXH Hà Nội and Sở Lao động as clients, with administrators and credentials)."""

from tests.blocks.exchange.conftest import (  # noqa: F401 — fixtures
    bhxh_admin,
    bhxh_dpo,
    call,
    grant,
    labour_admin,
    operator,
    police_admin,
    world,
)
