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


# An XLSX is a zip: its parts may inflate far beyond the upload (a "zip bomb"), and one cell at
# XFD1048576 makes every row 16,384 cells wide. Both are checked before the rows are read. The
# first sheet is streamed, but openpyxl reads every other part it uses (``sharedStrings.xml``,
# styles, the workbook) whole, so each of those is capped on its own. The whole workbook may
# inflate to at most ``XLSX_INFLATE_RATIO`` times the upload (a sheet's XML compresses 5–20×)
# and never beyond ``MAX_XLSX_UNCOMPRESSED`` (Excel's 1,048,576 rows of a sector file's few
# columns inflate to a few hundred MB).
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_PART = 64 * 1024 * 1024
XLSX_INFLATE_RATIO = 100
MIN_XLSX_INFLATED = 16 * 1024 * 1024  # a small workbook's styles and theme may inflate this far
# A CSV line longer than this (no line break within a MiB) is refused: no sector row is that long,
# and the reader must not buffer an unbounded "line".
MAX_LINE_CHARS = 1 << 20


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
    """Text chunks as an iterator of lines (``csv.reader`` wants lines, newlines kept). Only the
    new chunk is searched for the last line end (linear time); a pending line longer than
    ``max_line`` characters is refused (rule ``format``) rather than buffered without end."""

    def __init__(self, chunks: Iterator[str], max_line: int = MAX_LINE_CHARS) -> None:
        self.chunks = chunks
        self.max_line = max_line

    def __iter__(self) -> Iterator[str]:
        pending: list[str] = []
        pending_len = 0
        for chunk in self.chunks:
            end = len(chunk)
            # the last line may continue in the next chunk (a final CR too: it may be half a CRLF)
            if chunk.endswith("\r"):
                end -= 1
            cut = max(chunk.rfind("\n", 0, end), chunk.rfind("\r", 0, end))
            if cut < 0:
                pending.append(chunk)
                pending_len += len(chunk)
            else:
                yield from "".join([*pending, chunk[: cut + 1]]).splitlines(keepends=True)
                rest = chunk[cut + 1 :]
                pending, pending_len = [rest], len(rest)
            if pending_len > self.max_line:
                raise DomainValidationError.single(
                    "file", "format", f"a line longer than {self.max_line} characters: is this a CSV file?"
                )
        if pending_len:
            yield "".join(pending)


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


def _csv_rows(fh: BinaryIO, encoding: str, max_line: int = MAX_LINE_CHARS) -> Iterator[list[str]]:
    first = next(_csv_text_chunks(fh, encoding, 4096), "")
    try:
        dialect: Any = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(_Lines(_csv_text_chunks(fh, encoding), max_line), dialect)
    while True:
        try:
            r = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (128 KiB)
            raise DomainValidationError.single(
                "file", "format", f"line {reader.line_num}: not readable as CSV ({exc})"
            ) from None
        yield [_cell(c) for c in r]


def _xlsx_merged(zf: Any, sheet: str) -> list[str]:
    """The merged ranges of a sheet, by a streaming parse of its XML (read-only openpyxl does not
    read them); elements are cleared as they pass, so memory stays small."""
    from xml.etree.ElementTree import iterparse

    merged: list[str] = []
    with zf.open(sheet) as xml:
        for _event, el in iterparse(xml, events=("end",)):  # noqa: S314 — expat: no external entities
            if el.tag.endswith("}mergeCell"):
                merged.append(el.get("ref", ""))
            el.clear()
    return merged


_WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _xlsx_sheet_path(zf: Any) -> str:
    """The part of the workbook's first worksheet — the one openpyxl's ``worksheets[0]`` reads:
    the first ``<sheet>`` of ``xl/workbook.xml`` whose relationship (``xl/_rels/workbook.xml.rels``)
    is a worksheet (ECMA-376 Part 1 §18.2.19, Part 2 §9.3). Both parts are size-checked before."""
    import posixpath
    from xml.etree.ElementTree import fromstring

    try:
        rels = fromstring(zf.read("xl/_rels/workbook.xml.rels"))  # noqa: S314 — expat, capped part
        book = fromstring(zf.read("xl/workbook.xml"))  # noqa: S314 — expat, capped part
    except (KeyError, SyntaxError):
        return ""
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in rels
        if r.tag.endswith("}Relationship") and r.get("Type") == _WORKSHEET_REL
    }
    for el in book.iter():
        if el.tag.endswith("}sheet") and el.get(_REL_ID) in targets:
            target = targets[el.get(_REL_ID)]
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            return posixpath.normpath(path)
    return ""


def _xlsx_rows(fh: BinaryIO) -> Iterator[list[str]]:
    """The first worksheet's rows, the workbook opened once (streaming): a declared width over
    ``MAX_COLUMNS`` is refused before any row is read, a damaged row with the rule ``format``."""
    from openpyxl import load_workbook

    fh.seek(0)
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows, cols = ws.max_row or 0, ws.max_column or 0
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DomainValidationError.single(
            "file", "format", f"not a readable XLSX file ({type(exc).__name__})"
        ) from None
    try:
        if cols > MAX_COLUMNS:
            raise DomainValidationError.single(
                "file",
                "size",
                f"the sheet spans {rows} rows × {cols} columns (at most {MAX_COLUMNS} columns)",
            )
        n = 0
        try:
            for n, r in enumerate(ws.iter_rows(values_only=True), start=1):  # noqa: B007
                yield [_cell(c) for c in r]
        except Exception as exc:  # openpyxl raises many kinds for a damaged sheet
            raise DomainValidationError.single(
                "file", "format", f"row {n + 1}: not a readable XLSX row ({type(exc).__name__})"
            ) from None
    finally:
        wb.close()


def _check_xlsx(
    fh: BinaryIO, size: int, max_inflated: int | None = None, max_part: int = MAX_XLSX_PART
) -> None:
    """Zip-bomb and layout checks before any row is read: the whole workbook inflates to at most
    ``max_inflated`` bytes (default: ``XLSX_INFLATE_RATIO`` × the upload, at least
    ``MIN_XLSX_INFLATED`` and at most
    ``MAX_XLSX_UNCOMPRESSED``), every part but the first sheet (read whole by openpyxl, e.g.
    ``xl/sharedStrings.xml``) to at most ``max_part``; the first sheet has no merged cells.
    (Python's zipfile never inflates a member beyond its declared size.)"""
    import zipfile

    if max_inflated is None:
        max_inflated = min(MAX_XLSX_UNCOMPRESSED, max(XLSX_INFLATE_RATIO * size, MIN_XLSX_INFLATED))
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            inflated = sum(info.file_size for info in infos)
            if inflated > max_inflated:
                raise DomainValidationError.single(
                    "file", "size", f"the workbook inflates to more than {max_inflated} bytes"
                )
            big = [i.filename for i in infos if i.file_size > max_part]
            if any(name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels") for name in big):
                raise DomainValidationError.single(
                    "file", "size", f"{big[0]} inflates to more than {max_part} bytes"
                )
            sheet = _xlsx_sheet_path(zf)
            big = [name for name in big if name != sheet]
            if big:
                raise DomainValidationError.single(
                    "file", "size", f"{big[0]} inflates to more than {max_part} bytes"
                )
            merged = _xlsx_merged(zf, sheet) if sheet in zf.namelist() else []
    except (zipfile.BadZipFile, zipfile.LargeZipFile, SyntaxError) as exc:
        raise DomainValidationError.single(
            "file", "format", f"not a readable XLSX file ({type(exc).__name__})"
        ) from None
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
    max_line: int = MAX_LINE_CHARS,
    max_inflated: int | None = None,
    max_part: int = MAX_XLSX_PART,
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
        _check_xlsx(fh, size, max_inflated, max_part)
        return _stage_rows(lambda: _xlsx_rows(fh), "xlsx", "", fh, size, out, chunk_rows, max_rows, progress)
    if name.lower().endswith((".xlsx", ".xls")):
        raise DomainValidationError.single(
            "file", "format", "not a valid XLSX file (save it as .xlsx or CSV)"
        )
    encodings = _csv_encoding(fh)
    for encoding in encodings:
        try:
            return _stage_rows(
                lambda enc=encoding: _csv_rows(fh, enc, max_line),  # type: ignore[misc]
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
