"""After a ``SECRET_KEY`` rotation the applications' gateway credentials (wrapped under a key
derived from it, ``gateway_client.client``) are sealed again with
``dancu gateway_client rewrap --old-secret-env VAR`` — the gateway block's own ``dancu exchange
rewrap`` re-seals only the subsystems' signing keys and knows nothing of applications (layers).
All or nothing; idempotent; the old secret never on the command line."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from django.core.management import CommandError, call_command

from dancu.apps.gateway_client import client
from dancu.apps.gateway_client.models import ExchangeConnection

OLD, NEW, OTHER = "old-secret-" + "a" * 40, "new-secret-" + "b" * 40, "other-secret-" + "c" * 40
BANK = "xk_00000001_" + "B" * 43
SECTOR = "xk_00000002_" + "S" * 43


def _connect(organisation_id: int, system: str, credential: str) -> None:
    client.connect(
        organisation_id, system, client_identifier=f"VN-HN/GOV/ORG{organisation_id}/{system.upper()}",
        provider_identifier="VN-HN/GOV/CA-HN/DANCU", credential=credential,
    )  # fmt: skip


def _rewrap(monkeypatch: pytest.MonkeyPatch, old: str | None) -> str:
    if old is None:
        monkeypatch.delenv("DANCU_OLD_SECRET", raising=False)
    else:
        monkeypatch.setenv("DANCU_OLD_SECRET", old)
    out = StringIO()
    call_command("gateway_client", "rewrap", "--old-secret-env", "DANCU_OLD_SECRET", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_credentials_open_again_after_the_secret_key_rotation(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SECRET_KEY = OLD
    _connect(1, "social_loans", BANK)
    _connect(2, "sector", SECTOR)
    settings.SECRET_KEY = NEW
    bank = ExchangeConnection.objects.get(system="social_loans")
    with pytest.raises(InvalidTag):  # the defect: every gateway call of the applications fails
        client.unwrap(bank)
    assert "re-sealed 2 credential(s); 0 already under the current SECRET_KEY" in _rewrap(monkeypatch, OLD)
    assert client.unwrap(ExchangeConnection.objects.get(system="social_loans")) == BANK
    assert client.unwrap(ExchangeConnection.objects.get(system="sector")) == SECTOR
    # idempotent: a second run changes nothing
    before = list(ExchangeConnection.objects.order_by("pk").values_list("credential_wrapped", flat=True))
    assert "re-sealed 0 credential(s); 2 already" in _rewrap(monkeypatch, OLD)
    assert (
        list(ExchangeConnection.objects.order_by("pk").values_list("credential_wrapped", flat=True)) == before
    )


@pytest.mark.django_db
def test_a_credential_under_neither_secret_changes_nothing(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SECRET_KEY = OLD
    _connect(1, "social_loans", BANK)
    settings.SECRET_KEY = OTHER
    _connect(2, "sector", SECTOR)
    settings.SECRET_KEY = NEW
    before = list(ExchangeConnection.objects.order_by("pk").values_list("credential_wrapped", flat=True))
    with pytest.raises(CommandError, match=r"nothing changed.*sector"):
        _rewrap(monkeypatch, OLD)
    after = list(ExchangeConnection.objects.order_by("pk").values_list("credential_wrapped", flat=True))
    assert after == before  # all or nothing: the bank's credential was not re-sealed either


@pytest.mark.django_db
def test_the_old_secret_comes_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="DANCU_OLD_SECRET"):
        _rewrap(monkeypatch, None)
    with pytest.raises(CommandError, match="DANCU_OLD_SECRET"):
        _rewrap(monkeypatch, "")


@pytest.mark.django_db
def test_a_row_moved_to_another_connection_does_not_open(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wrap's associated data binds it to its organisation, system and client identifier."""
    settings.SECRET_KEY = OLD
    _connect(1, "social_loans", BANK)
    _connect(2, "sector", SECTOR)
    bank = ExchangeConnection.objects.get(system="social_loans")
    ExchangeConnection.objects.filter(system="sector").update(credential_wrapped=bank.credential_wrapped)
    settings.SECRET_KEY = NEW
    with pytest.raises(CommandError, match="nothing changed"):
        _rewrap(monkeypatch, OLD)
