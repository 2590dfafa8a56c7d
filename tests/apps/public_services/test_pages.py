"""The pages: the catalogue, the citizen's prefilled form (log-in, eID account, level), the
dossier and its printable signed result, the public verification, and the officials' queue with
its denial for another ward."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dancu.apps.public_services.models import Dossier
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.conftest import Person

pytestmark = pytest.mark.django_db
FORM = "/dich-vu-cong/nop/{}/"


def _key(page: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_catalogue_is_public_and_lists_the_25_services(client: Client) -> None:
    page = client.get("/dich-vu-cong/").content.decode()
    assert page.count("data-service=") == 29  # the 25 essential ones and 4 more of the city's list
    assert "Xác nhận số Chứng minh nhân dân 9 số" in page
    assert client.get("/dich-vu-cong/?paperless=1").content.decode().count("data-service=") == 20


def test_a_visitor_is_sent_to_the_eid_log_in(client: Client) -> None:
    response = client.get(FORM.format("temporary-residence"))
    assert response.status_code == 302 and response["Location"].startswith("/eid/login/?next=")


def test_a_staff_user_without_an_eid_account_is_refused(client: Client, ward_police: Person) -> None:
    client.force_login(ward_police.user)
    assert client.get(FORM.format("cmnd-confirmation")).status_code == 403


def test_a_level_2_service_steps_the_citizen_up(an: int, citizen_client: Callable[..., Client]) -> None:
    response = citizen_client(an, level=1).get(FORM.format("permanent-residence"))
    assert response.status_code == 302
    assert response["Location"].startswith("/eid/step-up/?acr=urn%3Adancu%3Aacr%3Alevel2&next=")
    assert citizen_client(an, level=2).get(FORM.format("permanent-residence")).status_code == 200


def test_a_registry_that_is_down_shows_a_clear_message_and_stores_nothing(
    an: int, citizen_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    from dancu.apps.public_services import services

    def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "prefill", down)
    response = citizen_client(an).get(FORM.format("temporary-absence"))
    assert response.status_code == 503
    assert 'data-testid="unavailable"' in response.content.decode()


def test_the_form_shows_the_registry_data_with_its_source_and_asks_only_the_rest(
    an: int, citizen_client: Callable[..., Client]
) -> None:
    page = citizen_client(an).get(FORM.format("temporary-residence")).content.decode()
    assert "Nguyễn Văn An" in page and "001085012345" in page
    assert "CSDL quốc gia về dân cư" in page
    assert 'name="temporary_address"' in page and 'name="full_name"' not in page


def test_submitting_twice_with_one_form_makes_one_dossier_then_the_official_approves(
    an: int, citizen_client: Callable[..., Client], other_ward_police: Person, ward_police: Person
) -> None:
    c = citizen_client(an)
    key = _key(c.get(FORM.format("temporary-residence")).content.decode())
    until = (timezone.localdate() + timedelta(days=100)).strftime("%d/%m/%Y")
    data = {
        "idempotency_key": key,
        "temporary_address": HOAN_KIEM_ADDRESS,
        "stay_until": until,
        "lodging_basis": "Hợp đồng thuê nhà",
    }
    first = c.post(FORM.format("temporary-residence"), data)
    second = c.post(FORM.format("temporary-residence"), data)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    dossier = Dossier.objects.get()
    assert c.get("/dich-vu-cong/ho-so/").content.decode().count("data-tracking=") == 1
    # The official of another ward is denied, in the queue and on the dossier.
    c.force_login(ward_police.user)
    assert dossier.tracking_code not in c.get("/dich-vu-cong/can-bo/").content.decode()
    assert c.get(f"/dich-vu-cong/can-bo/{dossier.tracking_code}/").status_code == 403
    assert c.post(f"/dich-vu-cong/can-bo/{dossier.tracking_code}/approve/").status_code == 403
    # The competent official sees the SLA and approves.
    c.force_login(other_ward_police.user)
    queue = c.get("/dich-vu-cong/can-bo/").content.decode()
    assert dossier.tracking_code in queue and 'data-sla="on_time"' in queue
    assert c.post(f"/dich-vu-cong/can-bo/{dossier.tracking_code}/approve/").status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.DONE


def test_problems_are_shown_in_vietnamese_naming_the_field(
    an: int, citizen_client: Callable[..., Client]
) -> None:
    c = citizen_client(an)
    key = _key(c.get(FORM.format("temporary-residence")).content.decode())
    response = c.post(FORM.format("temporary-residence"), {"idempotency_key": key, "stay_until": "hôm qua"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Địa chỉ tạm trú" in page and "Vui lòng nhập" in page and "dd/mm/yyyy" in page
    assert not Dossier.objects.exists()


def test_the_result_is_printable_with_a_qr_and_publicly_verifiable(
    an: int, mai: int, citizen_client: Callable[..., Client]
) -> None:
    c = citizen_client(an)
    key = _key(c.get(FORM.format("cmnd-confirmation")).content.decode())
    c.post(FORM.format("cmnd-confirmation"), {"idempotency_key": key, "old_number": "012345678"})
    code = Dossier.objects.get().tracking_code
    page = c.get(f"/dich-vu-cong/ho-so/{code}/ket-qua/").content.decode()
    assert "data:image/svg+xml" in page and "012345678" in page
    assert c.get(f"/dich-vu-cong/ho-so/{code}/ket-qua/?format=json").status_code == 200
    # Anyone can verify the printed QR; the holder's number is masked.
    public = Client()
    verified = public.get(f"/dich-vu-cong/xac-minh/{code}/").content.decode()
    assert 'data-testid="valid"' in verified and "001******345" in verified and "001085012345" not in verified
    assert public.get("/dich-vu-cong/xac-minh/DVC-0000-XXXXXXXX/").status_code == 404
    # Another citizen cannot open it.
    assert citizen_client(mai).get(f"/dich-vu-cong/ho-so/{code}/").status_code == 404


def test_a_hotel_clerk_may_not_open_the_work_queue(client: Client, hotel_clerk: Person) -> None:
    client.force_login(hotel_clerk.user)
    assert client.get("/dich-vu-cong/can-bo/").status_code == 403


def test_the_api_lists_the_catalogue_and_checks_a_result(
    an: int, citizen_client: Callable[..., Client]
) -> None:
    public = Client()
    listed = public.get("/api/v1/public-services/catalogue?paperless=true").json()
    assert [s["number"] for s in listed] == [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        11,
        15,
        16,
        17,
        20,
        22,
        23,
        26,
        27,
        28,
        29,
    ]
    assert {i["source"] for i in listed[0]["items"]} == {"registry", "citizen"}
    c = citizen_client(an)
    key = _key(c.get(FORM.format("cmnd-confirmation")).content.decode())
    c.post(FORM.format("cmnd-confirmation"), {"idempotency_key": key, "old_number": "012345678"})
    code = Dossier.objects.get().tracking_code
    checked = public.get(f"/api/v1/public-services/results/{code}").json()
    assert checked["valid"] is True and checked["holder_id_masked"] == "001******345"
    assert public.get("/api/v1/public-services/results/DVC-0000-XXXX").json()["valid"] is False


def test_the_pages_are_vietnamese_first_and_english_on_request(client: Client) -> None:
    vi = client.get("/dich-vu-cong/").content.decode()
    assert "Dịch vụ công trực tuyến" in vi and "Nộp trực tuyến" in vi
    client.cookies["django_language"] = "en"
    en = client.get("/dich-vu-cong/").content.decode()
    assert "Online public services" in en and "Confirmation of the old 9-digit CMND number" in en


def test_the_work_queue_pages_fifty_dossiers_most_urgent_first(
    an: int, citizen_client: Callable[..., Client], other_ward_police: Person
) -> None:
    c = citizen_client(an)
    key = _key(c.get(FORM.format("temporary-residence")).content.decode())
    until = (timezone.localdate() + timedelta(days=100)).strftime("%d/%m/%Y")
    data = {
        "idempotency_key": key,
        "temporary_address": HOAN_KIEM_ADDRESS,
        "stay_until": until,
        "lodging_basis": "Hợp đồng thuê nhà",
    }
    assert c.post(FORM.format("temporary-residence"), data).status_code == 302
    first = Dossier.objects.get()
    # 120 more open dossiers of the same authority, due on later days; one closed, never listed.
    clones = []
    for n in range(121):
        clone = Dossier.objects.get(pk=first.pk)
        clone.pk = None
        clone.tracking_code = f"{first.tracking_code[:-4]}{n:04d}"
        clone.idempotency_key = f"bulk-{n}"
        clone.due_on = first.due_on + timedelta(days=1 + n)
        clone.status = Dossier.Status.DONE if n == 120 else Dossier.Status.SUBMITTED
        clones.append(clone)
    Dossier.objects.bulk_create(clones)
    c.force_login(other_ward_police.user)

    page1 = c.get("/dich-vu-cong/can-bo/").content.decode()
    page3 = c.get("/dich-vu-cong/can-bo/?page=3").content.decode()

    codes1 = re.findall(r'data-tracking="([^"]+)"', page1)
    assert len(codes1) == 50 and codes1[0] == first.tracking_code
    assert len(re.findall(r'data-tracking="', page3)) == 21
    assert 'data-testid="queue-pager"' in page1 and "121" in page1
    assert clones[-1].tracking_code not in page1 + page3
    assert 'data-tracking="' in c.get("/dich-vu-cong/can-bo/?page=999").content.decode()  # last page


def test_the_queue_index_covers_exactly_the_open_statuses() -> None:
    index = next(i for i in Dossier._meta.indexes if i.name == "ps_dossier_open_queue")
    assert index.condition is not None
    (_, statuses) = index.condition.children[0]
    assert set(statuses) == {str(s) for s in Dossier.OPEN}


def test_the_supervisor_assigns_a_dossier_to_a_colleague_of_the_same_authority(
    an: int,
    citizen_client: Callable[..., Client],
    other_ward_police: Person,
    ward_police: Person,
    make_person: Callable[..., Person],
) -> None:
    """Hoàn Kiếm police: the head (role admin) assigns An's dossier to officer.hoankiem; a plain
    officer cannot assign, nor can the head assign to an officer of another ward."""
    head = make_person(
        "truong.hoankiem",
        org_code="CA-P-HOANKIEM",
        kind="police_commune",
        role="admin",
        province="01",
        ward="00070",
    )
    c = citizen_client(an)
    key = _key(c.get(FORM.format("temporary-residence")).content.decode())
    until = (timezone.localdate() + timedelta(days=100)).strftime("%d/%m/%Y")
    data = {
        "idempotency_key": key,
        "temporary_address": HOAN_KIEM_ADDRESS,
        "stay_until": until,
        "lodging_basis": "Hợp đồng thuê nhà",
    }
    assert c.post(FORM.format("temporary-residence"), data).status_code == 302
    dossier = Dossier.objects.get()
    url = f"/dich-vu-cong/can-bo/{dossier.tracking_code}/assign-to/"

    c.force_login(other_ward_police.user)  # a plain officer: no assignment form, refused
    assert (
        'data-testid="assign-to"'
        not in c.get(f"/dich-vu-cong/can-bo/{dossier.tracking_code}/").content.decode()
    )
    refused = c.post(url, {"assignee": str(other_ward_police.user.pk)})
    assert refused.status_code == 403 and "<code>supervisor</code>" in refused.content.decode()

    c.force_login(head.user)
    page = c.get(f"/dich-vu-cong/can-bo/{dossier.tracking_code}/").content.decode()
    assert 'data-testid="assign-to"' in page and "officer.hoankiem" in page and "officer.tayho" not in page
    wrong = c.post(url, {"assignee": str(ward_police.user.pk)})  # Tây Hồ's officer
    assert wrong.status_code == 422 and "<code>colleague</code>" in wrong.content.decode()
    assert c.post(url, {"assignee": str(other_ward_police.user.pk)}).status_code == 302

    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.PROCESSING
    assert (dossier.assigned_user_id, dossier.assigned_label) == (
        other_ward_police.user.pk,
        "officer.hoankiem",
    )
    assert dossier.events.filter(action="assigned", actor_label="truong.hoankiem").exists()
