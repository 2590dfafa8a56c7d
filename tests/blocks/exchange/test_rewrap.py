"""``dancu exchange rewrap``: after the operator rotates ``SECRET_KEY``, every subsystem's private
signing key is sealed again under the new secret — all or nothing, and running it twice changes
nothing (ADR 0010; HKDF-SHA256 RFC 5869, AES-256-GCM)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from dancu.blocks.exchange import crypto
from dancu.blocks.exchange.models import Subsystem
from tests.blocks.exchange.conftest import World

OLD = "test-only-secret-key-not-for-production-0123456789"
NEW = "rotated-secret-key-for-the-rewrap-test-9876543210"


def _signs_for_its_public_key(sub: Subsystem) -> bool:
    key = crypto.unwrap(sub.private_key_wrapped, sub.identifier)
    return crypto.verify(sub.public_key, crypto.sign(key, b"probe"), b"probe")


def test_after_rotation_every_key_is_resealed_once_and_the_key_pairs_do_not_change(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SECRET_KEY = OLD
    before = {s.pk: (s.public_key, s.key_id, s.private_key_wrapped) for s in Subsystem.objects.all()}
    assert len(before) == 3
    settings.SECRET_KEY = NEW
    with pytest.raises(crypto.KeyUnavailable):  # the rotation broke the keys: the operator must re-seal
        _signs_for_its_public_key(Subsystem.objects.select_related("member").first())  # type: ignore[arg-type]
    monkeypatch.setenv("DANCU_OLD_SECRET", OLD)

    call_command("exchange", "rewrap", "--old-secret-env", "DANCU_OLD_SECRET")

    after = {s.pk: s for s in Subsystem.objects.select_related("member")}
    for pk, (public, key_id, wrapped) in before.items():
        sub = after[pk]
        assert (sub.public_key, sub.key_id) == (public, key_id)
        assert sub.private_key_wrapped != wrapped
        assert _signs_for_its_public_key(sub)
    sealed = {pk: s.private_key_wrapped for pk, s in after.items()}
    call_command("exchange", "rewrap", "--old-secret-env", "DANCU_OLD_SECRET")  # idempotent
    assert {s.pk: s.private_key_wrapped for s in Subsystem.objects.all()} == sealed


def test_a_key_that_opens_under_neither_secret_leaves_every_key_untouched(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SECRET_KEY = OLD
    # One row sealed under a third secret (a row restored from elsewhere, or tampered with).
    settings.SECRET_KEY = "a-third-secret-nobody-has-any-more-000000000000"
    _, stray = crypto.new_wrapped_key(world.labour.identifier)
    Subsystem.objects.filter(pk=world.labour.pk).update(private_key_wrapped=stray)
    settings.SECRET_KEY = NEW
    before = dict(Subsystem.objects.values_list("pk", "private_key_wrapped"))
    monkeypatch.setenv("DANCU_OLD_SECRET", OLD)

    with pytest.raises(CommandError, match=r"nothing changed.*ANSINH"):
        call_command("exchange", "rewrap", "--old-secret-env", "DANCU_OLD_SECRET")

    assert dict(Subsystem.objects.values_list("pk", "private_key_wrapped")) == before


def test_the_old_secret_comes_from_a_named_environment_variable_that_must_be_set(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DANCU_OLD_SECRET", raising=False)
    with pytest.raises(CommandError, match="DANCU_OLD_SECRET is not set"):
        call_command("exchange", "rewrap", "--old-secret-env", "DANCU_OLD_SECRET")


def test_before_the_rewrap_an_exchange_is_refused_in_json_and_nothing_is_logged_half(
    world: World,
    grant: Any,
    call: Any,
    an_tay_ho: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The operator rotated ``SECRET_KEY`` and has not run the rewrap yet: BHXH's system gets the
    contract's JSON error (500 ``gateway_key_unavailable``, not an HTML page), no message is
    logged and the registry reads nothing; once the keys are re-sealed, the same request id is
    answered."""
    from dancu.blocks.audit.models import AuditEvent
    from dancu.blocks.exchange.models import Message

    settings.SECRET_KEY = OLD
    grant()
    settings.SECRET_KEY = NEW

    res = call("citizen", an_tay_ho.id_number, request_id="rot-0001")

    assert res.status == 500 and res.rule == "gateway_key_unavailable", res.json
    assert "rewrap" in res.json["detail"][0]["message"]
    assert not Message.objects.filter(request_id="rot-0001").exists()
    assert not AuditEvent.objects.filter(
        subject_citizen_id=an_tay_ho.citizen_id, action="registry.read"
    ).exists()
    assert "exchange.key_unavailable" in caplog.text  # the operator's line names the key, not the citizen

    monkeypatch.setenv("DANCU_OLD_SECRET", OLD)
    call_command("exchange", "rewrap", "--old-secret-env", "DANCU_OLD_SECRET")
    again = call("citizen", an_tay_ho.id_number, request_id="rot-0001")
    assert again.status == 200, again.json
