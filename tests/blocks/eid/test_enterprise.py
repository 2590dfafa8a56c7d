"""Organisation accounts (Decree 69/2024/NĐ-CP Art. 12 cl. 3): the enterprise code (its tax
code, with its check digit), the head office, and a legal representative with a level-2 account;
its staff become members of the linked organisation."""

from __future__ import annotations

import pytest

from dancu.blocks.eid import services
from dancu.blocks.eid.models import Account, Enterprise
from dancu.blocks.organisations.services import memberships_of
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import Person

pytestmark = pytest.mark.django_db
HOTEL = services.EnterpriseInput(
    name="Công ty TNHH Khách sạn Hòa Bình",
    enterprise_code="0100109106",
    head_office="Số 1 phố Lý Thường Kiệt, Hà Nội",
    organisation_code="KS-HOABINH",
)


def test_enterprise_codes_have_a_check_digit() -> None:
    assert services.validate_enterprise_code("0100109106") == "0100109106"
    assert services.validate_enterprise_code("0100109106-001") == "0100109106-001"
    for bad, rule in (("0100109107", "check_digit"), ("01001091", "format"), ("010010910A", "format")):
        with pytest.raises(DomainValidationError) as refused:
            services.validate_enterprise_code(bad)
        assert refused.value.problems[0].rule == rule


def test_a_level_1_representative_is_refused(an_registered: int) -> None:
    with pytest.raises(DomainValidationError) as refused:
        services.register_enterprise(an_registered, HOTEL)
    assert ("representative", "level2_required") in {(p.field, p.rule) for p in refused.value.problems}


def test_a_level_2_representative_opens_the_account_and_adds_staff(
    an_registered: int, hotel_clerk: Person
) -> None:
    Account.objects.filter(user_id=an_registered).update(level=2)
    pk = services.register_enterprise(an_registered, HOTEL)
    enterprise = Enterprise.objects.get(pk=pk)
    assert enterprise.organisation is not None and enterprise.organisation.code == "KS-HOABINH"
    staff_id = services.add_enterprise_staff(an_registered, pk, "letan.hoabinh", "mat-khau-le-tan-2026")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=staff_id)
    assert [m.organisation.code for m in memberships_of(user)] == ["KS-HOABINH"]


def test_only_the_representative_adds_staff(an_registered: int, hotel_clerk: Person) -> None:
    Account.objects.filter(user_id=an_registered).update(level=2)
    pk = services.register_enterprise(an_registered, HOTEL)
    with pytest.raises(AccessDenied):
        services.add_enterprise_staff(hotel_clerk.user.pk, pk, "letan2", "mat-khau-le-tan-2026")


def test_the_demo_accounts_log_in(adminunits_ready: None) -> None:
    from dancu.blocks.eid import factors, login
    from dancu.blocks.eid.demo import seed_demo

    printed = seed_demo("dancu-demo-2026")
    assert seed_demo("dancu-demo-2026") == printed  # idempotent
    level1 = login.check_password("001190099001", "dancu-demo-2026", ip="127.0.0.1")
    level2 = login.check_password("001088099002", "dancu-demo-2026", ip="127.0.0.1")
    assert (level1.level, level1.second_factor) == (1, ())
    assert level2.level == 2 and "otp" in level2.second_factor
    assert factors.totp_verify(level2.user_id, factors.current_totp(level2.user_id))
    assert "TOTP secret" in printed[1][1] and printed[2][0] == "canbo.tayho"
