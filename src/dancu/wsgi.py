"""WSGI entry point (``gunicorn dancu.wsgi`` or ``dancu runserver``).

On PostgreSQL the identity verification's hot route (``POST /api/v1/identity/verify`` and
``/ping`` with an API key) is served ahead of the middleware stack by
``identity.fasthttp.FastRoutes`` (ADR 0014), and so are the OpenID provider's machine grants and
userinfo by ``sso.fasthttp.TokenRoutes`` (ADR 0009 §12); each hands every other request on.

Once the application is loaded, the objects it made (modules, URL resolvers, settings, templates'
loaders) are moved to the collector's permanent generation (``gc.freeze``, Python 3.7+): a full
collection no longer walks them (one full collection of ~300,000 objects took 0.9 s during a
500-row residence batch, profiled in a test process on 2026-12-01); they live as long as the process."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
django_application = get_wsgi_application()

from dancu.blocks.identity import fasthttp as identity_fast  # noqa: E402 — needs the configured Django
from dancu.blocks.sso import fasthttp as sso_fast  # noqa: E402

application = sso_fast.mount(identity_fast.mount(django_application))
gc.freeze()
