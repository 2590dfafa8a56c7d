"""Uploads, the last resort: the lodging document of a residence registration when the place is
not the applicant's own. Checked by magic bytes and size on the server, stored outside the web
root under a random name with its SHA-256, shown to the competent official (each view in the
dossier's history) and to the applicant, never to another ward or another citizen; a dossier
with a document is not counted paperless.

Named actors: ``an`` (the applicant), ``other_ward_police`` (Công an phường Hoàn Kiếm: the
competent official of a temporary residence in Hoàn Kiếm), ``ward_police`` (Công an phường Tây
Hồ: an official of another ward), ``mai`` (another citizen).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dancu.apps.kiosk import dashboard
from dancu.apps.public_services import services, uploads
from dancu.apps.public_services.models import Dossier
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.apps.public_services.test_pages import _key
from tests.conftest import Person

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
FORM = "/dich-vu-cong/nop/temporary-residence/"


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Path, settings: object) -> Path:
    folder = tmp_path / "uploads"
    settings.DANCU_PUBLIC_SERVICES_UPLOAD_DIR = str(folder)  # type: ignore[attr-defined]
    settings.DANCU_PUBLIC_SERVICES_UPLOAD_MAX_BYTES = 1024  # type: ignore[attr-defined]
    return folder


def _values() -> dict[str, str]:
    until = (timezone.localdate() + timedelta(days=180)).strftime("%d/%m/%Y")
    return {"temporary_address": HOAN_KIEM_ADDRESS, "stay_until": until, "lodging_basis": "Hợp đồng thuê nhà"}


def _submit(user_id: int, data: bytes, name: str = "hop-dong.pdf", key: str = "u" * 24) -> Dossier:
    dossier, _ = services.submit(
        user_id,
        "temporary-residence",
        _values(),
        idempotency_key=key,
        files={"lodging_document": SimpleUploadedFile(name, data, "application/pdf")},
    )
    return dossier


def test_the_applicant_attaches_a_lease_stored_by_a_random_name_with_its_sha256(
    an: int, upload_dir: Path
) -> None:
    dossier = _submit(an, PDF, name="../../Nguyễn Văn An\x00 hợp đồng.pdf")
    entry = dossier.items["lodging_document"]
    assert entry["source"] == "upload" and dossier.has_upload
    assert entry["value"] == "Nguyễn Văn An hợp đồng.pdf"  # path and control characters removed
    assert entry["file"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert entry["file"]["content_type"] == "application/pdf"
    [stored] = upload_dir.iterdir()
    assert stored.name == entry["file"]["stored"] and "An" not in stored.name and stored.read_bytes() == PDF


def test_a_retried_submission_stores_no_second_file(an: int, upload_dir: Path) -> None:
    first = _submit(an, PDF)
    again = _submit(an, PNG)
    assert again.pk == first.pk and len(list(upload_dir.iterdir())) == 1


@pytest.mark.parametrize(
    ("data", "name", "rule"),
    [
        (b"MZ\x90\x00 not a document", "hop-dong.pdf", "file_type"),  # named .pdf, is not one
        (b"%PDF-" + b"x" * 1024, "hop-dong.pdf", "max_size"),
        (b"", "hop-dong.pdf", "empty"),
    ],
)
def test_a_bad_file_is_refused_naming_the_field_and_nothing_is_stored(
    an: int, upload_dir: Path, data: bytes, name: str, rule: str
) -> None:
    with pytest.raises(DomainValidationError) as err:
        _submit(an, data, name=name)
    [problem] = err.value.problems
    assert (problem.field, problem.rule) == ("lodging_document", rule)
    assert "Hợp đồng thuê" in problem.message
    assert not Dossier.objects.exists() and not (upload_dir.exists() and any(upload_dir.iterdir()))


def test_an_invalid_form_writes_no_file(an: int, upload_dir: Path) -> None:
    with pytest.raises(DomainValidationError):
        services.submit(
            an,
            "temporary-residence",
            {**_values(), "stay_until": "31/02/2020"},
            idempotency_key="v" * 24,
            files={"lodging_document": SimpleUploadedFile("a.pdf", PDF)},
        )
    assert not (upload_dir.exists() and any(upload_dir.iterdir()))


def test_the_competent_official_sees_the_document_and_the_view_is_recorded(
    an: int, other_ward_police: Person
) -> None:
    dossier = _submit(an, PDF)
    entry, data = services.document_for(other_ward_police.actor, dossier.tracking_code, "lodging_document")
    assert data == PDF and entry["value"] == "hop-dong.pdf"
    assert dossier.events.filter(action="document_viewed", note="lodging_document").count() == 1


def test_an_official_of_another_ward_is_denied(an: int, ward_police: Person) -> None:
    dossier = _submit(an, PDF)
    with pytest.raises(AccessDenied):
        services.document_for(ward_police.actor, dossier.tracking_code, "lodging_document")
    assert not dossier.events.filter(action="document_viewed").exists()


def test_a_tampered_file_is_not_served(an: int, other_ward_police: Person, upload_dir: Path) -> None:
    dossier = _submit(an, PDF)
    (upload_dir / dossier.items["lodging_document"]["file"]["stored"]).write_bytes(PDF + b"changed")
    with pytest.raises(NotFound):
        services.document_for(other_ward_police.actor, dossier.tracking_code, "lodging_document")


def test_pages_the_applicant_and_the_competent_official_download_others_are_refused(
    an: int,
    mai: int,
    citizen_client: Callable[..., Client],
    other_ward_police: Person,
    ward_police: Person,
) -> None:
    c = citizen_client(an)
    page = c.get(FORM).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="lodging_document"' in page
    key = _key(page)
    posted = c.post(
        FORM, {**_values(), "idempotency_key": key, "lodging_document": SimpleUploadedFile("l.png", PNG)}
    )
    assert posted.status_code == 302
    dossier = Dossier.objects.get()
    own = f"/dich-vu-cong/ho-so/{dossier.tracking_code}/tai-lieu/lodging_document/"
    assert own in c.get(f"/dich-vu-cong/ho-so/{dossier.tracking_code}/").content.decode()
    response = c.get(own)
    assert response.status_code == 200 and response.content == PNG and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Disposition"].startswith(
        "attachment"
    )
    # Another citizen does not see it.
    assert citizen_client(mai).get(own).status_code == 404
    official = f"/dich-vu-cong/can-bo/{dossier.tracking_code}/tai-lieu/lodging_document/"
    c.force_login(ward_police.user)
    assert c.get(official).status_code == 403
    c.force_login(other_ward_police.user)
    assert official in c.get(f"/dich-vu-cong/can-bo/{dossier.tracking_code}/").content.decode()
    assert c.get(official).content == PNG
    assert c.get(f"/dich-vu-cong/can-bo/{dossier.tracking_code}/tai-lieu/stay_until/").status_code == 404


def test_a_wrong_file_on_the_form_is_shown_in_vietnamese(
    an: int, citizen_client: Callable[..., Client]
) -> None:
    c = citizen_client(an)
    key = _key(c.get(FORM).content.decode())
    bad = SimpleUploadedFile("hop-dong.pdf", b"<html>not a pdf</html>", "application/pdf")
    response = c.post(FORM, {**_values(), "idempotency_key": key, "lodging_document": bad})
    assert response.status_code == 422
    assert "chỉ nhận tệp PDF, JPEG hoặc PNG" in response.content.decode()
    assert not Dossier.objects.exists()


def test_a_dossier_with_a_document_is_not_counted_paperless(an: int, other_ward_police: Person) -> None:
    _submit(an, PDF)
    services.submit(an, "temporary-residence", _values(), idempotency_key="w" * 24)
    today = timezone.localdate()
    f = dashboard.filters(other_ward_police.actor, today, today)
    totals = dashboard.evaluate(other_ward_police.actor, f, today=today).totals
    assert (totals.total, totals.paperless) == (2, 1)


def test_a_stored_name_outside_the_folder_is_never_read() -> None:
    with pytest.raises(FileNotFoundError):
        uploads.read({"file": {"stored": "../settings.py", "sha256": ""}})


def test_two_dossiers_with_documents_keep_their_own_idempotency_keys(an: int, upload_dir: Path) -> None:
    """Regression (found by the crash test): the loop over the documents overwrote the form's
    idempotency key with the item's key, so An's second dossier with a document came back as his
    first one."""
    first = _submit(an, PDF, key="k" * 24)
    second = _submit(an, PNG, key="m" * 24)
    assert first.idempotency_key == "k" * 24 and second.idempotency_key == "m" * 24
    assert second.pk != first.pk and len(list(upload_dir.iterdir())) == 2
