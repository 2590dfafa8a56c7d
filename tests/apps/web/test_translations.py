"""The Vietnamese catalogue is complete and its committed .mo is compiled from the .po."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib

from dancu.locale import compile as locale_compile

VI_PO = locale_compile.LOCALE_DIR / "vi" / "LC_MESSAGES" / "django.po"


def test_committed_mo_files_are_up_to_date_with_their_po() -> None:
    assert locale_compile.stale() == [], "run: python src/dancu/locale/compile.py"


def test_every_message_has_a_vietnamese_translation() -> None:
    vietnamese = [po for po in locale_compile.catalogues() if po.parent.parent.name == "vi"]
    assert VI_PO in vietnamese
    for po in vietnamese:  # the project's catalogue and every application's own
        catalogue = polib.pofile(str(po))
        assert catalogue.untranslated_entries() == [], po
        assert catalogue.fuzzy_entries() == [], po
        assert catalogue.metadata["Language"] == "vi", po


def test_a_changed_po_makes_the_mo_stale(tmp_path: Path) -> None:
    target = tmp_path / "vi" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(VI_PO, target / "django.po")
    shutil.copy(VI_PO.with_suffix(".mo"), target / "django.mo")
    assert locale_compile.stale(tmp_path) == []
    catalogue = polib.pofile(str(target / "django.po"))
    catalogue.translated_entries()[0].msgstr += " (đã sửa)"
    catalogue.save()
    assert locale_compile.stale(tmp_path) == [target / "django.mo"]
