"""Typed configuration from environment variables, secure by default.

Every helper raises :class:`ConfigError` naming the variable and the rule it broke, so that bad
configuration stops start-up with a message an operator can act on (12-factor configuration).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A configuration variable is missing or malformed."""

    def __init__(self, variable: str, rule: str) -> None:
        self.variable = variable
        self.rule = rule
        super().__init__(f"configuration variable {variable}: {rule}")


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """A string variable; without a default, the variable is required."""
    env = os.environ if environ is None else environ
    value = env.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigError(name, "is required but not set")
        return default
    return value


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off (case-insensitive)."""
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"must be one of 1/true/yes/on or 0/false/no/off, got {raw!r}")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """An integer variable within optional bounds."""
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(name, f"must be at most {maximum}, got {value}")
    return value


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_config(base_dir: Path, *, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The ``DATABASES['default']`` entry from ``DATABASE_URL``.

    Default: an SQLite file under ``var/``. Only SQLite and PostgreSQL are supported: the
    platform's code is tested on both and nothing may work on one and not the other.
    """
    import dj_database_url

    env = os.environ if environ is None else environ
    default_path = base_dir / "var" / "dancu.sqlite3"
    url = env.get("DATABASE_URL") or f"sqlite:///{default_path}"
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            "DATABASE_URL",
            f"scheme {scheme or '(none)'!r} is not supported; use sqlite:///path or postgres://user@host/db",
        )
    try:
        cfg = dict(dj_database_url.parse(url, conn_max_age=60 if scheme != "sqlite" else 0))
    except Exception as exc:  # dj_database_url raises several types for malformed URLs
        raise ConfigError("DATABASE_URL", f"cannot be parsed ({exc.__class__.__name__})") from None
    if scheme == "sqlite":
        name = str(cfg.get("NAME") or "")
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        cfg["OPTIONS"] = {
            # WAL lets the web server read while the seeder writes; IMMEDIATE avoids lock upgrades.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif not cfg.get("NAME"):
        raise ConfigError(
            "DATABASE_URL", "must name a database, e.g. postgres://postgres@127.0.0.1:5432/dancu"
        )
    else:
        # Django's own cursors bind parameters on the client and never prepare; this lets the
        # registry's look-up statement, run on a server-binding cursor with ``prepare=True``, be
        # prepared once per connection (ADR 0006). Nothing is prepared automatically.
        # JIT compilation (PostgreSQL ≥ 11) costs tens of milliseconds per statement whose
        # estimated cost crosses ``jit_above_cost``: a loss for every short OLTP statement the
        # platform runs (measured: 76 ms of JIT on a 0.5 ms look-up batch). Off for our sessions.
        options = cfg.get("OPTIONS")
        cfg["OPTIONS"] = {
            **(options if isinstance(options, dict) else {}),
            "prepare_threshold": 1_000_000_000,
            "options": "-c jit=off",
        }
    return cfg
