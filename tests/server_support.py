"""What the tests that run the platform in a real server process share (the crash tests under
gunicorn, ``tests/deploy`` under uWSGI): a free port, the test database's URL, the environment."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit, urlunsplit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_database_url() -> str:
    """``DATABASE_URL`` with the test database's name (the one the test's data is committed to)."""
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))


def server_env(**extra: str) -> dict[str, str]:
    """The server process's environment: the test settings on the test database, this process's
    ``SECRET_KEY`` (keys and sessions are wrapped under it), DEBUG off, warnings only, no shared
    cache; ``extra`` adds or replaces variables."""
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": extra["DATABASE_URL"] if "DATABASE_URL" in extra else test_database_url(),
        "DJANGO_SETTINGS_MODULE": "dancu.test_settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("CACHE_URL", None)
    return env
