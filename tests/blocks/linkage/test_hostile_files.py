"""Hostile sector files are refused with a clear error naming ``file`` and the rule, never a
server error nor unbounded memory or time (issue 8): an XLSX whose parts inflate far beyond the
upload (shared strings above all, which openpyxl reads whole), a CSV without line breaks, a CSV
field over the csv module's limit, a damaged XLSX row; merged cells are looked for in the sheet
whose rows are read (the workbook's first sheet, not the alphabetically first part)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from dancu.blocks.linkage import files
from dancu.errors import DomainValidationError


def _xlsx(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _list_workbook(rows: int = 3) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Họ và tên", "Ngày sinh"])
    for i in range(rows):
        ws.append([f"Trần Văn Bình {i}", "02/09/1975"])
    return wb


def _rewrite(content: bytes, change: dict[str, bytes]) -> bytes:
    """The workbook with some parts replaced (or added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change.pop(info.filename, src.read(info.filename)))
        for name, data in change.items():
            dst.writestr(name, data)
    return out.getvalue()


def _refused(name: str, content: bytes, tmp_path: Path, **limits: int) -> DomainValidationError:
    out = tmp_path / "staged.parquet"
    with pytest.raises(DomainValidationError) as err:
        files.stage(name, io.BytesIO(content), out, **limits)  # type: ignore[arg-type]
    assert not out.exists()
    return err.value


def test_an_xlsx_whose_shared_strings_inflate_past_the_part_cap_is_refused(tmp_path: Path) -> None:
    content = _xlsx(_list_workbook())
    padding = b"<!--" + b" " * 300_000 + b"-->"
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        types = zf.read("[Content_Types].xml")
    override = b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + SST_TYPE + b'"/></Types>'
    bomb = _rewrite(
        content,
        {
            "[Content_Types].xml": types.replace(b"</Types>", override),
            "xl/sharedStrings.xml": _shared_strings(content, padding),
        },
    )
    assert len(bomb) < 20_000  # compresses to almost nothing
    err = _refused("bomb.xlsx", bomb, tmp_path, max_part=100_000)
    assert (err.problems[0].field, err.problems[0].rule) == ("file", "size")
    assert "xl/sharedStrings.xml" in err.problems[0].message
    # the same workbook under the default caps is read
    staged = files.stage("ok.xlsx", io.BytesIO(content), tmp_path / "ok.parquet")
    assert staged.rows == 3


SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>'
SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _shared_strings(content: bytes, padding: bytes) -> bytes:
    """A shared-strings part (openpyxl reads it whole, from the content types) with padding."""
    return b'<?xml version="1.0" encoding="UTF-8"?>' + padding + SST


def test_an_xlsx_inflating_far_beyond_the_upload_is_refused_by_default(tmp_path: Path) -> None:
    content = _xlsx(_list_workbook())
    # a 20 MB part that deflates to ~20 KB: more than 100 × the upload, refused with no cap given
    bomb = _rewrite(content, {"xl/media/padding.bin": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    err = _refused("bomb.xlsx", bomb, tmp_path)
    assert (err.problems[0].field, err.problems[0].rule) == ("file", "size")
    assert "inflates" in err.problems[0].message


def test_merged_cells_are_looked_for_in_the_first_sheet_of_the_workbook(tmp_path: Path) -> None:
    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = "Danh sách"
    first.append(["Họ và tên", "Ngày sinh"])
    first.append(["Lê Văn Tám", "1970"])
    first.merge_cells("A2:B2")
    other = wb.create_sheet("Ghi chú")
    other.append(["không có ô gộp"])
    content = _xlsx(wb)
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        book = zf.read("xl/workbook.xml").decode()
    # the merged sheet is the first <sheet>; swap the part names so it lives in sheet2.xml
    swapped = _swap_parts(content, "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml")
    assert book.index("Danh sách") < book.index("Ghi chú")
    err = _refused("list.xlsx", swapped, tmp_path)
    assert err.problems[0].rule == "merged_cells" and "A2:B2" in err.problems[0].message


def _swap_parts(content: bytes, a: str, b: str) -> bytes:
    """The same workbook with two sheet parts renamed into each other, the relationships too."""
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels")
        part_a, part_b = zf.read(a), zf.read(b)
    short_a, short_b = a.removeprefix("xl/").encode(), b.removeprefix("xl/").encode()
    rels = rels.replace(short_a, b"@@").replace(short_b, short_a).replace(b"@@", short_b)
    return _rewrite(content, {a: part_b, b: part_a, "xl/_rels/workbook.xml.rels": rels})


def test_a_csv_without_line_breaks_is_refused_past_the_line_bound(tmp_path: Path) -> None:
    content = "Họ và tên,Ngày sinh\n".encode() + b"x" * 300_000
    err = _refused("oneline.csv", content, tmp_path, max_line=100_000)
    assert (err.problems[0].field, err.problems[0].rule) == ("file", "format")
    assert "line longer than 100000" in err.problems[0].message


def test_lines_are_split_across_chunks_without_rescanning_the_buffer() -> None:
    chunks = ["Họ tên,Năm\r", "\nLê Văn Tám,1970\nTrần", " Bình,1975\rNgô", "", " Huệ,1980"]
    lines = list(files._Lines(iter(chunks), max_line=50))
    assert lines == ["Họ tên,Năm\r\n", "Lê Văn Tám,1970\n", "Trần Bình,1975\r", "Ngô Huệ,1980"]


def test_a_csv_field_over_the_csv_module_limit_is_a_format_error_naming_the_line(tmp_path: Path) -> None:
    content = ('Họ và tên,Ghi chú\nLê Văn Tám,ok\nTrần Bình,"' + "y" * 200_000 + '"\n').encode()
    err = _refused("wide.csv", content, tmp_path)
    assert (err.problems[0].field, err.problems[0].rule) == ("file", "format")
    assert "line 3" in err.problems[0].message


def test_a_damaged_xlsx_row_is_a_format_error_not_a_crash(tmp_path: Path) -> None:
    wb = _list_workbook(1)
    ws = wb.active
    assert ws is not None
    ws.append(["Ngô Huệ", 1980])
    content = _xlsx(wb)
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    damaged = sheet.replace(b"<v>1980</v>", b"<v>not-a-number</v>", 1)
    assert damaged != sheet
    err = _refused("damaged.xlsx", _rewrite(content, {"xl/worksheets/sheet1.xml": damaged}), tmp_path)
    assert (err.problems[0].field, err.problems[0].rule) == ("file", "format")
    assert "row 3" in err.problems[0].message
