"""``dancu demo`` (run by ``make run``): set up and serve the demo on the embedded SQLite.

Migrates, loads the administrative units, seeds a synthetic population (``DANCU_DEMO_CITIZENS``,
default 20,000 in Hà Nội) when the registry is empty, creates one demo account per role, prints the
URL and the log-ins, and serves on http://127.0.0.1:8000. A second run reuses what exists.
Demo mode only: the command refuses to run unless ``DANCU_DEMO=1`` (set by the ``dancu`` CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_PASSWORD = "dancu-demo-2026"  # noqa: S105 — demo accounts only, printed on purpose


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role_vi: str
    org_code: str
    org_name: str
    kind: str
    role: str
    ward: str = ""


DEMO_ACCOUNTS = [
    DemoAccount(
        "canbo.thanhpho",
        "Cán bộ Công an thành phố",
        "CA-HN",
        "Công an thành phố Hà Nội",
        "police_city",
        "officer",
    ),
    DemoAccount(
        "canbo.tayho",
        "Cán bộ Công an phường Tây Hồ",
        "CA-P-TAYHO",
        "Công an phường Tây Hồ",
        "police_commune",
        "officer",
        ward="00103",
    ),
    DemoAccount(
        "quantri.dancu",
        "Quản trị dữ liệu dân cư",
        "CA-HN",
        "Công an thành phố Hà Nội",
        "police_city",
        "admin",
    ),
    DemoAccount(
        "canbo.ubnd",
        "Cán bộ UBND phường Tây Hồ",
        "UBND-P-TAYHO",
        "UBND phường Tây Hồ",
        "committee",
        "officer",
        ward="00103",
    ),
    # The commune's judicial and civil-status officer (ADR 0017 §9): guardianships and court
    # restrictions of parental rights of Tây Hồ's minors at /giam-ho/.
    DemoAccount(
        "hotich.tayho",
        "Công chức tư pháp – hộ tịch UBND phường Tây Hồ (giám hộ /giam-ho/)",
        "UBND-P-TAYHO",
        "UBND phường Tây Hồ",
        "committee",
        "civil_status",
        ward="00103",
    ),
    # Data cleaning (issue 8): a department officer cleans sector lists at /cleaning/.
    DemoAccount(
        "canbo.sonoivu",
        "Cán bộ Sở Nội vụ (làm sạch dữ liệu /cleaning/)",
        "SO-NV",
        "Sở Nội vụ thành phố Hà Nội",
        "department",
        "officer",
    ),
    DemoAccount(
        "letan.khachsan",
        "Lễ tân khách sạn",
        "KS-DEMO",
        "Khách sạn Hồ Tây (demo)",
        "hotel",
        "clerk",
        ward="00103",
    ),
]


class Command(BaseCommand):
    help = "Set up and serve the demo (make run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--citizens", type=int, default=None, help="size of the demo population")
        parser.add_argument("--no-serve", action="store_true", help="set up only, do not serve")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError(
                "demo: run it as `dancu demo` (it sets DANCU_DEMO=1); never on a production database"
            )
        citizens = options["citizens"] if options["citizens"] is not None else settings.DANCU_DEMO_CITIZENS
        if citizens < 0:
            raise CommandError("--citizens must be 0 or more")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_adminunits", verbosity=1)
        self._seed(citizens)
        self._accounts()
        self._banner(options["addrport"])
        if not options["no_serve"]:
            call_command("runserver", options["addrport"], use_reloader=False)

    def _seed(self, citizens: int) -> None:
        from dancu.blocks.registry.models import Citizen

        existing = Citizen.objects.count()
        if existing:
            self.stdout.write(f"Registry already holds {existing:,} citizens: seeding skipped.")
            return
        if citizens:
            call_command("seed", citizens=citizens, seed=2026, province=settings.DANCU_CITY_PROVINCE_CODE)

    def _accounts(self) -> None:
        from dancu.blocks.organisations.models import Organisation
        from dancu.blocks.organisations.services import add_member

        user_model = get_user_model()
        admin, created = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        platform, _ = Organisation.objects.get_or_create(
            code="VH-DANCU", defaults={"name": "Đơn vị vận hành nền tảng (demo)", "kind": "platform"}
        )
        add_member(admin, platform, "admin")
        for acc in DEMO_ACCOUNTS:
            org, _ = Organisation.objects.get_or_create(
                code=acc.org_code,
                defaults={
                    "name": acc.org_name,
                    "kind": acc.kind,
                    "jurisdiction_province_code": settings.DANCU_CITY_PROVINCE_CODE,
                    "jurisdiction_ward_code": acc.ward,
                },
            )
            user, created = user_model.objects.get_or_create(username=acc.username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            add_member(user, org, acc.role)
        # The front desks' own demo organisations and clerks (identity verification, issue 3).
        from dancu.apps.desks.demo import seed_demo as seed_desks
        from dancu.apps.driving.demo import seed_demo as seed_driving

        # Electronic identification (issue 4): demo citizens with level-1 and level-2 accounts;
        # canbo.tayho (Công an phường Tây Hồ) approves and activates them at /eid-desk/.
        from dancu.blocks.eid.demo import seed_demo as seed_eid

        self._desk_accounts = [*seed_desks(), *seed_driving(), *seed_eid(DEMO_PASSWORD)]
        # The demo relying parties of the OpenID Connect provider (issue 4): /demo/portal/, /demo/app/.
        from dancu.apps.sso_demo.demo import seed_demo as seed_sso_demo

        self._desk_accounts += seed_sso_demo()
        # The staff applications sign in through the same provider (ADR 0011).
        from dancu.apps.web.sso import ensure_platform_client

        ensure_platform_client()
        # Data exchange (issue 5): BHXH Hà Nội and Sở Lao động call the registry through the gateway.
        from dancu.apps.exchange_admin.demo import seed_demo as seed_exchange

        self._desk_accounts += seed_exchange()
        # Residence notification (issue 6): the demo hotel's front desk at /residence/.
        from dancu.apps.residence.demo import seed_demo as seed_residence

        self._desk_accounts += seed_residence()
        # Online public services (issue 7): a dossier waiting at /dich-vu-cong/can-bo/, and the city
        # police and department officials of the multi-step approvals.
        from dancu.apps.public_services.demo import seed_demo as seed_public_services

        self._desk_accounts += seed_public_services(DEMO_PASSWORD)
        # The one-stop office's self-service kiosk (model 2): /kiosk/, enrolled with the printed key.
        from dancu.apps.kiosk.demo import seed_demo as seed_kiosk

        self._desk_accounts += seed_kiosk()
        # Data cleaning applications (issue 8): social-policy loans (/vay-von/), the land office
        # (/dat-dai/) and sector registries (/so-hoa/, GovStack Digital Registries API).
        from dancu.apps.land.demo import seed_demo as seed_land
        from dancu.apps.sector.demo import seed_demo as seed_sector
        from dancu.apps.social_loans.demo import seed_demo as seed_social_loans

        self._desk_accounts += [*seed_social_loans(), *seed_land(), *seed_sector()]

    def _banner(self, addrport: str) -> None:
        w = self.stdout.write
        w("")
        w("=" * 72)
        w(f"  dancu demo: http://{addrport}/")
        w(f"  API docs:   http://{addrport}/api/v1/docs")
        w(f"  Mật khẩu / password for every demo account: {DEMO_PASSWORD}")
        w("  Tài khoản / accounts:")
        w(f"    {'admin':<16} Quản trị hệ thống / platform administrator (/admin/)")
        for acc in DEMO_ACCOUNTS:
            w(f"    {acc.username:<16} {acc.role_vi} — {acc.org_name}")
        for username, description in getattr(self, "_desk_accounts", []):
            w(f"    {username:<16} {description}")
        w("=" * 72)
