"""Big sector files are streamed, not loaded whole (issue 8: ten-million-row files): the reader's
memory stays bounded by one chunk whatever the file's size, the encoding is still detected when the
first non-UTF-8 byte comes late in the file, and a file refused anywhere leaves nothing staged."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from openpyxl import Workbook

from dancu.blocks.linkage import files
from dancu.errors import DomainValidationError

HEADER = "Họ và tên,Ngày sinh,Số định danh,Nơi thường trú\n"


def _csv(path: Path, rows: int, *, tail: str = "") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for i in range(rows):
            fh.write(f'Nguyễn Thị Huệ {i},{1 + i % 28:02d}/03/1987,0010{i:08d},"Số {i}, ngõ 5, Tây Hồ"\n')
        fh.write(tail)
    return path


def _peak(path: Path, out: Path) -> tuple[int, files.StagedTable]:
    with path.open("rb") as fh:
        tracemalloc.start()
        try:
            staged = files.stage(path.name, fh, out, chunk_rows=2000)
            return tracemalloc.get_traced_memory()[1], staged
        finally:
            tracemalloc.stop()


def _peak_of_loading_whole(path: Path) -> int:
    import csv

    tracemalloc.start()
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) > 1
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_bounded_by_one_chunk_whatever_the_size_of_the_file(tmp_path: Path) -> None:
    small = _csv(tmp_path / "small.csv", 40_000)
    large = _csv(tmp_path / "large.csv", 120_000)
    _peak(small, tmp_path / "warm.parquet")  # imports and first-use caches are not the file's
    peak_small, _ = _peak(small, tmp_path / "small.parquet")
    peak_large, staged = _peak(large, tmp_path / "large.parquet")
    assert staged.rows == 120_000 and staged.encoding == "utf-8"
    # three times the rows (both above the 1 MB read block), about the same memory;
    # the whole file loaded would take many times more
    assert large.stat().st_size > 8_000_000
    assert peak_large < peak_small * 1.5 + 1_000_000
    assert peak_large < _peak_of_loading_whole(large) / 3
    first = next(files.staged_rows(staged.path, batch=1))
    last = list(files.staged_rows(staged.path, batch=50_000))[-1][-1]
    assert first == [(1, ["Nguyễn Thị Huệ 0", "01/03/1987", "001000000000", "Số 0, ngõ 5, Tây Hồ"])]
    assert last[0] == 120_000 and last[1][0] == "Nguyễn Thị Huệ 119999"


def test_a_windows_1258_byte_deep_in_the_file_makes_it_read_again_as_windows_1258(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    with path.open("wb") as fh:
        fh.write("Ho ten,Nam sinh\n".encode("ascii"))
        for i in range(30_000):
            fh.write(f"Le Van Tam {i},1970\n".encode("ascii"))
        fh.write("Lê Văn Tám,1970\n".encode("cp1258"))  # ê, ă: bytes that are not UTF-8
    progress: list[int] = []
    with path.open("rb") as fh:
        staged = files.stage(
            "late.csv", fh, tmp_path / "late.parquet", chunk_rows=5000, progress=progress.append
        )
    assert staged.encoding == "cp1258" and staged.rows == 30_001
    assert list(files.staged_rows(staged.path))[-1][-1] == (30_001, ["Lê Văn Tám", "1970"])
    assert progress[-1] == 100 and len(progress) > 2


def test_a_file_over_the_row_limit_is_refused_and_nothing_is_staged(tmp_path: Path) -> None:
    path = _csv(tmp_path / "big.csv", 1_200)
    out = tmp_path / "staged" / "big.parquet"
    with path.open("rb") as fh, pytest.raises(DomainValidationError) as err:
        files.stage("big.csv", fh, out, chunk_rows=100, max_rows=1_000)
    assert (err.value.problems[0].field, err.value.problems[0].rule) == ("file", "rows")
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_a_file_that_is_no_known_encoding_is_refused_naming_the_rule(tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    with pytest.raises(DomainValidationError) as err:
        files.stage("x.csv", io.BytesIO(b"Ho ten\n" + b"\x81\x8a\x8d" * 10), out)
    assert err.value.problems[0].rule == "encoding" and not out.exists()


def test_an_xlsx_sheet_is_streamed_and_its_merged_cells_are_refused(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Họ và tên", "Ngày sinh"])
    for i in range(3000):
        ws.append([f"Trần Văn Bình {i}", "02/09/1975"])
    buf = io.BytesIO()
    wb.save(buf)
    staged = files.stage("list.xlsx", io.BytesIO(buf.getvalue()), tmp_path / "a.parquet", chunk_rows=1000)
    assert (staged.kind, staged.rows, staged.columns) == ("xlsx", 3000, ["Họ và tên", "Ngày sinh"])

    ws.merge_cells("A2:B2")
    merged = io.BytesIO()
    wb.save(merged)
    with pytest.raises(DomainValidationError) as err:
        files.stage("list.xlsx", merged, tmp_path / "b.parquet")
    assert err.value.problems[0].rule == "merged_cells" and "A2:B2" in str(err.value)
    assert not (tmp_path / "b.parquet").exists()
