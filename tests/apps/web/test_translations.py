"""The Vietnamese catalogue is complete and its committed .mo is compiled from the .po."""

from __future__ import annotations

import re
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


_TEMPLATE_TAG = re.compile(r'\{%\s*translate\s+"([^"]+)"')
# _("…"), gettext("…"), gettext_lazy("…"), with Python's adjacent literals joined
_CALL = re.compile(r'\b(?:_|gettext|gettext_lazy)\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)[,)]')


def _literals(text: str) -> list[str]:
    found = _TEMPLATE_TAG.findall(text)
    for group in _CALL.findall(text):
        found.append("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', group)).replace('\\"', '"'))
    return found


def test_every_string_marked_for_translation_in_an_application_is_in_a_catalogue() -> None:
    """A page is Vietnamese first: a string marked for translation that no catalogue holds is shown
    in English to everyone (the data-cleaning pages were, until 2026-12-02). ``blocktranslate``
    blocks are not read here (the catalogues' completeness test covers what makemessages found)."""
    known: set[str] = set()
    for po in locale_compile.catalogues():
        if po.parent.parent.name == "vi":
            known |= {e.msgid for e in polib.pofile(str(po)) if e.msgstr}
    missing = []
    for path in sorted(locale_compile.APPS_DIR.rglob("*")):
        if path.suffix not in (".html", ".py") or "migrations" in path.parts:
            continue
        for literal in _literals(path.read_text(encoding="utf-8")):
            if literal not in known:
                missing.append(f"{path.relative_to(locale_compile.APPS_DIR)}: {literal[:70]}")
    assert missing == [], "run makemessages -l vi in the application and translate"
