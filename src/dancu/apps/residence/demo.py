"""Demo data of residence notification: the demo hotel (Khách sạn Hồ Tây, organisation KS-DEMO
of the ``demo`` command, in Phường Tây Hồ) registered as an establishment, with its clerk
``letan.khachsan`` (password ``dancu-demo-2026``); the ward police officer ``canbo.tayho`` sees its
guests at /residence/police/. Also a coach operator (``nhaxe.demo``, /residence/coach/), a
hospital (``dieuduong.demo``, /residence/hospital/) and a statistics officer of the tourism
department (``thongke.dulich``, /residence/statistics/). Idempotent."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from dancu.apps.residence import services
from dancu.apps.residence.models import Establishment
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import add_member, create_organisation

DEMO_PASSWORD = "dancu-demo-2026"  # noqa: S105 (demo accounts only, documented)
ORG_CODE = "KS-DEMO"
CLERK = "letan.khachsan"
ADDRESS = "Số 1 Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội"


def seed_demo() -> list[tuple[str, str]]:
    """Register the demo hotel as an establishment (and its clerk, if the ``demo`` command has
    not created them); returns (username, description) pairs for the banner."""
    org = Organisation.objects.filter(code=ORG_CODE).first() or create_organisation(
        code=ORG_CODE,
        name="Khách sạn Hồ Tây (demo)",
        kind="hotel",
        jurisdiction_province_code="01",
        jurisdiction_ward_code="00103",
    )
    users = get_user_model()
    user = users.objects.filter(username=CLERK).first()
    if user is None:
        user = users.objects.create_user(username=CLERK, password=DEMO_PASSWORD)
    add_member(user, org, "clerk")
    if not Establishment.objects.filter(organisation=org).exists():
        services.register_establishment(
            org.pk,
            kind="hotel",
            name=org.name,
            address=ADDRESS,
            owner_name="Công ty TNHH Khách sạn Hồ Tây (demo)",
            rooms=40,
            beds=80,
        )
    coach = _establishment(
        "NX-DEMO", "Nhà xe Hồ Tây Express (demo)", "transport", "nhaxe.demo", "coach_operator"
    )
    hospital = _establishment("BV-DEMO", "Bệnh viện Hồ Tây (demo)", "clinic", "dieuduong.demo", "hospital")
    stats = Organisation.objects.filter(code="SO-DULICH-DEMO").first() or create_organisation(
        code="SO-DULICH-DEMO", name="Sở Du lịch (demo)", kind="department", jurisdiction_province_code="01"
    )
    add_member(_user("thongke.dulich"), stats, "statistics")
    from dancu.apps.residence.statistics import assign_sector

    assign_sector(stats.pk, "tourism", by="dancu demo")  # Sở Du lịch sees tourism accommodation
    return [
        (CLERK, f"Residence check-in (/residence/) — {org.name}"),
        ("canbo.tayho", "Residence notifications of the ward (/residence/police/)"),
        ("nhaxe.demo", f"Coach trips and passenger manifests (/residence/coach/) — {coach}"),
        ("dieuduong.demo", f"In-patients and carers (/residence/hospital/) — {hospital}"),
        ("thongke.dulich", "Anonymised residence statistics, CSV/XLSX (/residence/statistics/)"),
    ]


def _user(username: str) -> object:
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    return user or users.objects.create_user(username=username, password=DEMO_PASSWORD)


def _establishment(code: str, name: str, org_kind: str, username: str, kind: str) -> str:
    org = Organisation.objects.filter(code=code).first() or create_organisation(
        code=code, name=name, kind=org_kind, jurisdiction_province_code="01", jurisdiction_ward_code="00103"
    )
    add_member(_user(username), org, "clerk")
    if not Establishment.objects.filter(organisation=org).exists():
        services.register_establishment(
            org.pk,
            kind=kind,
            name=name,
            address=ADDRESS,
            owner_name=name,
            seats=45 if kind == "coach_operator" else 0,
            beds=200 if kind == "hospital" else 0,
        )
    return name
