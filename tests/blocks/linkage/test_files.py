"""Sector files in and out: encodings, header guesses, and exports that a spreadsheet never runs as
formulas (OWASP CSV injection: cells starting with =, +, -, @, tab or CR)."""

from __future__ import annotations

import csv
import io
import json

from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from dancu.blocks.linkage.files import DANGEROUS_PREFIXES, escape_cell, guess_mapping, read_table, write_csv


@given(st.text(max_size=30))
def test_an_escaped_cell_never_starts_a_formula_and_keeps_its_text(text: str) -> None:
    escaped = escape_cell(text)
    assert not escaped.startswith(DANGEROUS_PREFIXES)
    assert escaped in (text, "'" + text)


@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8), min_size=2, max_size=2
        ),
        max_size=5,
    )
)
def test_a_written_csv_reads_back_escaped(rows: list[list[str]]) -> None:
    content = write_csv(["a", "b"], rows)
    back = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert back[1:] == [[escape_cell(c) for c in r] for r in rows]


def test_headers_of_vietnamese_files_are_recognised() -> None:
    cols = ["STT", "HỌ VÀ TÊN", "Ngày sinh", "Giới tính", "Số định danh", "Nơi thường trú"]
    assert guess_mapping(cols) == {
        "full_name": "HỌ VÀ TÊN",
        "date_of_birth": "Ngày sinh",
        "sex": "Giới tính",
        "id_number": "Số định danh",
        "address": "Nơi thường trú",
    }


def test_utf16_with_a_bom_and_semicolons_are_read() -> None:
    table = read_table("list.csv", "\ufeffHọ tên;Năm sinh\nLê Văn Tám;1970\n".encode("utf-16-le"))
    assert (table.encoding, table.columns, table.rows) == (
        "utf-16",
        ["Họ tên", "Năm sinh"],
        [["Lê Văn Tám", "1970"]],
    )


def test_the_evaluate_command_reports_the_pipeline_and_the_baseline() -> None:
    out = io.StringIO()
    call_command("linkage", "evaluate", "--records", "200", "--citizens", "800", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["records"] == 200 and result["pipeline"]["f1"] > result["exact_id_baseline"]["f1"]


def test_a_sheet_declaring_a_far_cell_is_refused_before_it_is_loaded() -> None:
    """One value at XFD1048576 would make the fully loaded sheet enormous: the declared dimension is
    checked in streaming mode first, and the upload is refused naming the limit."""
    import io

    import pytest
    from openpyxl import Workbook

    from dancu.blocks.linkage.files import read_table
    from dancu.errors import DomainValidationError

    wb = Workbook()
    ws = wb.active
    ws["A1"] = "ho_ten"
    ws["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(DomainValidationError) as err:
        read_table("list.xlsx", buf.getvalue())
    assert err.value.as_details()[0]["rule"] == "size"
