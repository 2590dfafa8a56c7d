"""One WSGI request as gunicorn makes it, for the tests of the layers served ahead of Django
(``identity.fasthttp``, ``sso.fasthttp``; ``dancu.fastwsgi``)."""

from __future__ import annotations

import io
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


def environ(
    method: str, path: str, body: bytes = b"", content_type: str = "", /, **extra: str
) -> dict[str, Any]:
    """The environ of one request to ``testserver`` over plain HTTP; ``extra`` adds or replaces
    keys (``HTTP_…`` headers, ``QUERY_STRING``, ``CONTENT_LENGTH``)."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = content_type
    env.update(extra)
    return env


def run(
    app: Any, env: dict[str, Any], *, keep_connection: bool = True
) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of ``app`` for ``env``. With ``keep_connection`` the test's database
    connection stays open, as Django's test client does it (no recycling inside a test
    transaction); without it each request's end closes its thread's connection, as in production."""
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, headers

    if keep_connection:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
    try:
        content = b"".join(app(env, start_response))
    finally:
        if keep_connection:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
    return int(seen["status"].split()[0]), list(seen["headers"]), content
