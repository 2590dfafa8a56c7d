"""The Django admin (linked from the home page) manages organisations and memberships only:
registry data is never shown there, because reading it would bypass purpose checks and audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client

from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.registry import models as registry_models
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_organisations_and_memberships_are_administered() -> None:
    assert admin.site.is_registered(Organisation)
    assert admin.site.is_registered(Membership)


def test_no_registry_model_is_in_the_admin() -> None:
    registered = {model._meta.app_label for model in admin.site._registry}
    assert "registry" not in registered
    assert not admin.site.is_registered(registry_models.Citizen)


def test_administrator_sees_members_and_the_purposes_their_role_grants(
    client: Client, django_user_model: Any, city_police: Person
) -> None:
    superuser = django_user_model.objects.create_superuser("root", password="long-enough-password-1")
    client.force_login(superuser)
    assert client.get("/admin/organisations/organisation/").status_code == 200
    response = client.get("/admin/organisations/membership/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "officer.city" in html and "registry.lookup" in html
    org = Organisation.objects.get(code="CA-HN")
    assert client.get(f"/admin/organisations/organisation/{org.pk}/change/").status_code == 200


def test_memberships_are_deactivated_not_deleted(
    client: Client, django_user_model: Any, city_police: Person
) -> None:
    superuser = django_user_model.objects.create_superuser("root", password="long-enough-password-1")
    client.force_login(superuser)
    membership = Membership.objects.get(user=city_police.user)
    assert client.get(f"/admin/organisations/membership/{membership.pk}/delete/").status_code == 403
