"""Set-up shared by the benchmarks that start the platform against a PostgreSQL database of their own
(``oidc_bench.py``, ``public_services_bench.py``): create the database if missing, then configure
Django for it, migrate it and load the administrative units. Imported as ``from _setup import …``
(the scripts' folder is on ``sys.path`` when they run)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def create_database(server: str, name: str) -> None:
    """``CREATE DATABASE name`` on ``server`` unless it exists (name from the command line of the
    benchmark, quoted as an identifier)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start_django(url: str, secret: str, **env: str) -> None:
    """Production settings (``dancu.settings``) on ``url`` with ``secret`` and any further
    environment variables, then ``migrate`` and ``load_adminunits``."""
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": secret,
            "DJANGO_SETTINGS_MODULE": "dancu.settings",
            "SECURE_COOKIES": "0",
            **env,
        }
    )
    sys.path.insert(0, str(SRC))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_adminunits", verbosity=0)
