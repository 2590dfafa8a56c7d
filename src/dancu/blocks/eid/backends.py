"""The authentication backend: Django's ``ModelBackend`` with its two look-ups compiled once.

Every authenticated request reads its user by id (``get_user``, through the session), and every
log-in reads one by name (``authenticate``); the ORM compiles each ``SELECT`` anew each time
(``dancu.precompiled``). Permissions, ``is_active`` (``user_can_authenticate``), the password check
and its upgrade on log-in are ``ModelBackend``'s.

A wrong name or password ends the log-in here (``PermissionDenied``, which Django's
``authenticate`` treats as "stop, refused"): ``ModelBackend``, listed after this backend only so
that sessions it recorded stay valid (``BACKEND_SESSION_KEY``), never hashes the password a second
time. An unknown name costs one password hash as a known one does (Django's own defence against
user enumeration by timing, ticket #20760).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from dancu.precompiled import Select, column_list, instance, model_columns, quote

User = get_user_model()
_COLUMNS = model_columns("u", User)


def _by(column: str) -> Select:
    return Select(
        lambda: (
            f"SELECT {column_list(_COLUMNS)} FROM {quote(User._meta.db_table)} u"  # noqa: S608
            f" WHERE u.{quote(column)} = %s"
        ),
        _COLUMNS,
    )


_BY_ID = _by(str(User._meta.pk.column))
_BY_NAME = _by(str(User._meta.get_field(User.USERNAME_FIELD).column))  # type: ignore[union-attr]


def user_by_id(user_id: Any) -> Any:
    row = _BY_ID.first([user_id])
    return instance(User, row) if row is not None else None


def user_by_name(username: str) -> Any:
    if "\x00" in username:  # PostgreSQL cannot compare it; no account has one
        return None
    row = _BY_NAME.first([username])
    return instance(User, row) if row is not None else None


class AccountBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = user_by_name(username)
        if user is None:
            User().set_password(password)  # the same hashing work as for a known name
            raise PermissionDenied
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        raise PermissionDenied

    def get_user(self, user_id: Any) -> Any:
        try:
            pk = User._meta.pk.to_python(user_id)
        except Exception:
            return None
        user = user_by_id(pk)
        return user if user is not None and self.user_can_authenticate(user) else None
