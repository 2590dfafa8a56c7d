"""Sector files in and out: CSV/XLSX reading with encoding detection, column-mapping guesses, and
exports with spreadsheet formula injection escaped.

Encodings tried, in order: a byte-order mark (UTF-8, UTF-16), strict UTF-8, then Windows-1258
(Vietnamese Windows) — the three that Vietnamese office files come in. A file that none decodes is
refused with the rule ``encoding``; nothing is half-imported.

Big files (issue 8: ten million rows) are **streamed**, never loaded whole: :func:`stage` reads a
CSV through an incremental decoder and ``csv.reader``, or an XLSX sheet through openpyxl's read-only
mode (merged cells found by a streaming parse of the sheet's XML), ``CHUNK_ROWS`` rows at a time,
and appends each chunk to a DuckDB table on disk, exported as Parquet when the file has been read
to its end. Memory is bounded by one chunk; the same encodings and errors apply (a file found not
to be UTF-8 deep into it is read again as Windows-1258; a problem anywhere leaves nothing staged).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dancu.blocks.linkage.normalise import stripped
from dancu.errors import DomainValidationError

FIELDS = ("full_name", "date_of_birth", "sex", "id_number", "address")
MAX_ROWS = 10_000_000
CHUNK_ROWS = 50_000
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


def read_table(name: str, content: bytes) -> Table:
    """Read a small CSV or XLSX file (first sheet) whole; the first non-empty row is the header.
    The same reader as :func:`stage` (the rows pass through a staging file)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        staged = stage(name, io.BytesIO(content), Path(tmp) / "rows.parquet")
        rows = [cells for batch in staged_rows(staged.path) for _, cells in batch]
    return Table(staged.kind, staged.encoding, staged.columns, rows)


# An XLSX is a zip: its sheets may inflate far beyond the upload (a "zip bomb"), and one cell at
# XFD1048576 makes every row 16,384 cells wide. Both are checked before the rows are read.
# (A sheet holds at most 1,048,576 rows — Excel's limit — which inflate to a few hundred MB.)
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024


# --------------------------------------------------------------------------- streaming
@dataclass
class StagedTable:
    """A file read to its end and staged as Parquet (``path``): its header and row count."""

    kind: str
    encoding: str
    columns: list[str]
    rows: int
    path: Path


def _csv_text_chunks(fh: BinaryIO, encoding: str, size: int = 1 << 20) -> Iterator[str]:
    """The file decoded ``size`` bytes at a time (strict: a bad byte raises UnicodeDecodeError)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    fh.seek(0)
    while block := fh.read(size):
        text = decoder.decode(block)
        if "\x00" in text:
            raise DomainValidationError.single("file", "format", "binary content: upload a CSV or XLSX file")
        yield text
    yield decoder.decode(b"", final=True)


class _Lines:
    """Text chunks as an iterator of lines (``csv.reader`` wants lines, newlines kept)."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self.chunks = chunks
        self.buffer = ""

    def __iter__(self) -> Iterator[str]:
        for chunk in self.chunks:
            self.buffer += chunk
            lines = self.buffer.splitlines(keepends=True)
            # the last line may continue in the next chunk (a lone CR too: it may be half a CRLF)
            self.buffer = lines.pop() if lines and not lines[-1].endswith("\n") else ""
            yield from lines
        if self.buffer:
            yield self.buffer


def _csv_encoding(fh: BinaryIO) -> list[str]:
    fh.seek(0)
    head = fh.read(4)
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return [name]
    return ["utf-8", "cp1258"]


def _csv_rows(fh: BinaryIO, encoding: str) -> Iterator[list[str]]:
    first = next(_csv_text_chunks(fh, encoding, 4096), "")
    try:
        dialect: Any = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for r in csv.reader(_Lines(_csv_text_chunks(fh, encoding)), dialect):
        yield [_cell(c) for c in r]


def _xlsx_merged(fh: BinaryIO, sheet: str) -> list[str]:
    """The merged ranges of a sheet, by a streaming parse of its XML (read-only openpyxl does not
    read them); elements are cleared as they pass, so memory stays small."""
    import zipfile
    from xml.etree.ElementTree import iterparse

    merged: list[str] = []
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf, zf.open(sheet) as xml:
        for _event, el in iterparse(xml, events=("end",)):  # noqa: S314 — expat: no external entities
            if el.tag.endswith("}mergeCell"):
                merged.append(el.get("ref", ""))
            el.clear()
    return merged


def _xlsx_sheet_path(fh: BinaryIO) -> str:
    import zipfile

    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        names = sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
    return names[0] if names else ""


def _xlsx_rows(fh: BinaryIO) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    fh.seek(0)
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DomainValidationError.single(
            "file", "format", f"not a readable XLSX file ({type(exc).__name__})"
        ) from None
    try:
        for r in wb.worksheets[0].iter_rows(values_only=True):
            yield [_cell(c) for c in r]
    finally:
        wb.close()


def _xlsx_dimension_problem(fh: BinaryIO) -> str:
    """The sheet's dimension as declared (read in openpyxl's streaming mode), when too wide."""
    from openpyxl import load_workbook

    fh.seek(0)
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows, cols = ws.max_row or 0, ws.max_column or 0
        wb.close()
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return f"not a readable XLSX file ({type(exc).__name__})"
    if cols > MAX_COLUMNS:
        return f"the sheet spans {rows} rows × {cols} columns (at most {MAX_COLUMNS} columns)"
    return ""


def _check_xlsx(fh: BinaryIO) -> None:
    import zipfile

    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        raise DomainValidationError.single(
            "file", "format", "not a readable XLSX file (BadZipFile)"
        ) from None
    if inflated > MAX_XLSX_UNCOMPRESSED:
        raise DomainValidationError.single(
            "file", "size", f"the workbook inflates to more than {MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} MB"
        )
    problem = _xlsx_dimension_problem(fh)
    if problem:
        raise DomainValidationError.single("file", "size", problem)
    sheet = _xlsx_sheet_path(fh)
    merged = _xlsx_merged(fh, sheet) if sheet else []
    if merged:
        raise DomainValidationError.single(
            "file", "merged_cells", f"the sheet has merged cells ({', '.join(merged[:3])}): unmerge them"
        )


def stage(
    name: str,
    fh: BinaryIO,
    out: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    max_rows: int = MAX_ROWS,
    progress: Callable[[int], None] | None = None,
) -> StagedTable:
    """Stream a CSV or XLSX file (a seekable binary file) into Parquet at ``out``, ``chunk_rows``
    rows at a time: columns ``row_no`` (1 = the first row after the header) and ``c0`` … ``cN``
    (text). ``progress`` gets the percentage of the file read. Refused whole (nothing left at
    ``out``) for the same reasons as :func:`read_table`."""
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    if not size:
        raise DomainValidationError.single("file", "empty", "the file is empty")
    head = fh.read(4)
    if head == b"PK\x03\x04":
        _check_xlsx(fh)
        return _stage_rows(lambda: _xlsx_rows(fh), "xlsx", "", fh, size, out, chunk_rows, max_rows, progress)
    if name.lower().endswith((".xlsx", ".xls")):
        raise DomainValidationError.single(
            "file", "format", "not a valid XLSX file (save it as .xlsx or CSV)"
        )
    encodings = _csv_encoding(fh)
    for encoding in encodings:
        try:
            return _stage_rows(
                lambda enc=encoding: _csv_rows(fh, enc),  # type: ignore[misc]
                "csv",
                encoding,
                fh,
                size,
                out,
                chunk_rows,
                max_rows,
                progress,
            )
        except UnicodeDecodeError:
            continue
    raise DomainValidationError.single(
        "file", "encoding", "the file is neither UTF-8, UTF-16 nor Windows-1258"
    )


def _stage_rows(
    rows: Callable[[], Iterator[list[str]]],
    kind: str,
    encoding: str,
    fh: BinaryIO,
    size: int,
    out: Path,
    chunk_rows: int,
    max_rows: int,
    progress: Callable[[int], None] | None,
) -> StagedTable:
    import tempfile

    import duckdb

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        con = duckdb.connect(str(Path(tmp) / "stage.duckdb"))
        try:
            con.execute("SET memory_limit = '512MB'")
            con.execute("SET enable_progress_bar = false")
            columns: list[str] = []
            count = 0
            chunk: list[list[str]] = []
            width = 0

            def flush() -> None:
                nonlocal chunk
                if chunk:
                    _append(con, chunk, width, count - len(chunk) + 1)
                    chunk = []
                    if progress:
                        progress(min(99, fh.tell() * 100 // size) if kind == "csv" else 0)

            for r in rows():
                if not any(r):
                    continue
                if not columns:
                    columns = _header(r)
                    width = len(columns)
                    con.execute(
                        "CREATE TABLE t (row_no BIGINT, "
                        + ", ".join(f"c{i} VARCHAR" for i in range(width))
                        + ")"
                    )
                    continue
                count += 1
                if count > max_rows:
                    raise DomainValidationError.single(
                        "file", "rows", f"more than {max_rows} rows: split the file"
                    )
                chunk.append((r + [""] * width)[:width])
                if len(chunk) >= chunk_rows:
                    flush()
            flush()
            if not columns:
                raise DomainValidationError.single("file", "empty", "the file has no rows")
            partial = Path(tmp) / "rows.parquet"
            target = str(partial).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM t ORDER BY row_no) TO '{target}' (FORMAT parquet)")  # noqa: S608
        finally:
            con.close()
        partial.replace(out)
    if progress:
        progress(100)
    return StagedTable(kind, encoding, columns, count, out)


def _header(row: list[str]) -> list[str]:
    if len(row) > MAX_COLUMNS:
        raise DomainValidationError.single("file", "columns", f"more than {MAX_COLUMNS} columns")
    columns = [h or f"column {i + 1}" for i, h in enumerate(row)]
    if len(set(columns)) != len(columns):
        raise DomainValidationError.single("file", "columns", "two columns have the same header")
    return columns


def _append(con: Any, chunk: list[list[str]], width: int, first_row_no: int) -> None:
    import pandas as pd

    frame = pd.DataFrame(chunk, columns=[f"c{i}" for i in range(width)], dtype=object)
    frame.insert(0, "row_no", range(first_row_no, first_row_no + len(chunk)))
    con.register("chunk", frame)
    con.execute("INSERT INTO t SELECT * FROM chunk")
    con.unregister("chunk")


def staged_rows(path: Path, *, batch: int = CHUNK_ROWS) -> Iterator[list[tuple[int, list[str]]]]:
    """The staged rows back, ``batch`` at a time: (row number, cells)."""
    import duckdb

    con = duckdb.connect()
    try:
        cur = con.execute("SELECT * FROM read_parquet(?) ORDER BY row_no", [str(path)])
        while rows := cur.fetchmany(batch):
            yield [(int(r[0]), [c or "" for c in r[1:]]) for r in rows]
    finally:
        con.close()


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
