"""Compile the translation catalogues (``*.po`` → ``*.mo``) without GNU gettext.

Django reads ``.mo`` files; ``manage.py compilemessages`` needs ``msgfmt`` from GNU gettext,
which is not always installed, so the catalogues are compiled with ``polib`` (a development
dependency) and the ``.mo`` files are committed. ``tests/apps/web/test_translations.py`` fails
when a committed ``.mo`` differs from what its ``.po`` compiles to.

Usage: ``python src/dancu/locale/compile.py`` (or ``--check`` to only report stale files).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent
# Applications may keep their own catalogue (Django reads ``<app>/locale`` after LOCALE_PATHS).
APPS_DIR = LOCALE_DIR.parent / "apps"


def catalogues(locale_dir: Path | None = None) -> list[Path]:
    """Every ``.po`` file (``<lang>/LC_MESSAGES/<domain>.po``) under ``locale_dir``, or by default
    under the project's catalogue and every application's ``locale/``."""
    dirs = [locale_dir] if locale_dir is not None else [LOCALE_DIR, *sorted(APPS_DIR.glob("*/locale"))]
    return sorted(po for d in dirs for po in d.glob("*/LC_MESSAGES/*.po"))


def compile_catalogue(po_path: Path) -> bytes:
    """The ``.mo`` bytes for ``po_path``: translated, non-fuzzy entries, sorted as msgfmt does."""
    import polib

    return bytes(polib.pofile(str(po_path), encoding="utf-8").to_binary())


def stale(locale_dir: Path | None = None) -> list[Path]:
    """The ``.mo`` files that are missing or differ from their compiled ``.po``."""
    out = []
    for po in catalogues(locale_dir):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compile_catalogue(po):
            out.append(mo)
    return out


def main(argv: list[str] | None = None) -> int:
    """Compile every catalogue (exit 0), or with ``--check`` exit 1 when one is stale."""
    parser = argparse.ArgumentParser(description="Compile the translation catalogues with polib.")
    parser.add_argument("--check", action="store_true", help="only report stale .mo files")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for mo in out_of_date:
            print(f"stale: {mo.relative_to(LOCALE_DIR.parent)}", file=sys.stderr)
        return 1 if out_of_date else 0
    for po in catalogues():
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_catalogue(po))
        print(f"compiled {po.relative_to(LOCALE_DIR.parent)} -> {mo.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
