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


class Config(AppConfig):
    name = "dancu.blocks.eid"
    label = "eid"
    verbose_name = "Định danh điện tử / Electronic identification"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_forget_session, dispatch_uid="dancu.eid.forget_session")
