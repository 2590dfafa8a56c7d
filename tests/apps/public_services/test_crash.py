"""No dossier is lost, and none is doubled, if the server dies mid-submission (issue 7, "Bad input
and faults").

Nguyễn Văn An (``an``) submits a temporary residence registration in Hoàn Kiếm with his lease
attached, through the real web form, to a real server (gunicorn serving the production WSGI
application on the test database). The process serving his request is killed with SIGKILL — no
clean-up, no rollback by Python — at a fault point armed only by the test settings
(``public_services.faults``); gunicorn's master starts a new worker process, as a supervisor
restarts a dead server (one boot of the application keeps the test fast on a loaded machine):

1. **inside the submission's transaction**, after the dossier, its event and its inbox message were
   written and the lease stored on disk, before COMMIT: An gets no answer; after the restart there
   is no dossier, no event, no inbox message, no payment — nothing half-written — and the lease's
   file is an orphan no row refers to;
2. An retries with the same form (the same idempotency key) on a server that this time dies **just
   after COMMIT**, before the response: An again gets no answer, but there is now exactly one
   dossier, with its lease;
3. An retries once more, the fault points disarmed: he is sent to *that* dossier — no second one.

Orphaned files are **cleaned**, not left: ``sweep_orphan_uploads`` (``dancu services sweep-uploads``,
daily) removes the file of the killed attempt and keeps the dossier's lease, whose SHA-256 still
matches.

Both databases: on PostgreSQL the server uses the test database itself (this test commits its data);
on SQLite the test's in-memory database is copied to a file the server uses, and read back.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from dancu.apps.public_services import faults, services, uploads
from dancu.apps.public_services.models import Dossier, DossierEvent, InboxMessage, Payment
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.server_support import free_port, server_env

pytestmark = pytest.mark.django_db(transaction=True)

GUNICORN = Path(sys.executable).with_name("gunicorn")
FORM = "/dich-vu-cong/nop/temporary-residence/"
CSRF = "c" * 32  # the CSRF cookie and the form's token: the same secret
KEY = "crash-test-idempotency-key-0001"  # the form An submits, and retries
LEASE = b"%PDF-1.7\n1 0 obj<<>>endobj\n% hop dong thue nha\n%%EOF\n"


class Database:
    """What the server process uses: the PostgreSQL test database itself, or (SQLite) a file
    copied from the test's in-memory database and read back before each check."""

    def __init__(self, folder: Path) -> None:
        self.sqlite = connection.vendor == "sqlite"
        connection.ensure_connection()
        if self.sqlite:
            self.file = folder / "server.sqlite3"
            with contextlib.closing(sqlite3.connect(self.file)) as target:
                connection.connection.backup(target)
            self.url = f"sqlite:///{self.file}"
        else:
            parts = urlsplit(os.environ["DATABASE_URL"])
            self.url = urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))

    def read_back(self) -> None:
        """Make the server's committed state (and only it) what this process's ORM reads."""
        if self.sqlite:
            with contextlib.closing(sqlite3.connect(self.file)) as source:
                source.backup(connection.connection)


class Server:
    """A gunicorn process group serving the platform; ``arm`` arms a fault point (``faults``)."""

    def __init__(self, db: Database, uploads_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.faults = log.with_name("faults.txt")
        self.arm("")
        env = server_env(
            DATABASE_URL=db.url,
            DANCU_PUBLIC_SERVICES_UPLOAD_DIR=str(uploads_dir),
            DANCU_TEST_FAULTS_FILE=str(self.faults),
        )
        cmd = [
            str(GUNICORN), "tests.apps.public_services.crash_wsgi", "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1", "--log-level", "warning", "--preload",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise AssertionError("gunicorn did not start within 30 s")

    def arm(self, point: str) -> None:
        self.faults.write_text(point + "\n", encoding="utf-8")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and worker) and wait until it is gone."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def submit(self, session: str) -> tuple[int | None, str]:
        """An's form as his browser posts it: (status, Location), or (None, error) if the
        connection died without an answer."""
        until = (timezone.localdate() + timedelta(days=180)).strftime("%d/%m/%Y")
        body = encode_multipart(
            BOUNDARY,
            {
                "csrfmiddlewaretoken": CSRF,
                "idempotency_key": KEY,
                "temporary_address": HOAN_KIEM_ADDRESS,
                "stay_until": until,
                "lodging_basis": "Hợp đồng thuê nhà",
                "lodging_document": SimpleUploadedFile("hop-dong.pdf", LEASE, "application/pdf"),
            },
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(
                "POST",
                FORM,
                body=body,
                headers={
                    "Content-Type": MULTIPART_CONTENT,
                    "Cookie": f"sessionid={session}; csrftoken={CSRF}",
                },
            )
            answer = conn.getresponse()
            answer.read()
            return answer.status, answer.getheader("Location") or ""
        except (OSError, http.client.HTTPException) as exc:
            return None, exc.__class__.__name__
        finally:
            conn.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:  # whatever happened, no server outlives the test
        server.kill()


def _killed(log: Path, expected: int = 2) -> int:
    """How many workers gunicorn's master reaped as killed by SIGKILL (it logs it as it reaps)."""
    deadline = time.monotonic() + 10
    while (count := log.read_text().count("was sent SIGKILL")) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def _rows(user_id: int) -> dict[str, int]:
    return {
        "dossiers": Dossier.objects.filter(applicant_user_id=user_id).count(),
        "events": DossierEvent.objects.filter(dossier__applicant_user_id=user_id).count(),
        "inbox": InboxMessage.objects.filter(user_id=user_id).count(),
        "payments": Payment.objects.filter(dossier__applicant_user_id=user_id).count(),
    }


def test_a_submission_killed_before_or_after_commit_leaves_one_whole_dossier_or_none(
    an: int,
    citizen_client: Callable[..., Client],
    servers: list[Server],
    tmp_path: Path,
    settings: object,
) -> None:
    assert GUNICORN.exists(), "gunicorn is a dependency (pyproject.toml): run make install"
    started = time.monotonic()
    folder = tmp_path / "uploads"
    settings.DANCU_PUBLIC_SERVICES_UPLOAD_DIR = str(folder)  # type: ignore[attr-defined]
    session = citizen_client(an).cookies["sessionid"].value
    db = Database(tmp_path)
    log = tmp_path / "gunicorn.log"

    servers.append(Server(db, folder, log))
    server = servers[-1]

    # 1. Killed inside the transaction: nothing of the dossier survives, the lease is an orphan.
    server.arm(faults.SUBMIT_BEFORE_COMMIT)
    status, error = server.submit(session)
    assert status is None, (status, error)  # An got no answer
    db.read_back()
    assert _rows(an) == {"dossiers": 0, "events": 0, "inbox": 0, "payments": 0}
    [orphan] = [p.name for p in folder.iterdir()]  # written before the transaction, never referenced

    # 2. An retries the same form; the new process dies right after COMMIT: one whole dossier.
    server.arm(faults.SUBMIT_AFTER_COMMIT)
    status, error = server.submit(session)
    assert status is None, (status, error)
    db.read_back()
    [dossier] = Dossier.objects.filter(applicant_user_id=an)
    assert dossier.idempotency_key == KEY and dossier.has_upload
    assert list(dossier.events.values_list("action", flat=True)) == ["submitted"]
    assert _rows(an) == {"dossiers": 1, "events": 1, "inbox": 1, "payments": 0}
    lease = dossier.items["lodging_document"]
    assert lease["file"]["stored"] != orphan
    assert _killed(log) == 2  # both times the process was killed (no error page, no clean-up)

    # 3. An retries once more, nothing armed: sent to the same dossier, no second one.
    server.arm("")
    status, location = server.submit(session)
    server.kill()
    assert status == 302 and location.endswith(f"/dich-vu-cong/ho-so/{dossier.tracking_code}/")
    db.read_back()
    assert _rows(an) == {"dossiers": 1, "events": 1, "inbox": 1, "payments": 0}

    # The orphan of the killed attempt is swept; the dossier's lease is kept, unaltered.
    assert sorted(p.name for p in folder.iterdir()) == sorted([orphan, lease["file"]["stored"]])
    assert services.sweep_orphan_uploads(timedelta(hours=1)) == []  # too young: maybe in flight
    assert services.sweep_orphan_uploads(timedelta(0)) == [orphan]
    assert [p.name for p in folder.iterdir()] == [lease["file"]["stored"]]
    assert hashlib.sha256(uploads.read(lease)).hexdigest() == hashlib.sha256(LEASE).hexdigest()
    assert time.monotonic() - started < 60  # ~10 s on a quiet machine; the boot dominates


def test_the_fault_points_are_inert_unless_the_test_settings_arm_them(
    settings: object, tmp_path: Path
) -> None:
    """The production settings never define ``DANCU_TEST_FAULTS_FILE``; unarmed, a point returns."""
    import dancu.settings as production

    assert not hasattr(production, "DANCU_TEST_FAULTS_FILE")
    settings.DANCU_TEST_FAULTS_FILE = ""  # type: ignore[attr-defined]
    faults.point(faults.SUBMIT_BEFORE_COMMIT)  # this process is still alive
    assert not faults.armed(faults.SUBMIT_BEFORE_COMMIT)
    armed = tmp_path / "faults.txt"
    settings.DANCU_TEST_FAULTS_FILE = str(armed)  # type: ignore[attr-defined]
    assert not faults.armed(faults.SUBMIT_AFTER_COMMIT)  # no file yet
    armed.write_text(faults.SUBMIT_AFTER_COMMIT + "\n")
    assert faults.armed(faults.SUBMIT_AFTER_COMMIT) and not faults.armed(faults.SUBMIT_BEFORE_COMMIT)
