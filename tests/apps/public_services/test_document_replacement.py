"""Replacing a document after a send-back: when the competent official asks for additions, the
applicant may replace the document he attached (or attach one he had not) with his supplement.
The new file is checked as at submission; the one it replaces is kept — file and record — never
overwritten, and the dossier's history says a document was replaced.

Named actors: ``an`` (Nguyễn Văn An, the applicant of a temporary residence registration in Hoàn
Kiếm with his lease attached), ``other_ward_police`` (Công an phường Hoàn Kiếm: the competent
official, who sends it back), ``ward_police`` (Công an phường Tây Hồ: an official of another
ward), ``mai`` (Huỳnh Thị Mai: another citizen).
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from dancu.apps.public_services import services
from dancu.apps.public_services.models import Dossier
from dancu.errors import DomainValidationError, NotFound
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.conftest import Person

pytestmark = pytest.mark.django_db
OLD_LEASE = b"%PDF-1.7\n1 0 obj<<>>endobj\n% hop dong cu\n%%EOF\n"
NEW_LEASE = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40  # a photo of the signed lease
SENT_BACK = "Hợp đồng thuê nhà thiếu chữ ký của chủ nhà, đề nghị bổ sung bản có chữ ký"


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Path, settings: Any) -> Path:
    folder = tmp_path / "uploads"
    settings.DANCU_PUBLIC_SERVICES_UPLOAD_DIR = str(folder)
    settings.DANCU_PUBLIC_SERVICES_UPLOAD_MAX_BYTES = 1024
    return folder


def _values() -> dict[str, str]:
    until = (timezone.localdate() + timedelta(days=180)).strftime("%d/%m/%Y")
    return {"temporary_address": HOAN_KIEM_ADDRESS, "stay_until": until, "lodging_basis": "Hợp đồng thuê nhà"}


def _file(data: bytes, name: str = "hop-dong-moi.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "application/octet-stream")


def sent_back(an: int, official: Person, document: bytes | None = OLD_LEASE) -> Dossier:
    """An's registration (with his lease unless ``document`` is None), sent back for additions."""
    files = {"lodging_document": _file(document, "hop-dong.pdf")} if document else None
    dossier, _ = services.submit(an, "temporary-residence", _values(), idempotency_key="r" * 24, files=files)
    return services.send_back(official.actor, dossier.tracking_code, SENT_BACK)


def test_an_replaces_his_lease_after_a_send_back_and_the_old_one_is_kept_for_the_record(
    an: int, other_ward_police: Person, upload_dir: Path
) -> None:
    dossier = sent_back(an, other_ward_police)
    old = dict(dossier.items["lodging_document"])

    after = services.supplement(an, dossier.tracking_code, {}, files={"lodging_document": _file(NEW_LEASE)})

    entry = after.items["lodging_document"]
    assert after.status == Dossier.Status.PROCESSING
    assert entry["value"] == "hop-dong-moi.png" and entry["file"]["content_type"] == "image/png"
    assert entry["file"]["sha256"] == hashlib.sha256(NEW_LEASE).hexdigest()
    [earlier] = entry["previous"]
    assert earlier["file"] == old["file"] and earlier["value"] == old["value"] and earlier["replaced_at"]
    assert sorted(p.name for p in upload_dir.iterdir()) == sorted(
        [old["file"]["stored"], entry["file"]["stored"]]
    )
    assert (upload_dir / old["file"]["stored"]).read_bytes() == OLD_LEASE  # never overwritten
    [event] = after.events.filter(action="document_replaced")
    assert old["file"]["sha256"][:12] in event.note and entry["file"]["sha256"][:12] in event.note
    assert list(after.events.values_list("action", flat=True))[-2:] == ["document_replaced", "supplemented"]
    # The official reads both; the sweep of orphans keeps both.
    assert (
        services.document_for(other_ward_police.actor, after.tracking_code, "lodging_document")[1]
        == NEW_LEASE
    )
    assert (
        services.document_for(other_ward_police.actor, after.tracking_code, "lodging_document", 0)[1]
        == OLD_LEASE
    )
    with pytest.raises(NotFound):
        services.document_for(other_ward_police.actor, after.tracking_code, "lodging_document", 1)
    assert services.sweep_orphan_uploads(timedelta(0)) == []


def test_a_document_not_attached_at_submission_can_be_added_with_the_supplement(
    an: int, other_ward_police: Person
) -> None:
    dossier = sent_back(an, other_ward_police, document=None)
    assert not dossier.has_upload
    after = services.supplement(an, dossier.tracking_code, {}, files={"lodging_document": _file(NEW_LEASE)})
    assert after.has_upload and "previous" not in after.items["lodging_document"]
    assert after.events.filter(action="document_added").count() == 1


def test_a_bad_file_is_refused_naming_the_field_and_changes_nothing(
    an: int, other_ward_police: Person, upload_dir: Path
) -> None:
    dossier = sent_back(an, other_ward_police)
    before = dict(dossier.items["lodging_document"])
    for bad, rule in (
        (b"MZ\x90\x00 not a document", "file_type"),
        (b"%PDF-" + b"0" * 2000, "max_size"),
        (b"", "empty"),
    ):
        with pytest.raises(DomainValidationError) as err:
            services.supplement(
                an, dossier.tracking_code, {}, files={"lodging_document": _file(bad, "x.pdf")}
            )
        assert [(p.field, p.rule) for p in err.value.problems] == [("lodging_document", rule)]
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.SENT_BACK and dossier.items["lodging_document"] == before
    assert [p.name for p in upload_dir.iterdir()] == [before["file"]["stored"]]


def test_no_replacement_by_another_citizen_or_on_a_dossier_not_sent_back(
    an: int, mai: int, other_ward_police: Person, upload_dir: Path
) -> None:
    dossier = sent_back(an, other_ward_police)
    with pytest.raises(NotFound):
        services.supplement(mai, dossier.tracking_code, {}, files={"lodging_document": _file(NEW_LEASE)})
    services.supplement(an, dossier.tracking_code, {})  # answered: processing again
    with pytest.raises(DomainValidationError) as err:
        services.supplement(an, dossier.tracking_code, {}, files={"lodging_document": _file(NEW_LEASE)})
    assert [(p.field, p.rule) for p in err.value.problems] == [("status", "not_sent_back")]
    dossier.refresh_from_db()
    assert "previous" not in dossier.items["lodging_document"]
    assert len(list(upload_dir.iterdir())) == 1  # no file written for a refused replacement


def test_a_replacement_that_does_not_commit_leaves_no_file(
    an: int, other_ward_police: Person, upload_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier = sent_back(an, other_ward_police)

    def fails(*args: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_replace_document", fails)
    with pytest.raises(RuntimeError):
        services.supplement(an, dossier.tracking_code, {}, files={"lodging_document": _file(NEW_LEASE)})
    assert len(list(upload_dir.iterdir())) == 1
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.SENT_BACK


def test_pages_the_citizen_replaces_through_the_form_others_are_refused(
    an: int,
    mai: int,
    other_ward_police: Person,
    ward_police: Person,
    citizen_client: Callable[..., Client],
    staff_client: Callable[[Person], Client],
) -> None:
    dossier = sent_back(an, other_ward_police)
    page = f"/dich-vu-cong/ho-so/{dossier.tracking_code}/"
    earlier = f"/dich-vu-cong/ho-so/{dossier.tracking_code}/tai-lieu/lodging_document/?truoc=0"

    other = citizen_client(mai, level=2)
    assert other.post(page, {**_values(), "lodging_document": _file(NEW_LEASE)}).status_code == 404
    other.logout()

    c = citizen_client(an, level=2)
    form = c.get(page).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'name="lodging_document"' in form
    bad = c.post(
        page, {**_values(), "idempotency_key": "s" * 24, "lodging_document": _file(b"GIF89a", "x.gif")}
    )
    assert bad.status_code == 422 and "lodging_document" in bad.content.decode()
    done = c.post(page, {**_values(), "idempotency_key": "s" * 24, "lodging_document": _file(NEW_LEASE)})
    assert done.status_code == 302
    shown = c.get(page).content.decode()
    assert 'data-testid="replaced"' in shown and "document_replaced" in shown
    assert c.get(earlier).content == OLD_LEASE
    c.logout()

    official = f"/dich-vu-cong/can-bo/{dossier.tracking_code}/tai-lieu/lodging_document/?truoc=0"
    assert staff_client(ward_police).get(official).status_code == 403  # another ward
    c.logout()
    assert staff_client(other_ward_police).get(official).content == OLD_LEASE


def test_the_daily_sweep_removes_only_files_no_dossier_refers_to(
    an: int, other_ward_police: Person, upload_dir: Path
) -> None:
    dossier = sent_back(an, other_ward_police)
    services.supplement(an, dossier.tracking_code, {}, files={"lodging_document": _file(NEW_LEASE)})
    kept = sorted(p.name for p in upload_dir.iterdir())  # the lease and the one it replaced
    orphan = upload_dir / ("ab" * 16 + ".pdf")  # a killed submission's file
    orphan.write_bytes(OLD_LEASE)
    foreign = upload_dir / "README"  # not a stored upload's name: never touched
    foreign.write_text("x")

    out = io.StringIO()
    call_command("services", "sweep-uploads", stdout=out)  # default grace: a day
    assert "removed 0" in out.getvalue() and orphan.exists()
    two_hours_ago = time.time() - 2 * 3600
    os.utime(orphan, (two_hours_ago, two_hours_ago))  # the killed submission was two hours ago
    call_command("services", "sweep-uploads", "--older-than-hours", "1", stdout=out)
    assert "removed 1" in out.getvalue() and not orphan.exists() and foreign.exists()
    assert sorted(p.name for p in upload_dir.iterdir() if p != foreign) == kept


@pytest.mark.parametrize("hours", ["0", "0.5", "-5"])
def test_the_sweep_refuses_a_grace_period_under_an_hour_so_submissions_in_flight_keep_their_files(
    an: int, upload_dir: Path, hours: str
) -> None:
    """An operator typing ``--older-than-hours 0`` (or a negative number) would delete the
    documents of submissions still being written: the command refuses, naming the flag."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    in_flight = upload_dir / ("cd" * 16 + ".pdf")  # a submission writing its document right now
    in_flight.write_bytes(NEW_LEASE)
    with pytest.raises(CommandError) as refused:
        call_command("services", "sweep-uploads", "--older-than-hours", hours, stdout=io.StringIO())
    assert "--older-than-hours" in str(refused.value) and "1" in str(refused.value)
    assert in_flight.exists()
