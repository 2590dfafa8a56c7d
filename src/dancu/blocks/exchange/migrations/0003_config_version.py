"""The gateway's configuration version and, on PostgreSQL, the triggers that bump it (ADR 0010 §13)."""

from typing import Any

from django.db import migrations, models

# Tables whose rows decide a route (who may call what): a write to any of them bumps the version.
_TABLES = (
    "exchange_member",
    "exchange_subsystem",
    "exchange_service",
    "exchange_grant",
    "organisations_organisation",
)


def _install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite runs the ORM path, which reads the configuration on every exchange
    schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS exchange_config_seq")
    schema_editor.execute(
        """
CREATE OR REPLACE FUNCTION exchange_config_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO exchange_configversion (id, version) VALUES (1, nextval('exchange_config_seq'))
    ON CONFLICT (id) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END $$"""
    )
    for table in _TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER exchange_config_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION exchange_config_bump()"
        )


def _remove(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS exchange_config_bump ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS exchange_config_bump()")
    schema_editor.execute("DROP SEQUENCE IF EXISTS exchange_config_seq")


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0002_refusal_tally"),
        ("organisations", "0002_establishment_kinds_and_api_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigVersion",
            fields=[
                ("id", models.SmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(_install, _remove),
    ]
