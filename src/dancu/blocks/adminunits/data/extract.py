"""One-off extraction of the administrative-unit data files from the ``vietnam-provinces`` wheel.

The package (GPL-3.0-or-later; data from the General Statistics Office / National Statistics
Office, https://danhmuchanhchinh.nso.gov.vn/) needs Python >= 3.12, so it is not imported: its
generated modules are *parsed* with :mod:`ast` and only the literal data is read. No code of the
package is copied into dancu.

Usage (from the repository root)::

    pip download --no-deps --python-version 3.13 --only-binary=:all: \\
        vietnam-provinces==2026.9.0 -d /tmp/vp/new
    unzip -q /tmp/vp/new/vietnam_provinces-2026.9.0-py3-none-any.whl -d /tmp/vp/n
    .venv/bin/python src/dancu/blocks/adminunits/data/extract.py --source /tmp/vp/n/vietnam_provinces

Output (next to this script), all gzipped UTF-8 CSV with a header row, written reproducibly
(gzip mtime 0, rows sorted by code):

* ``provinces.csv.gz``         current provinces (34, Resolution 202/2025/QH15)
* ``wards.csv.gz``             current commune-level units (3,321)
* ``legacy_provinces.csv.gz``  the 63 provinces before 01/07/2025
* ``legacy_districts.csv.gz``  the districts before 01/07/2025
* ``legacy_wards.csv.gz``      the wards/communes/townships before 01/07/2025
* ``crosswalk.csv.gz``         legacy ward -> current ward(s), one row per pair
* ``manifest.json``            data version, counts and SHA-256 of each file

Codes: provinces 2 digits ("01" Hà Nội), legacy districts 3 digits, wards 5 digits. Legacy and
current codes are separate code lists: the same number may denote different units in the two.

Primary target of a split legacy ward (``is_primary``): the source (the statistics office's
conversion table) lists every (new ward, old ward) pair with a "partly merged" flag but names
no primary target, so exactly one primary is chosen per legacy ward by these rules, in order,
and the rule used is kept in ``primary_basis``:

1. ``sole``      the legacy ward went into one current ward only;
2. ``remainder`` exactly one pair is *not* flagged as partial by the source (the "phần còn lại",
   the remainder, in the wording of the resolutions on the arrangement);
3. ``name``      exactly one target bears the legacy ward's own name;
4. ``heuristic`` otherwise: the target named after the legacy district, then the target with the
   largest share of constituents from the same legacy district, then the one with the fewest
   constituents, then the lowest code. This is a guess and is reported as such by the resolver.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import hashlib
import io
import json
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent
SCHEMA_REVISION = "r1"
FIXES: list[str] = []  # source spellings corrected (type designator capitalisation), for the report

CURRENT_PROVINCE_TYPES = {"TINH": ("province", "Tỉnh "), "THANH_PHO_TRUNG_UONG": ("city", "Thành phố ")}
CURRENT_WARD_TYPES = {
    "PHUONG": ("ward", "Phường "),
    "XA": ("commune", "Xã "),
    "DAC_KHU": ("special_zone", "Đặc khu "),
}
LEGACY_DISTRICT_TYPES = {
    "QUAN": ("urban_district", "Quận "),
    "HUYEN": ("rural_district", "Huyện "),
    "THANH_PHO": ("provincial_city", "Thành phố "),
    "THI_XA": ("town", "Thị xã "),
}
LEGACY_WARD_TYPES = {
    "PHUONG": ("ward", "Phường "),
    "XA": ("commune", "Xã "),
    "THI_TRAN": ("township", "Thị trấn "),
}


# --------------------------------------------------------------------------- reading the wheel


def _module_assignments(path: Path) -> dict[str, ast.expr]:
    """Top-level ``NAME = <expr>`` / ``NAME: T = <expr>`` of a module, unevaluated."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            out[node.target.id] = node.value
    return out


def _literal(node: ast.expr) -> Any:
    """A literal view of a data expression: constants, ``Enum.MEMBER`` → "MEMBER", calls → tuples."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return (node.func.id, *(_literal(a) for a in node.args))
    raise ValueError(f"unexpected expression in data module: {ast.dump(node)[:200]}")


def _mapping(assignments: dict[str, ast.expr], name: str) -> dict[Any, Any]:
    node = assignments[name]
    if not isinstance(node, ast.Dict):
        raise ValueError(f"{name} is not a dict literal")
    return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}


def _enum_code(member: str, prefix: str) -> int:
    """``"P_01"`` → 1, ``"W_00004"`` → 4 (members of the package's code enums)."""
    if not member.startswith(prefix):
        raise ValueError(f"{member!r} does not start with {prefix!r}")
    return int(member[len(prefix) :])


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110").strip()


def _split_name(full_name: str, type_key: str, types: dict[str, tuple[str, str]]) -> tuple[str, str, str]:
    """("Phường Quảng An", "PHUONG") → ("Quảng An", "Phường Quảng An", "ward")."""
    slug, prefix = types[type_key]
    full = " ".join(_nfc(full_name).split())
    if not full.lower().startswith(prefix.lower()):
        raise ValueError(f"{full!r} does not start with its type designator {prefix!r}")
    name = full[len(prefix) :].strip()
    if not full.startswith(prefix):
        FIXES.append(f"{full!r} -> {prefix + name!r}")
    return name, prefix + name, slug


# --------------------------------------------------------------------------- building the tables


def extract(source: Path) -> dict[str, list[dict[str, str]]]:
    """Read the unpacked package at ``source`` and return the tables (lists of CSV rows)."""
    current = _module_assignments(source / "_lookup.py")
    legacy = _module_assignments(source / "legacy" / "_lookup.py")
    conversion = _module_assignments(source / "_ward_conversion_2025.py")
    province_conversion = _module_assignments(source / "_province_conversion_2025.py")

    provinces = []
    for key, (_cls, full_name, code, type_key, *_rest) in _mapping(current, "PROVINCE_MAPPING").items():
        assert key == _enum_code(code, "P_")
        name, full, slug = _split_name(full_name, type_key, CURRENT_PROVINCE_TYPES)
        provinces.append({"code": f"{key:02d}", "name": name, "full_name": full, "type": slug})

    wards = []
    for key, (_cls, full_name, code, type_key, _codename, province) in _mapping(
        current, "WARD_MAPPING"
    ).items():
        assert key == _enum_code(code, "W_")
        name, full, slug = _split_name(full_name, type_key, CURRENT_WARD_TYPES)
        wards.append(
            {
                "code": f"{key:05d}",
                "name": name,
                "full_name": full,
                "type": slug,
                "province_code": f"{_enum_code(province, 'P_'):02d}",
            }
        )

    successors = {
        old: tuple(f"{ref[1]:02d}" for ref in entry[2])
        for old, entry in _mapping(province_conversion, "OLD_TO_NEW").items()
    }
    legacy_provinces = []
    for key, (_cls, full_name, code, type_key, *_rest) in _mapping(legacy, "PROVINCE_MAPPING").items():
        assert key == _enum_code(code, "P_")
        name, full, slug = _split_name(full_name, type_key, CURRENT_PROVINCE_TYPES)
        legacy_provinces.append(
            {
                "code": f"{key:02d}",
                "name": name,
                "full_name": full,
                "type": slug,
                "successor_codes": " ".join(successors.get(key, ())),
            }
        )

    legacy_districts = []
    district_province: dict[int, str] = {}
    for key, (_cls, full_name, code, type_key, _codename, province) in _mapping(
        legacy, "DISTRICT_MAPPING"
    ).items():
        assert key == _enum_code(code, "D_")
        name, full, slug = _split_name(full_name, type_key, LEGACY_DISTRICT_TYPES)
        district_province[key] = f"{_enum_code(province, 'P_'):02d}"
        legacy_districts.append(
            {
                "code": f"{key:03d}",
                "name": name,
                "full_name": full,
                "type": slug,
                "province_code": district_province[key],
            }
        )

    legacy_wards = []
    for key, (_cls, full_name, code, type_key, _codename, district) in _mapping(
        legacy, "WARD_MAPPING"
    ).items():
        assert key == _enum_code(code, "W_")
        name, full, slug = _split_name(full_name, type_key, LEGACY_WARD_TYPES)
        district_code = _enum_code(district, "D_")
        legacy_wards.append(
            {
                "code": f"{key:05d}",
                "name": name,
                "full_name": full,
                "type": slug,
                "district_code": f"{district_code:03d}",
                "province_code": district_province[district_code],
            }
        )

    crosswalk = _crosswalk(conversion, legacy_wards, legacy_districts, wards)
    return {
        "provinces": sorted(provinces, key=lambda r: r["code"]),
        "wards": sorted(wards, key=lambda r: r["code"]),
        "legacy_provinces": sorted(legacy_provinces, key=lambda r: r["code"]),
        "legacy_districts": sorted(legacy_districts, key=lambda r: r["code"]),
        "legacy_wards": sorted(legacy_wards, key=lambda r: r["code"]),
        "crosswalk": crosswalk,
    }


def _crosswalk(
    conversion: dict[str, ast.expr],
    legacy_wards: list[dict[str, str]],
    legacy_districts: list[dict[str, str]],
    wards: list[dict[str, str]],
) -> list[dict[str, str]]:
    """One row per (legacy ward, current ward) pair, with the source's partial flag and a primary."""
    old_to_new = _mapping(conversion, "OLD_TO_NEW")
    new_to_old = _mapping(conversion, "NEW_TO_OLD")
    legacy_by_code = {int(r["code"]): r for r in legacy_wards}
    district_name = {int(r["code"]): r["name"] for r in legacy_districts}
    ward_by_code = {int(r["code"]): r for r in wards}

    # Per-pair "partly merged" flag and the constituents of each new ward (from NEW_TO_OLD).
    partial: dict[tuple[int, int], bool] = {}
    constituents: dict[int, list[tuple[int, int]]] = defaultdict(list)  # new -> [(old, old district)]
    for new_code, (_cls, _new_ref, old_refs) in new_to_old.items():
        for _ocls, old_code, old_district, _old_province, is_partly in old_refs:
            partial[(old_code, new_code)] = bool(is_partly)
            constituents[new_code].append((old_code, old_district))

    rows: list[dict[str, str]] = []
    for old_code, (_cls, old_ref, new_refs) in old_to_new.items():
        if old_code not in legacy_by_code:
            continue  # a code created after the legacy list was frozen: no name, reported in PROVENANCE
        old_district = old_ref[2]
        targets = [ref[1] for ref in new_refs]
        for t in targets:
            if t not in ward_by_code:
                raise ValueError(f"crosswalk target {t} is not a current ward")
        primary, basis = _choose_primary(
            old_code,
            old_district,
            targets,
            partial,
            constituents,
            legacy_by_code,
            district_name,
            ward_by_code,
        )
        for order, t in enumerate(targets):
            rows.append(
                {
                    "legacy_ward_code": f"{old_code:05d}",
                    "ward_code": f"{t:05d}",
                    "is_partial": "1" if partial.get((old_code, t), len(targets) > 1) else "0",
                    "is_primary": "1" if t == primary else "0",
                    "primary_basis": basis if t == primary else "",
                    "source_order": str(order),
                }
            )
    rows.sort(key=lambda r: (r["legacy_ward_code"], int(r["source_order"])))
    return rows


def _choose_primary(
    old_code: int,
    old_district: int,
    targets: Sequence[int],
    partial: dict[tuple[int, int], bool],
    constituents: dict[int, list[tuple[int, int]]],
    legacy_by_code: dict[int, dict[str, str]],
    district_name: dict[int, str],
    ward_by_code: dict[int, dict[str, str]],
) -> tuple[int, str]:
    """The primary current ward of a legacy ward and the rule that chose it (see module docstring)."""
    if len(targets) == 1:
        return targets[0], "sole"
    whole = [t for t in targets if not partial.get((old_code, t), True)]
    if len(whole) == 1:
        return whole[0], "remainder"
    pool = whole or list(targets)
    own_name = legacy_by_code[old_code]["name"]
    named = [t for t in pool if ward_by_code[t]["name"] == own_name]
    if len(named) == 1:
        return named[0], "name"

    def rank(t: int) -> tuple[bool, float, int, int]:
        members = constituents.get(t, [])
        same_district = sum(1 for _o, d in members if d == old_district) / max(len(members), 1)
        return (
            ward_by_code[t]["name"] == district_name.get(old_district),
            round(same_district, 2),
            -len(members),
            -t,
        )

    return max(pool, key=rank), "heuristic"


# --------------------------------------------------------------------------- writing


def _csv_gz_bytes(rows: Iterable[dict[str, str]], fields: Sequence[str]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return raw.getvalue()


def write(
    tables: dict[str, list[dict[str, str]]], out_dir: Path, package_version: str, data_date: str
) -> dict[str, Any]:
    """Write the gzipped CSV files and ``manifest.json``; return the manifest."""
    files: dict[str, Any] = {}
    for name, rows in tables.items():
        fields = list(rows[0].keys())
        payload = _csv_gz_bytes(rows, fields)
        filename = f"{name}.csv.gz"
        (out_dir / filename).write_bytes(payload)
        files[name] = {
            "file": filename,
            "rows": len(rows),
            "columns": fields,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "bytes": len(payload),
        }
    manifest = {
        "version": f"vietnam-provinces-{package_version}/{SCHEMA_REVISION}",
        "source_package": "vietnam-provinces",
        "source_version": package_version,
        "source_data_date": data_date,
        "licence": "GPL-3.0-or-later",
        "effective_date": "2025-07-01",
        "files": files,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return manifest


def _package_versions(source: Path) -> tuple[str, str]:
    init = _module_assignments(source / "__init__.py")
    return str(_literal(init["__version__"])), str(_literal(init["__data_version__"]))


def report(tables: dict[str, list[dict[str, str]]], source: Path) -> list[str]:
    """Human-readable counts and the records the extraction had to leave out."""
    lines = []
    for name, rows in tables.items():
        lines.append(f"{name}: {len(rows)} rows")
    wards = tables["wards"]
    hanoi = [w for w in wards if w["province_code"] == "01"]
    by_type: dict[str, int] = defaultdict(int)
    for w in hanoi:
        by_type[w["type"]] += 1
    lines.append(f"Hà Nội (01) current units: {len(hanoi)} {dict(sorted(by_type.items()))}")
    all_types: dict[str, int] = defaultdict(int)
    for w in wards:
        all_types[w["type"]] += 1
    lines.append(f"current units by type: {dict(sorted(all_types.items()))}")
    crossed = {r["legacy_ward_code"] for r in tables["crosswalk"]}
    missing = [w for w in tables["legacy_wards"] if w["code"] not in crossed]
    lines.append(
        "legacy wards without a crosswalk row: "
        + str(len(missing))
        + " ("
        + ", ".join(f"{w['code']} {w['full_name']}" for w in missing)
        + ")"
    )
    conversion = _module_assignments(source / "_ward_conversion_2025.py")
    legacy_codes = {int(w["code"]) for w in tables["legacy_wards"]}
    unnamed = sorted(c for c in _mapping(conversion, "OLD_TO_NEW") if c not in legacy_codes)
    lines.append(
        f"conversion-table old codes absent from the legacy list (dropped): {len(unnamed)} "
        f"({', '.join(f'{c:05d}' for c in unnamed)})"
    )
    targets = {r["ward_code"] for r in tables["crosswalk"]}
    no_source = [w for w in wards if w["code"] not in targets]
    lines.append(
        "current units with no legacy constituent: "
        + ", ".join(f"{w['code']} {w['full_name']}" for w in no_source)
    )
    basis: dict[str, int] = defaultdict(int)
    for r in tables["crosswalk"]:
        if r["is_primary"] == "1":
            basis[r["primary_basis"]] += 1
    lines.append(f"primary basis per legacy ward: {dict(sorted(basis.items()))}")
    lines.append(f"designator spellings corrected: {len(FIXES)} ({'; '.join(FIXES)})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--source", type=Path, required=True, help="the unpacked package directory (…/vietnam_provinces)"
    )
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    version, data_date = _package_versions(args.source)
    tables = extract(args.source)
    manifest = write(tables, args.out, version, data_date)
    for line in report(tables, args.source):
        print(line)
    total = sum(f["bytes"] for f in manifest["files"].values())
    print(f"version {manifest['version']}, {total} bytes in {len(manifest['files'])} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
