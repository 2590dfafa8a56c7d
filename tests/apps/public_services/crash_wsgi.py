"""The production WSGI application (``dancu.wsgi``) for the crash test's server, with its URLs —
and so every view module — and the address resolver's tables loaded once in gunicorn's master
before it forks: a worker started after a kill then serves at once instead of loading them again."""

from django.urls import get_resolver

from dancu.wsgi import application


def _warm() -> None:
    from dancu.blocks.adminunits.resolver import index  # once Django is set up (above)

    get_resolver().url_patterns  # noqa: B018 — imports every view module now
    index()  # read from files: no database connection is opened before the fork


_warm()

__all__ = ["application"]
