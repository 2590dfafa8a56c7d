"""Keeps the holder's list of sessions current: the last time each log-in session was seen.

At most one write a minute per session: the time of the last write is kept in the session
itself, so most requests cost no query at all."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dancu.blocks.eid import login as eid_login

SEEN_KEY = "dancu.eid.seen"
EVERY_SECONDS = 60


def seen_sessions(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated or not session.session_key:
            return response
        now = int(time.time())
        if now - int(session.get(SEEN_KEY, 0)) >= EVERY_SECONDS:
            eid_login.touch(session.session_key)
            session[SEEN_KEY] = now
        return response

    return middleware
