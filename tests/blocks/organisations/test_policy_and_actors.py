"""Who may invoke which purpose is decided by the organisation's kind and the member's role;
a member acts for one organisation at a time and inherits its jurisdiction."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.policy import POLICY, purposes_for
from dancu.blocks.organisations.services import actor_for, add_member, create_organisation, memberships_of
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import HANOI, TAY_HO_WARD, Person

K = Organisation.Kind
R = Membership.Role
ESTABLISHMENTS = {K.HOTEL, K.CLINIC, K.NOTARY, K.BUSINESS}


# --------------------------------------------------------------------------- policy (no database)
def test_a_hotel_clerk_has_no_registry_purpose() -> None:
    purposes = purposes_for(K.HOTEL, R.CLERK)
    assert purposes == {"identity.verification", "residence.notification"}
    assert not any(p.startswith("registry.") for p in purposes)


def test_a_city_police_officer_may_look_up_the_registry() -> None:
    purposes = purposes_for(K.POLICE_CITY, R.OFFICER)
    assert "registry.lookup" in purposes
    assert "security.investigation" in purposes


def test_no_establishment_may_search_or_administer_the_registry_in_any_role() -> None:
    for (kind, role), purposes in POLICY.items():
        if kind in ESTABLISHMENTS:
            assert not any(p.startswith(("registry.", "security.", "data.")) for p in purposes), (kind, role)


def test_a_department_cleans_data_but_does_not_look_people_up() -> None:
    purposes = purposes_for(K.DEPARTMENT, R.OFFICER)
    assert "data.cleaning" in purposes
    assert "registry.lookup" not in purposes


def test_an_unlisted_kind_and_role_combination_gets_no_purpose() -> None:
    assert purposes_for(K.HOTEL, R.AUDITOR) == frozenset()
    assert purposes_for("casino", R.ADMIN) == frozenset()


def test_every_purpose_in_the_policy_is_a_known_purpose_code() -> None:
    from dancu.blocks.audit.purposes import PURPOSES

    for purposes in POLICY.values():
        assert purposes <= set(PURPOSES)


def test_only_police_and_the_platform_may_administer_the_registry() -> None:
    administrators = {kind for (kind, _), purposes in POLICY.items() if "registry.administration" in purposes}
    assert administrators == {K.POLICE_CITY, K.POLICE_COMMUNE, K.PLATFORM}


# --------------------------------------------------------------------------- actors
@pytest.mark.django_db
def test_a_user_with_no_membership_acts_with_no_purposes(outsider: Person) -> None:
    actor = actor_for(outsider.user)
    assert actor.user_id == outsider.user.pk
    assert actor.label == "outsider"
    assert actor.allowed_purposes == frozenset()
    assert actor.organisation_id is None
    assert actor.jurisdiction_province_code is None
    assert actor.jurisdiction_ward_code is None
    assert not actor.may("registry.lookup")
    assert not actor.is_system


@pytest.mark.django_db
def test_an_anonymous_visitor_acts_with_no_purposes() -> None:
    actor = actor_for(AnonymousUser())
    assert actor.label == "anonymous"
    assert actor.allowed_purposes == frozenset()
    assert memberships_of(AnonymousUser()) == []


def test_the_named_actors_carry_their_organisation_and_jurisdiction(
    city_police: Person, ward_police: Person, hotel_clerk: Person
) -> None:
    assert city_police.actor.organisation_name == "Công an thành phố Hà Nội"
    assert city_police.actor.jurisdiction_province_code == HANOI
    assert city_police.actor.jurisdiction_ward_code is None
    assert ward_police.actor.jurisdiction_ward_code == TAY_HO_WARD
    assert ward_police.actor.may("registry.lookup")
    assert not hotel_clerk.actor.may("registry.lookup")
    assert hotel_clerk.actor.may("identity.verification")


@pytest.fixture
def two_hats(django_user_model: Any, db: None) -> tuple[Any, Organisation, Organisation]:
    """A user who is both an officer of the ward police and a clerk of a hotel."""
    user = django_user_model.objects.create_user(username="two.hats", password="x-unused-password-1")
    police = create_organisation(
        code="CA-P-TH",
        name="Công an phường Tây Hồ",
        kind=K.POLICE_COMMUNE,
        jurisdiction_province_code=HANOI,
        jurisdiction_ward_code=TAY_HO_WARD,
    )
    hotel = create_organisation(
        code="KS-X", name="Khách sạn Xuân", kind=K.HOTEL, jurisdiction_province_code=HANOI
    )
    add_member(user, police, R.OFFICER)
    add_member(user, hotel, R.CLERK)
    return user, police, hotel


def test_with_several_memberships_the_first_organisation_by_name_is_the_default(
    two_hats: tuple[Any, Organisation, Organisation],
) -> None:
    user, police, _ = two_hats
    actor = actor_for(user)
    assert actor.organisation_id == police.pk  # "Công an…" sorts before "Khách sạn…"
    assert actor.may("registry.lookup")


def test_organisation_id_picks_which_organisation_the_member_acts_for(
    two_hats: tuple[Any, Organisation, Organisation],
) -> None:
    user, police, hotel = two_hats
    as_hotel = actor_for(user, hotel.pk)
    assert as_hotel.organisation_id == hotel.pk
    assert as_hotel.role == R.CLERK
    assert not as_hotel.may("registry.lookup")
    assert as_hotel.jurisdiction_ward_code is None
    as_police = actor_for(user, police.pk)
    assert as_police.jurisdiction_ward_code == TAY_HO_WARD
    assert as_police.may("registry.lookup")


def test_acting_for_a_foreign_organisation_is_denied(
    two_hats: tuple[Any, Organisation, Organisation], city_police: Person
) -> None:
    user, _, _ = two_hats
    foreign = Organisation.objects.get(code="CA-HN")
    with pytest.raises(AccessDenied) as exc:
        actor_for(user, foreign.pk)
    assert (exc.value.field, exc.value.rule) == ("organisation", "membership")
    with pytest.raises(AccessDenied):
        actor_for(user, 999_999)


def test_an_inactive_membership_gives_no_purposes(two_hats: tuple[Any, Organisation, Organisation]) -> None:
    user, police, hotel = two_hats
    Membership.objects.filter(user=user, organisation=police).update(active=False)
    assert actor_for(user).organisation_id == hotel.pk
    with pytest.raises(AccessDenied):
        actor_for(user, police.pk)


def test_a_member_of_an_inactive_organisation_cannot_act_for_it(
    two_hats: tuple[Any, Organisation, Organisation],
) -> None:
    user, police, hotel = two_hats
    Organisation.objects.filter(pk=hotel.pk).update(active=False)
    Organisation.objects.filter(pk=police.pk).update(active=False)
    actor = actor_for(user)
    assert actor.allowed_purposes == frozenset()
    assert actor.organisation_id is None


# --------------------------------------------------------------------------- organisations and members
@pytest.mark.django_db
def test_an_organisation_of_an_unknown_kind_is_rejected() -> None:
    with pytest.raises(DomainValidationError) as exc:
        create_organisation(code="X", name="X", kind="casino")
    assert [(p.field, p.rule) for p in exc.value.problems] == [("kind", "choice")]
    assert not Organisation.objects.filter(code="X").exists()


@pytest.mark.django_db
def test_organisation_codes_are_unique() -> None:
    create_organisation(code="UB-TH", name="UBND phường Tây Hồ", kind=K.PEOPLES_COMMITTEE)
    with pytest.raises(DomainValidationError) as exc:
        create_organisation(code="UB-TH", name="Another", kind=K.PEOPLES_COMMITTEE)
    assert [(p.field, p.rule) for p in exc.value.problems] == [("code", "unique")]
    assert Organisation.objects.filter(code="UB-TH").count() == 1


def test_a_member_with_an_unknown_role_is_rejected(outsider: Person) -> None:
    org = create_organisation(code="UB-1", name="UBND", kind=K.PEOPLES_COMMITTEE)
    with pytest.raises(DomainValidationError) as exc:
        add_member(outsider.user, org, "president")
    assert [(p.field, p.rule) for p in exc.value.problems] == [("role", "choice")]
    assert not Membership.objects.filter(user=outsider.user).exists()


def test_adding_a_member_again_changes_the_role_and_reactivates(outsider: Person) -> None:
    org = create_organisation(code="UB-2", name="UBND", kind=K.PEOPLES_COMMITTEE)
    add_member(outsider.user, org, R.OFFICER)
    Membership.objects.filter(user=outsider.user).update(active=False)
    add_member(outsider.user, org, R.ADMIN)
    membership = Membership.objects.get(user=outsider.user)
    assert (membership.role, membership.active) == (R.ADMIN, True)
