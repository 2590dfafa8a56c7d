"""Keeps the holder's list of sessions current: the last time each log-in session was seen.

At most one write a minute per session: the time of the last write is kept in the session
itself, so most requests cost no query at all. A request whose view did not use the session (the
token endpoint, userinfo, static files, an API call that happens to carry the cookie) is not a
visit of the holder's browser session and is not looked at: no session or user query for it."""

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
        if session is None or not getattr(session, "accessed", True) or not session.session_key:
            return response
        if user is None or not user.is_authenticated:
            return response
        now = int(time.time())
        if now - int(session.get(SEEN_KEY, 0)) >= EVERY_SECONDS:
            eid_login.touch(session.session_key)
            session[SEEN_KEY] = now
        return response

    return middleware
