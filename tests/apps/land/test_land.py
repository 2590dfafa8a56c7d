"""The land office's register cleaned against the registry (model 34): owners linked to their ID
numbers (the old CMND in the book is enough), corrections proposed with their provenance and
decided one by one (the cells as received are never overwritten), unmatched and deceased owners
queued, the register exported. Another land office sees nothing; a department that is no land
office and a hotel clerk are refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client

from dancu.apps.land import services
from dancu.apps.land.models import Correction, LandOffice, LandRecord
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.linkage import services as linkage
from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.services import record_death
from dancu.errors import AccessDenied, Conflict, DomainValidationError, NotFound
from tests.conftest import HANOI, Person

BOOK = (
    "Số GCN,Thửa đất,Họ tên chủ sử dụng,Số CMND/CCCD,Ngày sinh,Địa chỉ\n"
    'CS01234,101,NGUYEN VAN AN,012345678,02/03/1985,"Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"\n'
    'CS01235,102,Phạm Văn Chi,001060012348,05/01/1960,"Phường Quảng An, Quận Tây Hồ, Hà Nội"\n'
    "CS09999,199,Hoàng Văn Vắng,,01/01/1950,\n"
)


def _office(make_person: Callable[..., Person], username: str, code: str) -> Person:
    p = make_person(username, org_code=code, org_name="Văn phòng Đăng ký đất đai", kind="department",
                    role="officer", province=HANOI)  # fmt: skip
    LandOffice.objects.create(organisation_id=p.actor.organisation_id or 0)
    return p


@pytest.fixture
def land_officer(make_person: Callable[..., Person]) -> Person:
    """An officer of Văn phòng Đăng ký đất đai Hà Nội."""
    return _office(make_person, "canbo.datdai", "VPDKDD-HN")


@pytest.fixture
def owners(nguyen_van_an: CitizenView, register: Callable[..., CitizenView], registrar: Person) -> None:
    register(id_number="001060012348", full_name="Phạm Văn Chi", date_of_birth=date(1960, 1, 5), sex="M")
    record_death(registrar.ctx("registry.administration"), "001060012348", date_of_death=date(2025, 2, 1),
                 reason="Khai tử", legal_basis="Luật Hộ tịch 2014")  # fmt: skip


MAPPING = {"full_name": "Họ tên chủ sử dụng", "id_number": "Số CMND/CCCD", "date_of_birth": "Ngày sinh",
           "address": "Địa chỉ"}  # fmt: skip


def _cleaned(officer: Person, content: str = BOOK) -> linkage.JobView:
    ctx = officer.ctx("data.cleaning")
    job = linkage.upload(ctx, "so.csv", content.encode())
    linkage.set_mapping(ctx, job.job_id, MAPPING)
    return linkage.start(ctx, job.job_id, background=False)


def _imported(officer: Person, content: str = BOOK) -> services.RegisterView:
    job = _cleaned(officer, content)
    return services.import_register(officer.actor, job.job_id, title="Sổ Tây Hồ", certificate_column="Số GCN",
                                    parcel_column="Thửa đất")  # fmt: skip


def test_owners_are_linked_and_the_office_gets_a_queue(land_officer: Person, owners: None) -> None:
    reg = _imported(land_officer)
    view, records, queue = services.get_register(land_officer.actor, reg.register_id)
    by_cert = {r.certificate_no: r for r in records}
    assert by_cert["CS01234"].id_number == "001085012345"  # the old CMND in the book is enough
    assert by_cert["CS01234"].id_cell == "012345678"  # kept as received
    assert "deceased" in by_cert["CS01235"].flags
    assert by_cert["CS09999"].result == "unmatched" and not by_cert["CS09999"].id_number
    queued = {r.certificate_no for r in queue}
    assert {"CS01235", "CS09999"} <= queued and view.linked == 2
    assert AuditEvent.objects.filter(action="land.import").count() == 1


def test_corrections_carry_provenance_and_are_decided_never_silently_applied(
    land_officer: Person, owners: None
) -> None:
    reg = _imported(land_officer)
    fixes = list(Correction.objects.filter(record__register_id=reg.register_id))
    assert fixes and all(c.status == "proposed" and c.source for c in fixes)
    an_fix = next(c for c in fixes if c.record.certificate_no == "CS01234" and c.field == "full_name")
    assert (an_fix.from_value, an_fix.to_value) == ("NGUYEN VAN AN", "Nguyễn Văn An")
    services.decide_correction(land_officer.actor, an_fix.pk, accept=True)
    record = LandRecord.objects.get(pk=an_fix.record_id)
    assert record.owner_name == "NGUYEN VAN AN"  # the register's cell is untouched
    with pytest.raises(Conflict):
        services.decide_correction(land_officer.actor, an_fix.pk, accept=False)
    _, content = services.export_register(land_officer.actor, reg.register_id, fmt="csv")
    text = content.decode("utf-8-sig")
    assert "full_name: NGUYEN VAN AN → Nguyễn Văn An" in text and "001085012345" in text
    ev = AuditEvent.objects.get(action="land.correction")
    assert ev.detail["status"] == "accepted" and ev.detail["source"] == an_fix.source


def test_another_land_office_sees_nothing_and_others_are_refused(
    land_officer: Person, owners: None, make_person: Callable[..., Person], hotel_clerk: Person
) -> None:
    reg = _imported(land_officer)
    other = _office(make_person, "canbo.datdai2", "VPDKDD-HCM")
    assert services.registers(other.actor) == []
    with pytest.raises(NotFound):
        services.get_register(other.actor, reg.register_id)
    fix = Correction.objects.filter(record__register_id=reg.register_id).first()
    assert fix is not None
    with pytest.raises(NotFound):
        services.decide_correction(other.actor, fix.pk, accept=True)
    health = make_person(
        "officer.yte", org_code="SO-YT", org_name="Sở Y tế", kind="department", role="officer", province=HANOI
    )
    for outsider in (health, hotel_clerk):
        with pytest.raises(AccessDenied):
            services.registers(outsider.actor)
    assert AuditEvent.objects.filter(action="land.read", result=AuditEvent.Result.DENIED).count() == 2


def test_a_bad_mapping_or_a_second_import_is_refused(land_officer: Person, owners: None) -> None:
    job = _cleaned(land_officer)
    with pytest.raises(DomainValidationError) as err:
        services.import_register(
            land_officer.actor, job.job_id, title="x", certificate_column="GCN", parcel_column="Thửa đất"
        )
    assert err.value.problems[0].field == "certificate_column"
    services.import_register(
        land_officer.actor, job.job_id, title="x", certificate_column="Số GCN", parcel_column="Thửa đất"
    )
    with pytest.raises(DomainValidationError) as dup:
        services.import_register(
            land_officer.actor, job.job_id, title="x", certificate_column="Số GCN", parcel_column="Thửa đất"
        )
    assert dup.value.problems[0].rule == "duplicate"


def test_the_land_office_pages(
    land_officer: Person, owners: None, hotel_clerk: Person, logged_in: Callable[[Person], Client]
) -> None:
    reg = _imported(land_officer)
    c = logged_in(land_officer)
    assert c.get("/dat-dai/").status_code == 200
    page = c.get(f"/dat-dai/so/{reg.register_id}/")
    assert page.status_code == 200 and page.content.count(b'data-testid="record"') == 3
    assert b'data-testid="queued"' in page.content and b'data-testid="correction"' in page.content
    fix = Correction.objects.filter(record__register_id=reg.register_id).first()
    assert fix is not None
    r = c.post(f"/dat-dai/so/{reg.register_id}/dinh-chinh/{fix.pk}/", {"decision": "reject"})
    assert r.status_code == 302 and Correction.objects.get(pk=fix.pk).status == "rejected"
    assert (
        c.post(f"/dat-dai/so/{reg.register_id}/dinh-chinh/{fix.pk}/", {"decision": "accept"}).status_code
        == 409
    )
    xlsx = c.get(f"/dat-dai/so/{reg.register_id}/export.xlsx")
    assert xlsx.status_code == 200
    c.logout()
    assert logged_in(hotel_clerk).get("/dat-dai/").status_code == 403


def test_unparseable_corrections_are_refused_not_guessed() -> None:
    assert services.parse_fixes("full_name: A → B (tones); sex:  → M (van_thi)") == [
        {"field": "full_name", "from": "A", "to": "B", "rule": "tones"},
        {"field": "sex", "from": "", "to": "M", "rule": "van_thi"},
    ]
    with pytest.raises(DomainValidationError):
        services.parse_fixes("full_name A to B")


def test_a_verified_owner_sees_only_their_own_certificates(
    land_officer: Person,
    owners: None,
    nguyen_van_an: CitizenView,
    make_person: Callable[..., Person],
    logged_in: Callable[[Person], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dancu.blocks.eid import services as eid

    _imported(land_officer)
    an = make_person("001085012345")  # An's e-identification log-in
    other = make_person("001190099999")  # an account not matched to a registry record
    matched = {an.user.pk: (nguyen_van_an.citizen_id, "001085012345")}
    monkeypatch.setattr(eid, "citizen_of", lambda user_id: matched.get(user_id))  # the eID block's seam
    c = logged_in(an)
    page = c.get("/dat-dai/cua-toi/")
    assert page.status_code == 200 and page.content.count(b'data-testid="certificate"') == 1
    assert b"CS01234" in page.content and b"CS01235" not in page.content  # Chi's certificate is not his
    ev = AuditEvent.objects.get(action="land.self_read")
    assert ev.subject_citizen_id == nguyen_van_an.citizen_id and ev.purpose == "citizen.self_access"
    c.logout()
    assert logged_in(other).get("/dat-dai/cua-toi/").status_code == 404
