"""Migration operations shared by the apps' migrations.

:func:`sql_on` runs raw SQL on one database vendor only (e.g. triggers or partial indexes whose
predicate PostgreSQL accepts and SQLite's Django functions cannot stand in), and nothing on the
others: the model state is unchanged, so ``makemigrations --check`` sees nothing to do."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def sql_on(vendor: str, forward: str, backward: str) -> migrations.RunPython:
    """A ``RunPython`` that executes ``forward`` (``backward`` when unapplied) on ``vendor``
    (``connection.vendor``: ``"postgresql"``, ``"sqlite"``) and does nothing elsewhere."""

    def run(sql: str) -> Any:
        def apply(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == vendor:
                schema_editor.execute(sql)

        return apply

    return migrations.RunPython(run(forward), run(backward))
