"""Console fixtures for the alert page: the verification fixtures of the identity block (Nguyễn Văn
An and Huỳnh Thị Mai with their cards, the pawn shop's clerk) and the alert list's actors
(``committee_officer``: UBND phường Tây Hồ, may look up the registry but is not police)."""

from __future__ import annotations

from tests.blocks.alerts.conftest import (  # noqa: F401  (fixtures)
    committee_officer,
    pawn_clerk,
    residents,
)
