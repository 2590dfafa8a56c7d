"""Electronic identification accounts (VNeID-like, Decree 69/2024/NĐ-CP): level 1 and level 2
accounts of citizens, organisation accounts, authentication factors (password, TOTP, one-time
codes, QR log-in from the citizen's device), brute-force protection and sessions (model 24).

The OpenID Connect provider that relying parties use sits in ``blocks/sso`` and reads a log-in's
assurance through :mod:`dancu.blocks.eid.assurance`.
"""

from typing import Any

from django.apps import AppConfig


def _forget_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """At every log-out (whichever page): the session leaves the holder's list."""
    from dancu.blocks.eid.login import forget

    if request is not None and hasattr(request, "session"):
        forget(request.session.session_key)


def _stamp_last_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Django's ``update_last_login`` as one ``UPDATE`` written here (``user.save(update_fields=…)``
    compiled the statement at every log-in): ``last_login`` of the row and of the instance."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    table = connection.ops.quote_name(user._meta.db_table)
    pk_column = connection.ops.quote_name(user._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name('last_login')} = %s WHERE {pk_column} = %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now), user.pk],
        )
    user.last_login = now


class Config(AppConfig):
    name = "dancu.blocks.eid"
    label = "eid"
    verbose_name = "Định danh điện tử / Electronic identification"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        user_logged_out.connect(_forget_session, dispatch_uid="dancu.eid.forget_session")
        # Django connects ``update_last_login`` when the user model has ``last_login`` (it does).
        if user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login"):
            user_logged_in.connect(_stamp_last_login, dispatch_uid="dancu.eid.last_login")
