"""Set-up shared by the benchmarks that start the platform against a PostgreSQL database of their own
(``oidc_bench.py``, ``public_services_bench.py``, ``exchange_http_bench.py``): create the database
if missing, then configure Django for it, migrate it and load the administrative units; start the
server (also for ``verify_http_bench.py`` and ``residence_bench.py``): uWSGI with the production
configuration, or gunicorn (``BENCH_WSGI_SERVER``). Imported as
``from _setup import …`` (the scripts' folder is on ``sys.path`` when they run)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for the benchmark's server."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WSGI_SERVERS = ("uwsgi", "gunicorn")
UWSGI_INI = SRC.parent / "docs" / "deploy" / "uwsgi.ini"


def wsgi_server() -> str:
    """The application server the benchmarks start: production's, uWSGI with
    ``docs/deploy/uwsgi.ini`` (ADR 0023), unless ``BENCH_WSGI_SERVER=gunicorn`` asks for the one
    the earlier figures in docs/benchmarks.md were measured under (``gthread`` workers)."""
    name = os.environ.get("BENCH_WSGI_SERVER", "uwsgi")
    if name not in WSGI_SERVERS:
        raise SystemExit(f"BENCH_WSGI_SERVER: one of {', '.join(WSGI_SERVERS)}, got {name!r}")
    return name


def server_match() -> bytes:
    """What the server's processes have in their command line (CPU accounting by process)."""
    return wsgi_server().encode()


def start_server(
    url: str,
    secret: str,
    port: int,
    workers: int,
    threads: int,
    log: Path,
    *,
    timeout: float = 60,
    **env: str,
) -> subprocess.Popen[bytes]:
    """The project's WSGI application under :func:`wsgi_server` on 127.0.0.1:``port`` with
    ``workers`` processes of ``threads`` threads, the production settings on ``url``, DEBUG off,
    the per-process memory cache (``CACHE_URL`` unset) and any further environment variables;
    returns once it accepts connections (or exits with the log's tail, or after ``timeout``
    seconds)."""
    full_env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "DJANGO_SETTINGS_MODULE": "dancu.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    full_env.pop("CACHE_URL", None)
    server = wsgi_server()
    bin_dir = Path(sys.executable).parent
    if server == "uwsgi":
        cmd = [
            str(bin_dir / "uwsgi"), "--ini", str(UWSGI_INI), "--http11-socket", f"127.0.0.1:{port}",
            "--processes", str(workers), "--threads", str(threads),
        ]  # fmt: skip
    else:
        cmd = [
            str(bin_dir / "gunicorn"), "dancu.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
            "--backlog", "2048", "--log-level", "warning", "--timeout", "120",
        ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=full_env, cwd=SRC.parent, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{server} exited:\n{log.read_text()[-3000:]}")
        # uWSGI binds the socket before its workers have loaded the application (lazy-apps):
        # ready when every worker said so; gunicorn when the socket accepts.
        if server == "uwsgi" and log.read_text(errors="replace").count("(default app)") < workers:
            time.sleep(0.2)
            continue
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"{server} did not start within {timeout:.0f} s")
