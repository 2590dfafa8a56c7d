"""Configuration comes from environment variables, is secure by default, and a bad value stops
start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dancu.config import ConfigError, database_config, env_bool, env_int, env_list, env_str

SRC = Path(__file__).resolve().parents[1] / "src"
VENV_BIN = Path(sys.executable).parent
GOOD_KEY = "k" * 40

SHOW_SETTINGS = (
    "import django, os; from django.conf import settings; "
    "print('DEBUG', settings.DEBUG); print('HOSTS', ','.join(settings.ALLOWED_HOSTS)); "
    "print('SECURE', settings.SESSION_COOKIE_SECURE); "
    "print('ENGINE', settings.DATABASES['default']['ENGINE'])"
)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: nothing inherited from the developer's shell or from the test settings."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(SRC),
        "DANCU_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dancu.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )


# --------------------------------------------------------------------------- env_bool
@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "On", " on "])
def test_env_bool_reads_true_words(raw: str) -> None:
    assert env_bool("X", False, environ={"X": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_env_bool_reads_false_words(raw: str) -> None:
    assert env_bool("X", True, environ={"X": raw}) is False


def test_env_bool_uses_the_default_when_unset() -> None:
    assert env_bool("X", True, environ={}) is True
    assert env_bool("X", False, environ={}) is False


def test_env_bool_rejects_other_words_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as exc:
        env_bool("DEBUG", False, environ={"DEBUG": "maybe"})
    assert exc.value.variable == "DEBUG"
    assert "DEBUG" in str(exc.value)
    assert "maybe" in str(exc.value)


# --------------------------------------------------------------------------- env_int
def test_env_int_parses_whole_numbers_and_defaults_when_unset_or_blank() -> None:
    assert env_int("N", 5, environ={"N": " 42 "}) == 42
    assert env_int("N", 5, environ={}) == 5
    assert env_int("N", 5, environ={"N": "  "}) == 5


def test_env_int_rejects_non_numbers_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"SESSION_COOKIE_AGE.*whole number"):
        env_int("SESSION_COOKIE_AGE", 5, environ={"SESSION_COOKIE_AGE": "1.5"})


def test_env_int_enforces_its_bounds() -> None:
    with pytest.raises(ConfigError, match="N: must be at least 10, got 9"):
        env_int("N", 20, minimum=10, environ={"N": "9"})
    with pytest.raises(ConfigError, match="N: must be at most 30, got 31"):
        env_int("N", 20, maximum=30, environ={"N": "31"})
    assert env_int("N", 20, minimum=10, maximum=30, environ={"N": "10"}) == 10
    assert env_int("N", 20, minimum=10, maximum=30, environ={"N": "30"}) == 30


# --------------------------------------------------------------------------- env_list / env_str
def test_env_list_splits_on_commas_and_drops_blanks() -> None:
    assert env_list("H", [], environ={"H": " a.vn, ,b.vn,, "}) == ["a.vn", "b.vn"]


def test_env_list_default_is_a_copy() -> None:
    default = ["x"]
    result = env_list("H", default, environ={})
    result.append("y")
    assert default == ["x"]


def test_env_list_set_but_empty_means_an_empty_list() -> None:
    assert env_list("H", ["localhost"], environ={"H": ""}) == []


def test_env_str_without_default_is_required() -> None:
    with pytest.raises(ConfigError) as exc:
        env_str("SECRET_KEY", environ={})
    assert exc.value.variable == "SECRET_KEY"
    assert str(exc.value) == "configuration variable SECRET_KEY: is required but not set"


def test_env_str_treats_empty_as_unset() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        env_str("SECRET_KEY", environ={"SECRET_KEY": ""})
    assert env_str("LOG_LEVEL", "INFO", environ={"LOG_LEVEL": ""}) == "INFO"
    assert env_str("LOG_LEVEL", "INFO", environ={"LOG_LEVEL": "DEBUG"}) == "DEBUG"


def test_config_error_is_an_improperly_configured_error() -> None:
    from django.core.exceptions import ImproperlyConfigured

    assert issubclass(ConfigError, ImproperlyConfigured)


# --------------------------------------------------------------------------- database_config
def test_database_defaults_to_sqlite_under_var(tmp_path: Path) -> None:
    cfg = database_config(tmp_path, environ={})
    assert cfg["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(str(cfg["NAME"])) == tmp_path / "var" / "dancu.sqlite3"
    assert (tmp_path / "var").is_dir()
    assert "foreign_keys=ON" in cfg["OPTIONS"]["init_command"]  # type: ignore[index]


def test_database_accepts_postgres_urls(tmp_path: Path) -> None:
    cfg = database_config(tmp_path, environ={"DATABASE_URL": "postgres://u@db.example:5433/dancu"})
    assert cfg["ENGINE"] == "django.db.backends.postgresql"
    assert cfg["NAME"] == "dancu"
    assert cfg["HOST"] == "db.example"
    assert cfg["PORT"] == 5433


@pytest.mark.parametrize("url", ["mysql://u@h/db", "oracle://u@h/db", "no-scheme-at-all", "redis://h:6379/0"])
def test_database_url_with_an_unsupported_scheme_names_DATABASE_URL(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as exc:
        database_config(tmp_path, environ={"DATABASE_URL": url})
    assert exc.value.variable == "DATABASE_URL"
    assert "not supported" in str(exc.value)


def test_postgres_url_without_a_database_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL: must name a database"):
        database_config(tmp_path, environ={"DATABASE_URL": "postgres://u@h:5432"})


# --------------------------------------------------------------------------- settings start-up
def test_missing_secret_key_outside_demo_stops_start_up_naming_SECRET_KEY(tmp_path: Path) -> None:
    result = run_python("import django; django.setup()", clean_env(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "is required but not set" in result.stderr


def test_short_secret_key_is_rejected(tmp_path: Path) -> None:
    result = run_python("import django; django.setup()", clean_env(tmp_path, SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "SECRET_KEY: must be at least 32 characters long" in result.stderr


def test_unsupported_DATABASE_URL_stops_start_up(tmp_path: Path) -> None:
    env = clean_env(tmp_path, SECRET_KEY=GOOD_KEY, DATABASE_URL="mysql://u@h/db")
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_debug_is_off_by_default_with_no_allowed_hosts_and_secure_cookies(tmp_path: Path) -> None:
    result = run_python(SHOW_SETTINGS, clean_env(tmp_path, SECRET_KEY=GOOD_KEY))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "DEBUG False" in lines
    assert "HOSTS " in lines  # empty: the operator must list the host names
    assert "SECURE True" in lines


def test_demo_mode_turns_debug_on_and_generates_a_private_secret_key(tmp_path: Path) -> None:
    result = run_python(SHOW_SETTINGS, clean_env(tmp_path, DANCU_DEMO="1"))
    assert result.returncode == 0, result.stderr
    assert "DEBUG True" in result.stdout.splitlines()
    key_file = tmp_path / "var" / "demo-secret-key"
    assert len(key_file.read_text().strip()) >= 32
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only


def test_debug_can_be_forced_off_in_demo_mode(tmp_path: Path) -> None:
    result = run_python(SHOW_SETTINGS, clean_env(tmp_path, DANCU_DEMO="1", DEBUG="0"))
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout.splitlines()


def test_malformed_DEBUG_stops_start_up_naming_DEBUG(tmp_path: Path) -> None:
    result = run_python(
        "import django; django.setup()", clean_env(tmp_path, SECRET_KEY=GOOD_KEY, DEBUG="sure")
    )
    assert result.returncode != 0
    assert "configuration variable DEBUG" in result.stderr


# --------------------------------------------------------------------------- the dancu command
def test_dancu_command_exits_2_with_the_configuration_message(tmp_path: Path) -> None:
    dancu = VENV_BIN / "dancu"
    cmd = [str(dancu), "check"] if dancu.exists() else [sys.executable, "-m", "dancu.cli", "check"]
    result = subprocess.run(
        cmd, env=clean_env(tmp_path), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "dancu: configuration variable SECRET_KEY: is required but not set"
    assert "Traceback" not in result.stderr


def test_dancu_main_exits_2_in_process_on_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main`` turns an ImproperlyConfigured error into exit status 2 and a one-line message."""
    import django.core.management as management

    from dancu import cli

    def boom(argv: list[str]) -> None:
        raise ConfigError("DATABASE_URL", "scheme 'mysql' is not supported")

    monkeypatch.setattr(management, "execute_from_command_line", boom)
    with pytest.raises(SystemExit) as exc:
        cli.main(["dancu", "check"])
    assert exc.value.code == 2
