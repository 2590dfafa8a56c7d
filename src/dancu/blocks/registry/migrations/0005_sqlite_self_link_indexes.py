"""SQLite only: partial indexes on the citizen's links to other citizens (father, mother, spouse).

Django declares these foreign keys ``DEFERRABLE INITIALLY DEFERRED``. While a transaction has a
pending deferred violation — a child loaded before the parent it names, as the synthetic loader's
chunks do — SQLite looks up, for every citizen inserted, the children that point at it, to clear
the violation (https://www.sqlite.org/foreignkeys.html §4.2). Without an index on the child columns
each look-up scans the table: the demo's 20,000 citizens took over ten minutes to load (2,000 took
6.2 s, 2,000 more on top 13 s; with these indexes 0.5 s). PostgreSQL keeps its lean schema (no
index: a COPY would maintain three more per row, ADR 0003); its batch deletion builds them for the
duration of the transaction instead (``synthpop.loader._pg_self_link_probes``).
"""

from typing import Any

from django.db import migrations

COLUMNS = ("father_id", "mother_id", "spouse_id")


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS citizen_{column}_link ON registry_citizen ({column}) "
            f"WHERE {column} IS NOT NULL"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS citizen_{column}_link")


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_parental_restriction_decision_and_lifting")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
