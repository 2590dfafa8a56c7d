"""Documents a citizen attaches to a dossier — the last resort (issue 7; docs/public-services.md).

Checked on the server, never trusted from the browser: the type by the file's magic bytes (PDF,
JPEG or PNG; the name and the browser's content type are ignored), a size limit
(``DANCU_PUBLIC_SERVICES_UPLOAD_MAX_BYTES``), the shown name sanitised. Stored outside the web
root (``DANCU_PUBLIC_SERVICES_UPLOAD_DIR``, default ``var/uploads``) under a random name that
says nothing about the citizen; the dossier item records the name, size, type and SHA-256 so
the official can tell the file is the one submitted (Decree 45/2020/NĐ-CP Art. 11: the
electronic dossier's components are kept unaltered).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from dancu.apps.public_services.catalogue import Item
from dancu.errors import DomainValidationError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# (content type, magic bytes at offset 0, stored suffix)
MAGIC = (
    ("application/pdf", b"%PDF-", ".pdf"),
    ("image/png", b"\x89PNG\r\n\x1a\n", ".png"),
    ("image/jpeg", b"\xff\xd8\xff", ".jpg"),
)
_STORED_CHARS = frozenset("0123456789abcdef.jpgnd")


class Uploaded(Protocol):
    name: str | None
    size: int | None

    def read(self, size: int = -1) -> bytes: ...


def upload_dir() -> Path:
    configured = getattr(settings, "DANCU_PUBLIC_SERVICES_UPLOAD_DIR", "")
    return Path(configured) if configured else Path(settings.BASE_DIR) / "var" / "uploads"


def max_bytes() -> int:
    return int(getattr(settings, "DANCU_PUBLIC_SERVICES_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def clean_name(name: str) -> str:
    """The name shown to the official: its last path part, NFC, no control or path characters,
    at most 100 characters (never used on disk)."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    kept = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C" and ch not in '<>:"|?*')
    return kept.strip(" .")[:100] or "tai-lieu"


def check(item: Item, upload: Uploaded) -> tuple[bytes, str, str]:
    """The file's bytes, content type and stored suffix; ``DomainValidationError`` naming the field."""
    limit = max_bytes()
    data = b"" if (upload.size or 0) > limit else upload.read(limit + 1)
    if (upload.size or 0) > limit or len(data) > limit:
        raise DomainValidationError.single(
            item.key, "max_size", f"«{item.label_vi}»: tệp quá lớn (tối đa {limit // (1024 * 1024)} MB)"
        )
    if not data:
        raise DomainValidationError.single(item.key, "empty", f"«{item.label_vi}»: tệp rỗng")
    for content_type, magic, suffix in MAGIC:
        if data.startswith(magic):
            return data, content_type, suffix
    raise DomainValidationError.single(
        item.key, "file_type", f"«{item.label_vi}»: chỉ nhận tệp PDF, JPEG hoặc PNG"
    )


def store(item: Item, upload: Uploaded) -> dict[str, Any]:
    """Check and write one file; the dossier item's entry (``source`` ``upload``)."""
    data, content_type, suffix = check(item, upload)
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored = secrets.token_hex(16) + suffix
    fd = os.open(folder / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return {
        "value": clean_name(upload.name or ""),
        "source": "upload",
        "file": {
            "stored": stored,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content_type": content_type,
        },
    }


def _path(entry: dict[str, Any]) -> Path:
    stored = str(entry.get("file", {}).get("stored", ""))
    if not stored or not set(stored) <= _STORED_CHARS or stored.startswith("."):
        raise FileNotFoundError("not a stored upload")
    return upload_dir() / stored


def read(entry: dict[str, Any]) -> bytes:
    """The stored bytes, checked against the SHA-256 recorded at submission."""
    data = _path(entry).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["file"]["sha256"]:
        raise FileNotFoundError("the stored file does not match its recorded SHA-256")
    return data


def discard(entries: list[dict[str, Any]]) -> None:
    """Remove files written for a submission that did not commit."""
    for entry in entries:
        with contextlib.suppress(FileNotFoundError):
            _path(entry).unlink(missing_ok=True)


def stored_names(entry: dict[str, Any]) -> list[str]:
    """The stored files an upload entry refers to: the current document and the earlier ones it
    replaced (kept for the record, ``previous``)."""
    names = [str(e.get("file", {}).get("stored", "")) for e in (entry, *entry.get("previous", ()))]
    return [n for n in names if n]


def sweep(referenced: Iterable[str], older_than_seconds: float, now: float | None = None) -> list[str]:
    """Remove the stored files no dossier refers to that are older than ``older_than_seconds``;
    the names removed.

    A submission writes its documents *before* its transaction commits (so a committed dossier
    never refers to a missing file); a process killed between the two leaves a file no row refers
    to — an orphan, holding a citizen's document for no dossier. The grace period spares the files
    of submissions still in flight (a request lives seconds; the default is a day)."""
    folder = upload_dir()
    if not folder.is_dir():
        return []
    keep = set(referenced)
    limit = (time.time() if now is None else now) - older_than_seconds
    removed = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name in keep or not set(name) <= _STORED_CHARS or name.startswith(".") or not path.is_file():
            continue
        if path.stat().st_mtime > limit:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(name)
    return removed
