"""Organisation accounts (Decree 69/2024/NĐ-CP Art. 12 cl. 3): the enterprise code (its tax
code, with its check digit), the head office, and a legal representative with a level-2 account;
its staff become members of the linked organisation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model

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


@pytest.fixture
def hotel_admin(make_person: Callable[..., Person]) -> Person:
    """Chị Lan, administrator (Membership ADMIN) of Khách sạn Hòa Bình on the platform."""
    return make_person(
        "admin.hotel", org_code="KS-HOABINH", org_name="Khách sạn Hòa Bình", kind="hotel", role="admin"
    )


def _codes(user_id: int) -> list[str]:
    return [m.organisation.code for m in memberships_of(get_user_model().objects.get(pk=user_id))]


def test_a_level_2_representative_opens_the_account_the_hotel_admin_approves_the_link(
    an_registered: int, hotel_clerk: Person, hotel_admin: Person
) -> None:
    Account.objects.filter(user_id=an_registered).update(level=2)
    pk = services.register_enterprise(an_registered, HOTEL)
    enterprise = Enterprise.objects.get(pk=pk)
    assert enterprise.organisation is None  # pending: self-service never links directly
    assert (
        enterprise.requested_organisation is not None
        and enterprise.requested_organisation.code == "KS-HOABINH"
    )
    staff_id = services.add_enterprise_staff(an_registered, pk, "letan.hoabinh", "mat-khau-le-tan-2026")
    assert _codes(staff_id) == []  # no membership before approval
    assert [e.pk for e in services.pending_enterprise_links(hotel_admin.user.pk)] == [pk]
    services.approve_enterprise_link(hotel_admin.user.pk, pk)
    assert Enterprise.objects.get(pk=pk).organisation == enterprise.requested_organisation
    assert _codes(staff_id) == ["KS-HOABINH"]
    later = services.add_enterprise_staff(an_registered, pk, "letan2.hoabinh", "mat-khau-le-tan-2026")
    assert _codes(later) == ["KS-HOABINH"]


def test_an_attacker_with_a_level_2_account_cannot_make_staff_of_a_hotel_he_does_not_administer(
    an_registered: int, hotel_clerk: Person
) -> None:
    """An (level 2, no role at the hotel) names Khách sạn Hòa Bình's organisation code: his "staff"
    get no membership, and neither he nor a hotel clerk may approve the link."""
    Account.objects.filter(user_id=an_registered).update(level=2)
    pk = services.register_enterprise(an_registered, HOTEL)
    staff_id = services.add_enterprise_staff(an_registered, pk, "fake.clerk", "mat-khau-le-tan-2026")
    assert _codes(staff_id) == []
    for who in (an_registered, hotel_clerk.user.pk):
        with pytest.raises(AccessDenied):
            services.approve_enterprise_link(who, pk)
    assert Enterprise.objects.get(pk=pk).organisation is None
    assert _codes(staff_id) == []


def test_a_representative_who_administers_the_organisation_is_linked_at_once(
    an_registered: int, hotel_admin: Person
) -> None:
    from dancu.blocks.organisations.models import Membership, Organisation
    from dancu.blocks.organisations.services import add_member

    Account.objects.filter(user_id=an_registered).update(level=2)
    add_member(
        get_user_model().objects.get(pk=an_registered),
        Organisation.objects.get(code="KS-HOABINH"),
        Membership.Role.ADMIN,
    )
    pk = services.register_enterprise(an_registered, HOTEL)
    staff_id = services.add_enterprise_staff(an_registered, pk, "letan.hoabinh", "mat-khau-le-tan-2026")
    assert _codes(staff_id) == ["KS-HOABINH"]


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
