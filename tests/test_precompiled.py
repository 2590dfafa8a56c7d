"""Selects compiled once (``dancu.precompiled``) and what is built on them: each gives what the
ORM's own query gives — same instances, same converted values (SQLite's datetimes and booleans,
JSON fields) — and the authentication backend behaves as Django's ``ModelBackend``, denials
included."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.utils import timezone

from dancu.blocks.eid import backends
from dancu.blocks.eid.models import Throttle
from dancu.blocks.eid.session_store import SessionStore
from dancu.precompiled import Select, instance, model_columns, quote

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def lan() -> Any:
    """Trần Thị Lan, an officer with a password account."""
    return User.objects.create_user("lan.tran", password="mat-khau-rat-dai-2026", email="lan@example.vn")


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_select_builds_the_instance_the_orm_builds(lan: Any) -> None:
    lan.last_login = timezone.now()  # a datetime: text on SQLite until converted
    lan.save()
    user = backends.user_by_id(lan.pk)
    assert _fields(user) == _fields(User.objects.get(pk=lan.pk))
    assert user._state.adding is False and user._state.db == "default"
    assert backends.user_by_name("lan.tran").pk == lan.pk
    assert backends.user_by_name("LAN.TRAN") is None  # exact, as get_by_natural_key
    assert backends.user_by_name("lan\x00") is None and backends.user_by_id(lan.pk + 1000) is None


def test_converted_values_match_the_orm(lan: Any) -> None:
    until = timezone.now() + timedelta(minutes=5)
    Throttle.objects.create(key="a" * 64, failures=3, blocked_until=until)
    select = Select(
        lambda: (
            f"SELECT {', '.join('t.' + quote(f.column) for _a, f in model_columns('t', Throttle))}"  # noqa: S608
            f" FROM {quote(Throttle._meta.db_table)} t WHERE t.{quote('key')} = %s"
        ),
        model_columns("t", Throttle),
    )
    row = select.first(["a" * 64])
    assert row is not None
    throttle = instance(Throttle, row)
    assert throttle.blocked_until == until and throttle.failures == 3
    assert select.first(["b" * 64]) is None and select.rows(["b" * 64]) == []


def test_the_client_and_its_profile_load_as_select_related(transactional_db: None) -> None:
    from oauth2_provider.models import Application

    from dancu.blocks.sso.services import register_client
    from dancu.blocks.sso.validator import load_application

    reg = register_client(name_vi="Cổng dịch vụ công", redirect_uris=["https://portal.example/cb"])
    app = load_application(reg.client_id)
    orm = Application.objects.select_related("relying_party").get(client_id=reg.client_id)
    assert _fields(app) == _fields(orm)
    with mock.patch("django.db.backends.utils.CursorWrapper.execute") as execute:
        assert _fields(app.relying_party) == _fields(orm.relying_party)  # attached: no query
        assert app.relying_party.application is app
        execute.assert_not_called()
    # A client without a profile has none (the validator refuses it), an unknown one is None.
    bare = Application.objects.create(
        name="bare", client_type="confidential", authorization_grant_type="authorization-code"
    )
    with pytest.raises(Application.relying_party.RelatedObjectDoesNotExist):
        _ = load_application(bare.client_id).relying_party
    assert load_application("no-such-client") is None and load_application("x\x00") is None


def test_the_backend_logs_in_and_refuses_as_model_backend(lan: Any) -> None:
    assert authenticate(None, username="lan.tran", password="mat-khau-rat-dai-2026") == lan
    assert authenticate(None, username="lan.tran", password="sai-mat-khau") is None
    assert authenticate(None, username="khong.co", password="mat-khau-rat-dai-2026") is None
    lan.is_active = False
    lan.save()
    assert authenticate(None, username="lan.tran", password="mat-khau-rat-dai-2026") is None
    assert backends.AccountBackend().get_user(lan.pk) is None  # inactive: no session user either


def test_a_refused_password_is_hashed_once_and_an_unknown_name_costs_a_hash(lan: Any) -> None:
    """No second backend tries the password again, and an unknown name does the same hashing
    work as a known one (no user enumeration by timing)."""
    from django.contrib.auth import base_user

    with mock.patch.object(base_user, "check_password", wraps=base_user.check_password) as check:
        authenticate(None, username="lan.tran", password="sai-mat-khau")
    assert check.call_count == 1
    with mock.patch.object(base_user, "make_password", wraps=make_password) as hashed:
        authenticate(None, username="khong.co", password="sai-mat-khau")
    assert hashed.call_count == 1


def test_sessions_load_through_the_precompiled_read(lan: Any) -> None:
    store = SessionStore()
    store["k"] = "v"
    store.save()
    again = SessionStore(store.session_key)
    assert again["k"] == "v"
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert expired.get("k") is None and expired.session_key is None  # an expired row is no session
    assert SessionStore("nosuchkey0000000000000000000000").get("k") is None


def test_a_session_recorded_by_model_backend_stays_valid(lan: Any) -> None:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = SessionStore()
    store[SESSION_KEY] = str(lan.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = lan.get_session_auth_hash()
    store.save()
    request = mock.Mock(session=SessionStore(store.session_key))
    from django.contrib.auth import get_user

    assert get_user(request) == lan
