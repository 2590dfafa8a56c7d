"""Fault injection for the crash test of submissions (issue 7, "Bad input and faults": no dossier
is lost if the server dies mid-submission; ``tests/apps/public_services/test_crash.py``).

A fault point kills the process serving the request (SIGKILL: no clean-up, no ``finally``, no
rollback by Python — what a power cut or the OOM killer does) when it is armed: when the file named
by the setting ``DANCU_TEST_FAULTS_FILE`` holds the point's name on a line (a file, so that the test
can arm and disarm points of a running server). **Off in production:** only the test settings
(``dancu.test_settings``) define that setting, from the environment variable of the same name;
``dancu.settings`` never reads it, so outside the tests every point is one ``getattr`` and nothing
else. The points:

* ``public_services.submit.before_commit`` — inside the submission's transaction, after the
  dossier, its event and its inbox message are written and its documents stored on disk, just
  before COMMIT;
* ``public_services.submit.after_commit`` — just after COMMIT, before the response is sent.
"""

from __future__ import annotations

import os
import signal

from django.conf import settings
from django.db import transaction

SUBMIT_BEFORE_COMMIT = "public_services.submit.before_commit"
SUBMIT_AFTER_COMMIT = "public_services.submit.after_commit"


def armed(name: str) -> bool:
    path = getattr(settings, "DANCU_TEST_FAULTS_FILE", "")
    if not path or not name:
        return False
    try:
        with open(path, encoding="utf-8") as armed_points:
            return name in armed_points.read().split()
    except FileNotFoundError:
        return False


def point(name: str) -> None:
    """Die here, at once, when the test settings armed this point."""
    if armed(name):
        os.kill(os.getpid(), signal.SIGKILL)


def after_commit(name: str) -> None:
    """Die just after the current transaction commits, when armed (nothing registered otherwise)."""
    if armed(name):
        transaction.on_commit(lambda: point(name))
