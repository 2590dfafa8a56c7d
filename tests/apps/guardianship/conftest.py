"""Actors of the guardianship desk (``/giam-ho/``) and the API: the family and the commune
officers of ``tests.guardianship_support`` (residents An and Mai, An's children Khôi and Hà), with
the eID block's fixtures (level-2 accounts, chip PKI, outbox).

* ``civil_status_tayho`` — the judicial and civil-status officer of UBND phường Tây Hồ (ward 00103,
  where An, Mai, Khôi and Hà live): records guardianships and restrictions
* ``civil_status_hoankiem`` — the same officer of UBND phường Hoàn Kiếm (ward 00070): refused,
  unless the guardian lives there (registration at the guardian's commune)
* ``civil_status_badinh`` — the same officer of UBND phường Ba Đình (ward 00004): a third commune
* ``committee_officer`` — an ordinary officer of UBND phường Tây Hồ (no civil-status role): refused
* ``ward_police`` — Công an phường Tây Hồ (keeps the registry: may record too), ``hotel_clerk``,
  ``outsider`` (root conftest)
"""

from __future__ import annotations

from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures used by the tests
    an_chip,
    an_level2,
    an_phone_on_record,
    an_registered,
    mai_chip,
    mai_level2,
    outbox,
    pki,
    trusted,
)
from tests.guardianship_support import (  # noqa: F401 — fixtures used by the tests
    an_children,
    civil_status_badinh,
    civil_status_hoankiem,
    civil_status_tayho,
    committee_officer,
    other_ward_police,
    residents,
)
