"""Hostile input to the residence API with a hotel's API key: never a 5xx, always the shared error
shape, and a stored stay only for a 200."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.apps.residence import services
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import issue_api_key
from tests.apps.residence.conftest import AN_QR, CLAIRE_PASSPORT

pytestmark = pytest.mark.usefixtures("residents")

texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "\x00", "a\u202eb", "\ud800", "x" * 300, AN_QR, CLAIRE_PASSPORT, "001085012345"]),
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets).map(
        lambda d: d.isoformat()
    ),
    st.just((datetime.now(UTC) - timedelta(hours=1)).isoformat()),
    texts,
)
guests = st.one_of(
    st.fixed_dictionaries({"kind": st.just("qr"), "text": texts}),
    st.fixed_dictionaries({"kind": st.just("mrz"), "text": texts}),
    st.fixed_dictionaries({"kind": st.just("passport"), "mrz": texts}),
    st.fixed_dictionaries(
        {"kind": st.just("typed"), "id_number": texts, "full_name": texts, "date_of_birth": moments}
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("child"),
            "full_name": texts,
            "date_of_birth": st.dates().map(str),
            "guardian": st.integers(-2, 5),
        }
    ),
    st.dictionaries(st.sampled_from(["kind", "text", "files"]), texts, max_size=3),
)
bodies = st.fixed_dictionaries(
    {
        "room": texts,
        "arrival": moments,
        "expected_departure": moments,
        "guests": st.lists(guests, max_size=4),
    },
    optional={"idempotency_key": texts, "reason": texts},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, batch=st.booleans())
def test_no_input_makes_the_api_fail(
    client: Client, hotel: services.EstablishmentView, body: dict[str, Any], batch: bool
) -> None:
    token = issue_api_key(Organisation.objects.get(pk=hotel.organisation_id), "fuzz").token
    url = "/api/v1/residence/notifications" + ("/batch" if batch else "")
    payload = {"idempotency_key": f"fuzz-{uuid.uuid4().hex}", "notifications": [body]} if batch else body
    data = json.dumps(payload, ensure_ascii=True)
    response = client.post(
        url, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code < 500, response.content
    answer = response.json()
    if response.status_code >= 400:
        assert set(answer) == {"detail"} and all(
            set(p) == {"field", "rule", "message"} for p in answer["detail"]
        )
