"""The citizen's side: where I was notified as a guest (for /eid/me/), audited as
``citizen.self_access``; staff of an organisation are refused."""

from __future__ import annotations

import pytest

from dancu.apps.residence import services
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.errors import AccessDenied, DomainValidationError
from tests.apps.residence.conftest import AN_ID, an_by_qr, stay_of
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
SELF = "citizen.self_access"


def _an_himself() -> AccessContext:
    actor = Actor(user_id=99, label="account holder", allowed_purposes=frozenset({SELF, "eid.account"}))
    return AccessContext(actor, SELF)


def test_the_citizen_sees_where_they_were_notified(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    services.check_in(hotel_clerk.ctx("residence.notification"), stay_of(an_by_qr()))
    (record,) = services.guest_stays_of_citizen(_an_himself(), AN_ID)
    assert record.establishment_name == "Khách sạn Hòa Bình" and record.notified_at is not None
    assert services.guest_stays_of_citizen(_an_himself(), "001192034567") == []
    assert AuditEvent.objects.filter(action="residence.self_access", purpose=SELF).count() == 2


def test_staff_cannot_use_the_citizen_function(hotel_clerk: Person, ward_police: Person) -> None:
    with pytest.raises(AccessDenied):
        services.guest_stays_of_citizen(hotel_clerk.ctx(SELF), AN_ID)
    with pytest.raises(AccessDenied):
        services.guest_stays_of_citizen(ward_police.ctx("security.investigation"), AN_ID)
    with pytest.raises(DomainValidationError):
        services.guest_stays_of_citizen(_an_himself(), "12")
