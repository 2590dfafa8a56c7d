"""A sector file's address that is not the citizen's permanent one, told apart with the registry's
residence history (issue 8, quality report "moved"): Chị Hằng of the Department of Labour cleans a
list where

* anh An is listed at his old address in Tây Hồ — he moved his permanent residence to Hoàn Kiếm:
  flagged ``moved``, the address correction proposed with the date of the move;
* chị Hòa lives permanently in Hoàn Kiếm but has a temporary residence registered in Tây Hồ, where
  the list puts her: ``temporary_residence`` — the list is not wrong, no correction;
* chị Mai is listed in Hoàn Kiếm, where the registry never knew her: ``address_differs``, for an
  official to look at.

The registry answers only "was this person registered in this ward" per row (never the history),
only for citizens of the asking organisation's jurisdiction, and every citizen whose history was
read sees it. A purpose other than data cleaning is refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.linkage import services
from dancu.blocks.linkage.models import SectorRecord
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.models import Citizen
from dancu.errors import AccessDenied
from tests.apps.conftest import HOAN_KIEM_ADDRESS, TAY_HO_ADDRESS
from tests.conftest import HANOI, Person

HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Địa chỉ"]
WHY = {"reason": "Thử nghiệm", "legal_basis": "Luật Cư trú 2020"}


@pytest.fixture
def people(
    nguyen_van_an: CitizenView,
    tran_thi_hoa: CitizenView,
    register: Callable[..., CitizenView],
    registrar: Person,
) -> dict[str, Any]:
    """An moved Tây Hồ → Hoàn Kiếm; Hòa (Hoàn Kiếm) registered a temporary residence in Tây Hồ;
    Mai has always lived in Tây Hồ."""
    ctx = registrar.ctx("registry.administration")
    tay_ho = Citizen.objects.get(pk=nguyen_van_an.citizen_id).permanent_ward_code
    registry.move_residence(ctx, nguyen_van_an.id_number, permanent_address_text=HOAN_KIEM_ADDRESS, **WHY)
    registry.register_temporary_residence(
        ctx, tran_thi_hoa.id_number, temporary_address_text=TAY_HO_ADDRESS, **WHY
    )
    mai = register(id_number="001190055555", full_name="Lê Thị Mai", date_of_birth=date(1990, 1, 10), sex="F")
    hoan_kiem = Citizen.objects.get(pk=tran_thi_hoa.citizen_id).permanent_ward_code
    assert tay_ho and hoan_kiem and tay_ho != hoan_kiem
    return {"an": nguyen_van_an, "hoa": tran_thi_hoa, "mai": mai, "tay_ho": tay_ho, "hoan_kiem": hoan_kiem}


def _list(people: dict[str, Any]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    w.writerow([1, "Nguyễn Văn An", "02/03/1985", "Nam", people["an"].id_number, TAY_HO_ADDRESS])
    w.writerow([2, "Trần Thị Hòa", "03/1990", "Nữ", people["hoa"].id_number, TAY_HO_ADDRESS])
    w.writerow([3, "Lê Thị Mai", "10/01/1990", "Nữ", people["mai"].id_number, HOAN_KIEM_ADDRESS])
    return out.getvalue().encode()


def _clean(officer: Person, content: bytes) -> services.JobView:
    ctx = officer.ctx("data.cleaning")
    job = services.upload(ctx, "danh-sach.csv", content)
    return services.start(ctx, job.job_id, background=False)


@pytest.mark.parametrize("path", ["in_memory", "scale"])
def test_the_registry_tells_a_move_and_a_temporary_residence_from_an_unknown_address(
    hang: Person, people: dict[str, Any], settings: Any, path: str
) -> None:
    settings.DANCU_CLEANING_WEB_MAX_ROWS = 1 if path == "scale" else 10_000
    job = _clean(hang, _list(people))
    assert job.status == "done", job.error
    assert job.scale == (path == "scale")
    rows = {r.row_no: r for r in SectorRecord.objects.filter(job_id=job.job_id)}
    assert [rows[n].citizen_id for n in (1, 2, 3)] == [people[k].citizen_id for k in ("an", "hoa", "mai")]
    assert all(rows[n].decision == "matched" for n in (1, 2, 3))

    # An: moved away from the list's ward, today (the move above)
    assert rows[1].flags == ["moved"]
    (fix,) = [c for c in rows[1].corrections if c["field"] == "address"]
    assert fix["rule"] == "registry_moved" and fix["moved_on"] == timezone.localdate().isoformat()
    assert fix["from"] == TAY_HO_ADDRESS and "Hàng Bạc" in fix["to"]
    # Hòa: the list gives her temporary residence — not an error, nothing to correct
    assert rows[2].flags == ["temporary_residence"]
    assert not [c for c in rows[2].corrections if c["field"] == "address"]
    # Mai: the registry never knew her in Hoàn Kiếm
    assert rows[3].flags == ["address_differs"]
    (fix,) = [c for c in rows[3].corrections if c["field"] == "address"]
    assert fix["rule"] == "registry_residence"

    report = services.quality_report(hang.ctx("data.cleaning"), job.job_id)
    assert (report["moved"], report["temporary_residence"], report["address_differs"]) == (1, 1, 1)
    _, content = services.export(hang.ctx("data.cleaning"), job.job_id, fmt="csv")
    text = content.decode("utf-8-sig")
    assert "moved" in text and "temporary_residence" in text and "address_differs" in text
    assert f"(registry_moved {timezone.localdate().isoformat()})" in text  # since when An lives elsewhere

    # each of the three had their residence history read for this job, and can see it
    checks = AuditEvent.objects.filter(action="registry.cleaning_address_check")
    assert sorted(checks.values_list("subject_citizen_id", flat=True)) == sorted(
        people[k].citizen_id for k in ("an", "hoa", "mai")
    )
    assert {e.purpose for e in checks} == {"data.cleaning"}
    assert {e.detail["job"] for e in checks} == {job.reference}


def test_the_answer_is_per_ward_asked_and_says_nothing_else(hang: Person, people: dict[str, Any]) -> None:
    ctx = hang.ctx("data.cleaning")
    an, hoa = people["an"].citizen_id, people["hoa"].citizen_id
    found = registry.cleaning_address_evidence(
        ctx,
        [(an, people["tay_ho"]), (an, "99999"), (hoa, people["tay_ho"]), (hoa, people["hoan_kiem"])],
        job_reference="LS-T",
    )
    # An's old ward: "previous"; a ward he never lived in: nothing; Hòa's own permanent ward is
    # no claim of another ward (not looked at) and her temporary ward is "temporary"
    assert set(found) == {(an, people["tay_ho"]), (hoa, people["tay_ho"])}
    assert found[(an, people["tay_ho"])].kind == "previous"
    assert found[(an, people["tay_ho"])].moved_on == timezone.localdate()
    assert found[(hoa, people["tay_ho"])].kind == "temporary"
    assert found[(hoa, people["tay_ho"])].moved_on is None


def test_a_citizen_outside_the_jurisdiction_is_not_looked_at(
    make_person: Callable[..., Person], people: dict[str, Any]
) -> None:
    """An officer cleaning data for the Tây Hồ ward only (an office whose jurisdiction is the ward):
    An now lives in Hoàn Kiếm — outside it; the registry answers nothing about him and reads
    nothing of his."""
    commune = make_person(
        "can.bo.tayho",
        org_code="VHXH-TAYHO",
        org_name="Phòng Văn hoá – Xã hội phường Tây Hồ",
        kind="department",
        role="officer",
        province=HANOI,
        ward=people["tay_ho"],
    )
    found = registry.cleaning_address_evidence(
        commune.ctx("data.cleaning"), [(people["an"].citizen_id, people["hoan_kiem"])], job_reference="LS-W"
    )
    assert found == {}
    assert not AuditEvent.objects.filter(action="registry.cleaning_address_check").exists()


def test_no_other_purpose_reads_the_residence_history(hang: Person, people: dict[str, Any]) -> None:
    with pytest.raises(AccessDenied):
        registry.cleaning_address_evidence(
            hang.ctx("public_service.processing"),
            [(people["an"].citizen_id, people["tay_ho"])],
            job_reference="X",
        )
    assert not AuditEvent.objects.filter(
        action="registry.cleaning_address_check", result=AuditEvent.Result.OK
    ).exists()
