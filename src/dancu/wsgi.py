"""WSGI entry point (``gunicorn dancu.wsgi`` or ``dancu runserver``).

On PostgreSQL the identity verification's hot route (``POST /api/v1/identity/verify`` and
``/ping`` with an API key) is served ahead of the middleware stack by
``identity.fasthttp.FastRoutes``, which hands every other request to Django (ADR 0014)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
django_application = get_wsgi_application()

from dancu.blocks.identity.fasthttp import mount  # noqa: E402 — needs the configured Django

application = mount(django_application)
