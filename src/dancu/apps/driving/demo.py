"""Demo data of the driving-school pages: one driving school of Hà Nội and its clerk.

``seed_demo()`` is idempotent (the lead's ``demo`` command calls it on every start) and returns
(username, description) pairs for the command's banner.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from dancu.apps.driving.models import DrivingSite
from dancu.apps.driving.services import designate_site
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import add_member, create_organisation

DEMO_PASSWORD = "dancu-demo-2026"  # noqa: S105 — the documented demo password, demo mode only
SCHOOL_CODE = "DT-LAIXE-TAYHO"
SCHOOL_NAME = "Trung tâm đào tạo lái xe Tây Hồ"
CLERK = "clerk.driving"


def seed_demo() -> list[tuple[str, str]]:
    """Create (once) the demo driving school and its clerk; returns the clerk's (username, description)."""
    school = Organisation.objects.filter(code=SCHOOL_CODE).first() or create_organisation(
        code=SCHOOL_CODE,
        name=SCHOOL_NAME,
        kind="driving_school",
        jurisdiction_province_code="01",
        jurisdiction_ward_code="00103",
    )
    designate_site(school.pk, DrivingSite.Role.SCHOOL)
    users = get_user_model()
    user = users.objects.filter(username=CLERK).first()
    if user is None:
        user = users.objects.create_user(username=CLERK, password=DEMO_PASSWORD)
    add_member(user, school, "clerk")
    return [
        (
            CLERK,
            f"Driving-school clerk: enrol learners and check them at sessions (/driving/) — {SCHOOL_NAME}",
        )
    ]
