"""Sector files in and out: CSV/XLSX reading with encoding detection, column-mapping guesses, and
exports with spreadsheet formula injection escaped.

Encodings tried, in order: a byte-order mark (UTF-8, UTF-16), strict UTF-8, then Windows-1258
(Vietnamese Windows) — the three that Vietnamese office files come in. A file that none decodes is
refused with the rule ``encoding``; nothing is half-imported.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from dancu.blocks.linkage.normalise import stripped
from dancu.errors import DomainValidationError

FIELDS = ("full_name", "date_of_birth", "sex", "id_number", "address")
MAX_ROWS = 200_000
MAX_COLUMNS = 200
# Folded header words that name each canonical field in Vietnamese and English files.
HEADER_HINTS: dict[str, tuple[str, ...]] = {
    "full_name": ("ho va ten", "ho ten", "ten", "full name", "name"),
    "date_of_birth": ("ngay sinh", "ngay thang nam sinh", "nam sinh", "date of birth", "dob"),
    "sex": ("gioi tinh", "gioi", "sex", "gender"),
    "id_number": (
        "so dinh danh",
        "so cccd",
        "cccd",
        "so cmnd",
        "cmnd",
        "cmnd/cccd",
        "so cccd/cmnd",
        "cccd/cmnd",
        "so giay to",
        "id number",
    ),
    "address": ("dia chi", "noi thuong tru", "thuong tru", "noi o", "address"),
}


@dataclass
class Table:
    kind: str
    encoding: str
    columns: list[str]
    rows: list[list[str]]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return unicodedata.normalize("NFC", str(value)).strip()


def decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding that decoded it."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if content.startswith(bom):
            return content.decode(name), name
    for name in ("utf-8", "cp1258"):
        try:
            return content.decode(name), name
        except UnicodeDecodeError:
            continue
    raise DomainValidationError.single(
        "file", "encoding", "the file is neither UTF-8, UTF-16 nor Windows-1258"
    )


def read_table(name: str, content: bytes) -> Table:
    """Read a CSV or XLSX file (first sheet); the first non-empty row is the header."""
    if not content:
        raise DomainValidationError.single("file", "empty", "the file is empty")
    if content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    if name.lower().endswith((".xlsx", ".xls")):
        raise DomainValidationError.single(
            "file", "format", "not a valid XLSX file (save it as .xlsx or CSV)"
        )
    text, encoding = decode(content)
    if "\x00" in text:
        raise DomainValidationError.single("file", "format", "binary content: upload a CSV or XLSX file")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[_cell(c) for c in r] for r in csv.reader(io.StringIO(text), dialect)]
    return _table("csv", encoding, rows)


# An XLSX is a zip: its sheets may inflate far beyond the upload (a "zip bomb"), and one cell at
# XFD1048576 makes a fully loaded sheet enormous. Both are checked before the workbook is loaded.
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024


def _xlsx_size_problem(content: bytes) -> str:
    """Why this XLSX must not be loaded whole ("" when it may): its uncompressed size, or the
    sheet's dimension as declared (read in openpyxl's streaming mode)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        return "not a readable XLSX file (BadZipFile)"
    if inflated > MAX_XLSX_UNCOMPRESSED:
        return f"the workbook inflates to more than {MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} MB"
    try:
        ws = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        rows, cols = ws.max_row or 0, ws.max_column or 0
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return f"not a readable XLSX file ({type(exc).__name__})"
    if rows - 1 > MAX_ROWS or cols > MAX_COLUMNS:
        return (
            f"the sheet spans {rows} rows × {cols} columns (at most {MAX_ROWS} rows, {MAX_COLUMNS} columns)"
        )
    return ""


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    problem = _xlsx_size_problem(content)
    if problem:
        raise DomainValidationError.single("file", "size", problem)
    try:
        wb = load_workbook(io.BytesIO(content), read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DomainValidationError.single(
            "file", "format", f"not a readable XLSX file ({type(exc).__name__})"
        ) from None
    ws = wb.worksheets[0]
    merged = sorted(str(r.coord) for r in ws.merged_cells.ranges)
    if merged:
        raise DomainValidationError.single(
            "file", "merged_cells", f"the sheet has merged cells ({', '.join(merged[:3])}): unmerge them"
        )
    rows = [[_cell(c) for c in r] for r in ws.iter_rows(values_only=True)]
    return _table("xlsx", "", rows)


def _table(kind: str, encoding: str, rows: list[list[str]]) -> Table:
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        raise DomainValidationError.single("file", "empty", "the file has no rows")
    header = rows[0]
    if len(header) > MAX_COLUMNS:
        raise DomainValidationError.single("file", "columns", f"more than {MAX_COLUMNS} columns")
    if len(rows) - 1 > MAX_ROWS:
        raise DomainValidationError.single("file", "rows", f"more than {MAX_ROWS} rows: split the file")
    columns = [h or f"column {i + 1}" for i, h in enumerate(header)]
    if len(set(columns)) != len(columns):
        raise DomainValidationError.single("file", "columns", "two columns have the same header")
    width = len(columns)
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    return Table(kind, encoding, columns, body)


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Canonical field → column, from the headers' folded words (exact hints first)."""
    folded = {c: " ".join(stripped(c).replace("_", " ").split()) for c in columns}
    mapping: dict[str, str] = {}
    for field_name, hints in HEADER_HINTS.items():
        for hint in hints:
            hit = next((c for c, f in folded.items() if f == hint and c not in mapping.values()), None)
            if hit:
                mapping[field_name] = hit
                break
    return mapping


# --------------------------------------------------------------------------- exports
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> str:
    """A cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first)
    is prefixed with an apostrophe (OWASP "CSV injection")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def write_csv(header: list[str], rows: Iterable[list[object]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens it with the right encoding)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([escape_cell(h) for h in header])
    for r in rows:
        w.writerow([escape_cell(c) for c in r])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def write_xlsx(sheets: dict[str, tuple[list[str], Iterable[list[object]]]]) -> bytes:
    """One sheet per entry; every cell written as escaped text (never a formula)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, (header, rows) in sheets.items():
        ws = wb.create_sheet(title[:31])
        ws.append([escape_cell(h) for h in header])
        for r in rows:
            ws.append([escape_cell(c) for c in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
