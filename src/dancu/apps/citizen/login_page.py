"""The log-in page as a visitor who is not logged in first sees it, rendered once per language.

Every sign-in through the OpenID provider shows this page (ADR 0009 §15). Its HTML is the same
for every anonymous visitor but for four values: the CSRF token (both forms), the page's own
path (the language form's ``next``), the ``next`` of the log-in form and the same ``next`` in
the "show a QR code" link. The template is rendered once per language with a marker in place of
each, and each request fills the markers in with its own values, escaped as the template would
escape them (``django.utils.html.escape``; the link's ``next`` is ``urlencode``'s, then escaped).
Filling in is one pass over the page, so a value that happens to contain a marker is not filled
in again.

Everything else takes the template's path (``views.login_page``): a POST, a logged-in visitor,
the QR log-in (``?qr=1``), ``DEBUG`` (templates edited while the server runs). The two paths give
the same bytes (``tests/apps/citizen/test_login_page_cache.py`` renders both).
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any
from urllib.parse import quote_plus

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import get_language

from dancu.apps.citizen.forms import LoginForm

TEMPLATE = "citizen/login.html"
# Letters and digits only: escaping and URL-encoding leave them as they are.
_MARK = "dancuLoginMark" + secrets.token_hex(8)
_CSRF, _PATH, _NEXT, _QR_NEXT = (f"{_MARK}{name}" for name in ("Csrf", "Path", "Next", "QrNext"))
_FILL = re.compile(f"{_MARK}(?:Csrf|Path|QrNext|Next)")
_pages: dict[str, str] = {}
_lock = threading.Lock()


class _Shape:
    """What the base layout reads of ``request``: its full path only."""

    def get_full_path(self) -> str:
        return _PATH


def _render() -> str:
    """The page in the active language, markers in place of the four values."""
    qr_ask_url = reverse("citizen:login") + "?" + urlencode({"next": _QR_NEXT, "qr": "1"})
    context: dict[str, Any] = {
        "form": LoginForm(),
        "error": "",
        "next": _NEXT,
        "qr_ask_url": qr_ask_url,
        "csrf_token": _CSRF,
        "request": _Shape(),
        "user": AnonymousUser(),
    }
    return str(get_template(TEMPLATE).render(context))


def anonymous_page(request: HttpRequest, next_url: str) -> str | None:
    """The page for this anonymous GET (``next_url`` already made safe by the view), or None when
    the view must render it (see the module's docstring)."""
    if settings.DEBUG:
        return None
    language = get_language() or settings.LANGUAGE_CODE
    page = _pages.get(language)
    if page is None:
        page = _render()
        with _lock:
            _pages[language] = page
    values = {
        _CSRF: get_token(request),
        _PATH: escape(request.get_full_path()),
        _NEXT: escape(next_url),
        _QR_NEXT: escape(quote_plus(next_url)),
    }
    return _FILL.sub(lambda m: values[m.group(0)], page)


def _forget(**kwargs: Any) -> None:
    with _lock:
        _pages.clear()


setting_changed.connect(_forget, dispatch_uid="dancu.citizen.login_page")
