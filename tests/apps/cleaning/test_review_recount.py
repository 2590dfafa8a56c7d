"""The quality report follows the official's review (issue 8): accepting an uncertain pair that
carries proposed corrections adds it to "corrected"; rejecting a pair takes its flags out of the
report (an unmatched row has none) — not only the matched/review/unmatched counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

import pytest

from dancu.blocks.linkage import services
from dancu.blocks.linkage.models import SectorRecord
from dancu.blocks.registry.dto import CitizenView
from tests.apps.conftest import HOAN_KIEM_ADDRESS
from tests.conftest import Person


@pytest.fixture
def uncertain_job(hang: Person, tran_thi_hoa: CitizenView, register: Callable[..., CitizenView]) -> int:
    """Two rows the model is unsure of: Hòa typed without diacritics, with a typo and the wrong sex
    (her name would be corrected), and "Pham Thi Lan" born 1990 listed in Hoàn Kiếm, where neither
    of the two Phạm Thị Lan of Tây Hồ born that year lives (flag ``address_differs``)."""
    for number, born in (("001190066666", date(1990, 1, 11)), ("001190077777", date(1990, 8, 20))):
        register(id_number=number, full_name="Phạm Thị Lan", date_of_birth=born, sex="F")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Địa chỉ"])
    w.writerow([1, "Tram Thi Hoa", "03/1990", "Nam", "", ""])
    w.writerow([2, "Pham Thi Lan", "1990", "Nữ", "", HOAN_KIEM_ADDRESS])
    ctx = hang.ctx("data.cleaning")
    job = services.upload(ctx, "danh-sach.csv", out.getvalue().encode())
    done = services.start(ctx, job.job_id, background=False)
    assert done.status == "done", done.error
    return done.job_id


def test_the_report_follows_each_review_decision(hang: Person, uncertain_job: int) -> None:
    ctx = hang.ctx("data.cleaning")
    rows = {r.row_no: r for r in SectorRecord.objects.filter(job_id=uncertain_job)}
    assert rows[1].decision == rows[2].decision == "review"
    assert rows[1].corrections and rows[2].flags == ["address_differs"]
    report = services.quality_report(ctx, uncertain_job)
    assert (report["review"], report["corrected"], report["address_differs"]) == (2, 0, 1)

    services.decide(ctx, uncertain_job, rows[1].pk, accept=True)
    report = services.quality_report(ctx, uncertain_job)
    assert (report["matched"], report["review"], report["corrected"]) == (1, 1, 1)

    services.decide(ctx, uncertain_job, rows[2].pk, accept=False)
    report = services.quality_report(ctx, uncertain_job)
    assert (report["unmatched"], report["review"], report["address_differs"]) == (1, 0, 0)

    # changing one's mind moves the row back
    services.decide(ctx, uncertain_job, rows[1].pk, accept=False)
    report = services.quality_report(ctx, uncertain_job)
    assert (report["matched"], report["unmatched"], report["corrected"]) == (0, 2, 0)
