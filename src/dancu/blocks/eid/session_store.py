"""The session engine (``SESSION_ENGINE``): Django's database sessions, written with fewer
statements (ADR 0009 §11).

Sessions stay in the database — a revoked session (``login.revoke_session``, recovery, log-out)
ends in every process at once, which a per-process cache or a signed cookie could not promise.
What changes is only how many statements a log-in spends on its session row:

* **A new key is not checked with a ``SELECT`` first.** The row is written with a plain
  ``INSERT`` and the primary key decides: a key already taken makes the insert fail and a new key
  is drawn, as Django's loop does after its check (32 characters of ``[a-z0-9]``, about 165 bits).
  An ``INSERT`` never overwrites another session's row.
* **The key cycled at log-in is written once, at the end of the request.** Django's
  ``cycle_key`` (called by ``django.contrib.auth.login`` against session fixation, OWASP ASVS
  V3.2.1) inserts the new row at once with the old data, and the end of the request then updates
  it with the log-in's data: a check, an insert and an update, each in a transaction. Here the
  new random key is drawn at once (the log-in's session list needs it), the old key's row is
  deleted at once as before, and the row is *inserted* by the end-of-request save with the final
  data. Until then no row has that key, and nobody knows it: the cookie carrying it leaves with
  the response. A request that fails (5xx, no session save) leaves no row, so its key is worth
  nothing. If ever the key were taken meanwhile, the insert fails and the request fails with it
  (``CreateError``): never an overwrite.
* **The row is read by a statement compiled once** (``dancu.precompiled``): every request with a
  session cookie reads it, and the ORM would build the same ``SELECT`` each time.
* **One statement needs no transaction.** A save outside any transaction is one ``INSERT`` or
  one ``UPDATE`` in autocommit, atomic by itself: Django's ``BEGIN``/``COMMIT`` around it is left
  out (inside a caller's transaction Django's savepoint is kept). An update that meets no row —
  the session was revoked meanwhile — still raises ``UpdateError`` (the middleware answers
  ``SessionInterrupted``): a revoked session is never written back.

Synchronous (WSGI) use only, like the rest of the platform.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.base_session import AbstractBaseSession
from django.contrib.sessions.models import Session
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils import timezone

from dancu.precompiled import Select, column_list, instance, model_columns, quote
from dancu.tokens import random_string

_COLUMNS = model_columns("s", Session)
_LIVE = Select(
    lambda: (
        f"SELECT {column_list(_COLUMNS)} FROM {quote(Session._meta.db_table)} s"  # noqa: S608
        f" WHERE s.{quote('session_key')} = %s AND s.{quote('expire_date')} > %s"
    ),
    _COLUMNS,
)


def _write(obj: AbstractBaseSession, insert: bool, using: str) -> None:
    """The row's ``INSERT`` (a taken key raises ``IntegrityError``) or ``UPDATE`` (no row raises
    ``UpdateError``): the statements of ``Model.save(force_insert=…/force_update=…)``, written
    here rather than compiled by the ORM on every request that changes its session."""
    conn = connections[using]
    qn = conn.ops.quote_name
    table, key, data, expires = (
        qn(n) for n in (Session._meta.db_table, "session_key", "session_data", "expire_date")
    )
    expire_date = conn.ops.adapt_datetimefield_value(obj.expire_date)
    with conn.cursor() as cursor:
        if insert:
            cursor.execute(
                f"INSERT INTO {table} ({key}, {data}, {expires}) VALUES (%s, %s, %s)",  # noqa: S608
                [obj.session_key, obj.session_data, expire_date],
            )
            return
        cursor.execute(
            f"UPDATE {table} SET {data} = %s, {expires} = %s WHERE {key} = %s",  # noqa: S608
            [obj.session_data, expire_date, obj.session_key],
        )
        if cursor.rowcount != 1:
            raise UpdateError


class SessionStore(db.SessionStore):
    # A key drawn by :meth:`cycle_key` whose row is not written yet (the next save inserts it).
    _unsaved = False

    def _get_new_session_key(self) -> str:
        """A random key, not looked up: Django's ``create`` inserts it with ``must_create`` and
        draws again if the ``INSERT`` meets a row with that key (``CreateError``)."""
        return random_string(VALID_KEY_CHARS, 32)

    def _get_session_from_db(self) -> Any:
        """Django's read of the live row (unexpired), by the precompiled statement; no row (or a
        key that is not a valid one) forgets the key, as Django does."""
        key = self.session_key
        row = _LIVE.first([key, timezone.now()]) if key else None
        if row is None:
            self._session_key = None
            return None
        return instance(Session, row)

    def cycle_key(self) -> None:
        """A new key for the same data (at log-in); its row is inserted by the next save."""
        data = self._session  # type: ignore[attr-defined]  # SessionBase's property, not in the stubs
        key = self.session_key
        self._session_key = self._get_new_session_key()
        self._unsaved = True
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        must_create = must_create or self._unsaved
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        try:
            if connections[using].in_atomic_block:
                with transaction.atomic(using=using):
                    _write(obj, must_create, using)
            else:
                _write(obj, must_create, using)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except UpdateError:
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
        self._unsaved = False
        return None

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            if self._unsaved:  # no row was written under this key
                self._unsaved = False
                return
        super().delete(session_key)
