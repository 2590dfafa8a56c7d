"""Data cleaning as an official of a city department uses it (issue 8): upload a commune list,
map its columns, run the matching, review uncertain pairs, download the cleaned file. A hotel
clerk may not clean data; another organisation's job does not exist for you."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.linkage import services
from dancu.blocks.linkage.models import SectorRecord
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.conftest import HANOI, Person

HEADER = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD/CMND,Địa chỉ,Ghi chú\n"
LIST = HEADER + (
    '1,NGUYEN VAN AN,02/03/1985,Nam,012345678,"So 5 ngo 12, Quang An, Tay Ho, Ha Noi",=HYPERLINK("http://x")\n'
    '2,Trần Thị Hoà,03/1990,Nữ,,"Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội",\n'
    "3,Lý Thị Không Có,01/01/1970,Nữ,,,@SUM(A1)\n"
)


@pytest.fixture
def officer(make_person: Callable[..., Person]) -> Person:
    """An officer of the city's Department of Labour, allowed ``data.cleaning``."""
    return make_person(
        "officer.labour",
        org_code="SO-LD",
        org_name="Sở Nội vụ",
        kind="department",
        role="officer",
        province=HANOI,
    )


@pytest.fixture
def other_officer(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "officer.health",
        org_code="SO-YT",
        org_name="Sở Y tế",
        kind="department",
        role="officer",
        province=HANOI,
    )


@pytest.fixture
def residents(
    nguyen_van_an: CitizenView, tran_thi_hoa: CitizenView, register: Callable[..., Any]
) -> list[Any]:
    extra = [
        register(id_number=f"00119001234{i}", full_name=name, date_of_birth=date(1990, 1, 10 + i), sex="F",
                 household_number=f"HN01{i}", relationship_to_head="head")
        for i, name in enumerate(["Lê Thị Mai", "Phạm Thị Lan", "Đỗ Thị Hạnh"])
    ]  # fmt: skip
    return [nguyen_van_an, tran_thi_hoa, *extra]


def _run(officer: Person, content: bytes = LIST.encode(), name: str = "xa-phuong.csv") -> services.JobView:
    ctx = officer.ctx("data.cleaning")
    job = services.upload(ctx, name, content)
    return services.start(ctx, job.job_id, background=False)


def test_an_officer_cleans_a_commune_list_and_each_matched_citizen_sees_it(
    officer: Person, residents: list[CitizenView]
) -> None:
    an, hoa = residents[0], residents[1]
    job = _run(officer)
    assert job.status == "done", job.error
    assert job.mapping == {"full_name": "Họ và tên", "date_of_birth": "Ngày sinh", "sex": "Giới tính",
                           "id_number": "Số CCCD/CMND", "address": "Địa chỉ"}  # fmt: skip
    rows = {r.row_no: r for r in SectorRecord.objects.filter(job_id=job.job_id)}
    assert (rows[1].decision, rows[1].method, rows[1].citizen_id) == ("matched", "cmnd", an.citizen_id)
    assert rows[2].citizen_id == hoa.citizen_id and rows[2].decision in ("matched", "review")
    assert rows[3].decision == "unmatched"
    # the bulk read is one event for the job; each matched citizen gets an event of their own
    extract = AuditEvent.objects.filter(action="registry.cleaning_extract")
    assert extract.count() == 1 and extract.get().purpose == "data.cleaning"
    matched = AuditEvent.objects.filter(action="registry.cleaning_match")
    assert an.citizen_id in set(matched.values_list("subject_citizen_id", flat=True))
    assert residents[2].citizen_id not in set(matched.values_list("subject_citizen_id", flat=True))
    report = services.quality_report(officer.ctx("data.cleaning"), job.job_id)
    assert report["matched"] >= 1 and report["unmatched"] == 1 and report["corrected"] >= 1


def test_the_cleaned_csv_carries_id_numbers_and_escapes_formulas(
    officer: Person, residents: list[Any]
) -> None:
    job = _run(officer)
    name, content = services.export(officer.ctx("data.cleaning"), job.job_id, fmt="csv")
    text = content.decode("utf-8-sig")
    assert name.endswith(".csv")
    assert "001085012345" in text  # the 12-digit number attached to the CMND row
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert ",=" not in text and ",@" not in text


def test_the_bulk_read_of_the_registry_is_for_data_cleaning_only(
    officer: Person, residents: list[Any]
) -> None:
    with pytest.raises(AccessDenied):
        registry.cleaning_reference(officer.ctx("public_service.processing"), job_reference="LS-X")
    refs = registry.cleaning_reference(officer.ctx("data.cleaning"), job_reference="LS-X")
    assert {r.id_number for r in refs} >= {"001085012345", "001190012346"}
    assert refs[0].old_id_numbers == ("012345678",) and not hasattr(refs[0], "religion")


def test_a_hotel_clerk_may_not_clean_data_and_the_refusal_is_audited(hotel_clerk: Person) -> None:
    with pytest.raises(AccessDenied):
        services.upload(hotel_clerk.ctx("data.cleaning"), "list.csv", LIST.encode())
    assert AuditEvent.objects.filter(action="cleaning.upload", result=AuditEvent.Result.DENIED).count() == 1
    assert not SectorRecord.objects.exists()


def test_another_organisations_job_does_not_exist_for_you(
    officer: Person, other_officer: Person, residents: list[Any]
) -> None:
    job = _run(officer)
    with pytest.raises(NotFound):
        services.get_job(other_officer.ctx("data.cleaning"), job.job_id)
    with pytest.raises(NotFound):
        services.export(other_officer.ctx("data.cleaning"), job.job_id, fmt="csv")


def test_bad_files_are_refused_whole(officer: Person, adminunits: None) -> None:
    ctx = officer.ctx("data.cleaning")
    services.upload(ctx, "list.csv", LIST.encode())
    with pytest.raises(DomainValidationError) as dup:
        services.upload(ctx, "again.csv", LIST.encode())
    assert dup.value.problems[0].rule == "duplicate"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Họ và tên", "Ngày sinh"])
    ws.append(["Lê Văn Tám", "1970"])
    ws.merge_cells("A2:B2")
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(DomainValidationError) as merged:
        services.upload(ctx, "merged.xlsx", buf.getvalue())
    assert merged.value.problems[0].rule == "merged_cells"
    with pytest.raises(DomainValidationError) as empty:
        services.upload(ctx, "empty.csv", b"")
    assert empty.value.problems[0].rule == "empty"
    assert SectorRecord.objects.count() == 3  # only the first file's rows


def test_a_windows_1258_file_is_read_with_its_encoding(officer: Person, adminunits: None) -> None:
    # Windows-1258 writes tone marks as combining characters ("o" + U+0323 for "ọ")
    content = "Ho\u0323 tên;Năm sinh\nLê Văn Tám;1970\n".encode("cp1258")
    job = services.upload(officer.ctx("data.cleaning"), "cp.csv", content)
    assert job.encoding == "cp1258" and job.columns == ["Họ tên", "Năm sinh"]
    assert job.mapping == {"full_name": "Họ tên", "date_of_birth": "Năm sinh"}


def test_the_pages_upload_map_run_review_and_export(
    officer: Person, residents: list[Any], logged_in: Callable[[Person], Client], settings: Any
) -> None:
    settings.DANCU_CLEANING_RUN_INLINE = True
    c = logged_in(officer)
    assert c.get("/cleaning/").status_code == 200
    upload = c.post("/cleaning/", {"file": _file()})
    assert upload.status_code == 302
    job_url = upload["Location"]
    page = c.get(job_url)
    assert page.status_code == 200 and b'data-testid="mapping"' in page.content
    form = {"full_name": "Họ và tên", "date_of_birth": "Ngày sinh", "sex": "Giới tính",
            "id_number": "Số CCCD/CMND", "address": "Địa chỉ"}  # fmt: skip
    assert c.post(job_url, form).status_code == 302
    done = c.get(job_url)
    assert b'data-testid="report"' in done.content
    progress = c.get(job_url + "progress/").json()
    assert progress["status"] == "done" and progress["progress"] == 100
    # an uncertain pair, reviewed with the page's accept button
    rec = SectorRecord.objects.get(row_no=2)
    SectorRecord.objects.filter(pk=rec.pk).update(decision="review", method="model", match_weight=3.0)
    review = c.get(job_url + "review/")
    assert (
        review.status_code == 200
        and b'data-testid="pair"' in review.content
        and b"Tr\xe1\xba\xa7n" in review.content
    )
    assert c.post(job_url + f"review/{rec.pk}/", {"decision": "accept"}).status_code == 302
    rec.refresh_from_db()
    assert (rec.decision, rec.review) == ("matched", "accepted")
    accepted = AuditEvent.objects.filter(action="registry.cleaning_match", subject_citizen_id=rec.citizen_id)
    assert accepted.exists()
    xlsx = c.get(job_url + "export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert '\'=HYPERLINK("http://x")' in cells and not any(v.startswith("=") for v in cells)


def test_a_file_over_the_web_row_limit_becomes_a_scale_job_and_one_over_ten_million_is_refused(
    officer: Person, adminunits: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dancu.blocks.linkage import files

    settings.DANCU_CLEANING_WEB_MAX_ROWS = 2
    big = services.upload(officer.ctx("data.cleaning"), "list.csv", LIST.encode())
    assert big.scale and big.rows == 3 and SectorRecord.objects.count() == 0  # staged, not stored
    monkeypatch.setattr(files, "MAX_ROWS", 2)  # stands for the ten million rows of files.MAX_ROWS
    with pytest.raises(DomainValidationError) as err:
        services.upload(officer.ctx("data.cleaning"), "other.csv", LIST.encode() + b"4,X,,,,,\n")
    problem = err.value.problems[0]
    assert (problem.field, problem.rule) == ("file", "rows") and "more than 2 rows" in problem.message
    assert SectorRecord.objects.count() == 0 and services.list_jobs(officer.ctx("data.cleaning")) == [big]


def test_an_unreadable_csv_field_is_a_400_naming_the_file_not_a_500(
    officer: Person, logged_in: Callable[[Person], Client]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    wide = (HEADER + '1,"' + "y" * 200_000 + '",02/03/1985,Nam,,,\n').encode()
    page = logged_in(officer).post("/cleaning/", {"file": SimpleUploadedFile("wide.csv", wide)})
    assert page.status_code == 400 and "line 2" in page.content.decode()
    assert SectorRecord.objects.count() == 0


def _file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("danh-sach.csv", LIST.encode(), content_type="text/csv")


def test_a_hotel_clerk_is_refused_the_pages(
    hotel_clerk: Person, logged_in: Callable[[Person], Client]
) -> None:
    assert logged_in(hotel_clerk).get("/cleaning/").status_code == 403
