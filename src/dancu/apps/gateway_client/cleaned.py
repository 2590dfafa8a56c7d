"""The rows of a finished cleaning job as the applications read them: the cleaned export of
``linkage.services.export`` (every original column, then the result, the ID number, method, score,
proposed corrections and flags), with the export's formula escape (a leading ``'``) undone."""

from __future__ import annotations

import csv
import io

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.linkage import services as linkage

RESULT, ID_NUMBER, METHOD, SCORE, CORRECTIONS, FLAGS = linkage.EXPORT_COLUMNS


def unescape(value: str | None) -> str:
    text = (value or "").strip()
    return text[1:] if text.startswith("'") else text


def cleaned_rows(ctx: AccessContext, job_id: int) -> list[dict[str, str]]:
    """Every row of the job's cleaned file, cells unescaped (the block checks the purpose and that
    the job is the caller's, and records the export)."""
    _, content = linkage.export(ctx, job_id, fmt="csv")
    return [
        {k: unescape(v) for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    ]
