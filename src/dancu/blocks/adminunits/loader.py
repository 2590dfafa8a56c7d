"""Copy the data files into the database tables: one transaction, bulk inserts, idempotent.

The stored :class:`~dancu.blocks.adminunits.models.DataVersion` names the data version loaded; a
run with the same version changes nothing (one query). A new version replaces every table.
"""

from __future__ import annotations

import logging

from django.db import transaction

from dancu.blocks.adminunits import models as m
from dancu.blocks.adminunits.catalogue import catalogue, data_version

log = logging.getLogger(__name__)

VERSION_KEY = "adminunits"
BATCH_SIZE = 2000


def stored_version() -> str | None:
    """The data version in the database, or None when nothing is loaded."""
    row = m.DataVersion.objects.filter(key=VERSION_KEY).values_list("version", flat=True).first()
    return row


def load(*, force: bool = False) -> bool:
    """Load the tables unless the stored version equals the files' version; True if it loaded."""
    if not force and stored_version() == data_version():
        return False  # only the manifest was read: a repeat run costs one query
    cat = catalogue()
    with transaction.atomic():
        m.WardCrosswalk.objects.all().delete()
        m.LegacyWard.objects.all().delete()
        m.LegacyDistrict.objects.all().delete()
        m.LegacyProvince.objects.all().delete()
        m.Ward.objects.all().delete()
        m.Province.objects.all().delete()
        m.Province.objects.bulk_create(
            [
                m.Province(code=u.code, name=u.name, full_name=u.full_name, type=u.type)
                for u in cat.provinces.values()
            ]
        )
        m.Ward.objects.bulk_create(
            [
                m.Ward(
                    code=u.code, name=u.name, full_name=u.full_name, type=u.type, province_id=u.province_code
                )
                for u in cat.wards.values()
            ],
            batch_size=BATCH_SIZE,
        )
        m.LegacyProvince.objects.bulk_create(
            [
                m.LegacyProvince(code=u.code, name=u.name, full_name=u.full_name, type=u.type)
                for u in cat.legacy_provinces.values()
            ]
        )
        m.LegacyDistrict.objects.bulk_create(
            [
                m.LegacyDistrict(
                    code=u.code, name=u.name, full_name=u.full_name, type=u.type, province_id=u.province_code
                )
                for u in cat.legacy_districts.values()
            ],
            batch_size=BATCH_SIZE,
        )
        m.LegacyWard.objects.bulk_create(
            [
                m.LegacyWard(
                    code=u.code,
                    name=u.name,
                    full_name=u.full_name,
                    type=u.type,
                    district_id=u.district_code,
                    province_id=u.province_code,
                )
                for u in cat.legacy_wards.values()
            ],
            batch_size=BATCH_SIZE,
        )
        m.WardCrosswalk.objects.bulk_create(
            [
                m.WardCrosswalk(
                    legacy_ward_id=p.legacy_ward_code,
                    ward_id=p.ward_code,
                    is_primary=p.is_primary,
                    is_partial=p.is_partial,
                    primary_basis=p.primary_basis,
                )
                for pairs in cat.crosswalk.values()
                for p in pairs
            ],
            batch_size=BATCH_SIZE,
        )
        m.DataVersion.objects.update_or_create(key=VERSION_KEY, defaults={"version": cat.version})
    log.info("adminunits.loaded version=%s", cat.version)
    return True
