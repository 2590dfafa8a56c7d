"""Evidence (issue 5 item 4): the message log is sealed into a hash chain with checkpoints signed
by the gateway key; an evidence bundle of one exchange verifies without the database; tampering —
an altered, deleted or reordered record, a rewritten chain, an edited bundle — is detected and
pinpointed."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dancu.blocks.exchange import crypto
from dancu.blocks.exchange.evidence import export_bundle, seal, verify_bundle, verify_chain
from dancu.blocks.exchange.models import Checkpoint, Message
from tests.blocks.exchange.conftest import Call

pytestmark = pytest.mark.usefixtures("adminunits")


def _later() -> Any:
    return timezone.now() + timedelta(seconds=10)


@pytest.fixture
def five(grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any) -> list[Message]:
    """Five exchanges (four answers and one refusal), sealed."""
    grant()
    for i in range(4):
        assert call("citizen", an_tay_ho.id_number, request_id=f"r-{i}").status == 200
    call("citizen", an_tay_ho.id_number, request_id="r-x", purpose="data.cleaning")  # refused
    assert seal(now=_later()) == 5
    return list(Message.objects.order_by("seq"))


def test_sealing_numbers_links_and_signs(five: list[Message]) -> None:
    assert [m.seq for m in five] == [1, 2, 3, 4, 5]
    assert five[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(five))
    cp = Checkpoint.objects.get()
    assert (cp.last_seq, cp.last_hash, cp.records_sealed) == (5, five[-1].hash, 5)
    report = verify_chain()
    assert report.ok, report.problems
    assert report.checked == 5


def test_young_messages_wait_for_the_next_run(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant()
    call("citizen", an_tay_ho.id_number)
    assert seal() == 0  # inside the lag
    assert seal(now=_later()) == 1
    assert seal(now=_later()) == 0


def test_an_altered_response_is_pinpointed(five: list[Message]) -> None:
    m = five[2]
    body = dict(m.response)
    body["body"] = {**body["body"], "data": {**body["body"]["data"], "full_name": "Người Khác"}}
    Message.objects.filter(pk=m.pk).update(response=body)

    report = verify_chain()
    assert not report.ok
    assert [(p.kind, p.seq) for p in report.problems] == [("altered", 3)]
    assert "response does not match its hash" in report.problems[0].message


def test_an_altered_record_field_is_pinpointed(five: list[Message]) -> None:
    Message.objects.filter(pk=five[1].pk).update(purpose="registry.lookup")
    report = verify_chain()
    assert [(p.kind, p.seq, p.message_id) for p in report.problems] == [("altered", 2, five[1].pk)]


def test_a_deleted_record_is_pinpointed(five: list[Message]) -> None:
    Message.objects.filter(pk=five[2].pk).delete()
    report = verify_chain()
    assert not report.ok
    assert report.problems[0].kind == "deleted"
    assert report.problems[0].seq == 4
    assert "seq 3–3 are missing" in report.problems[0].message


def test_a_deleted_last_record_is_caught_by_the_signed_checkpoint(five: list[Message]) -> None:
    Message.objects.filter(pk=five[-1].pk).delete()
    report = verify_chain()
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", 5)]


def test_reordered_records_are_pinpointed(five: list[Message]) -> None:
    a, b = five[1], five[2]  # swap their places in the chain
    Message.objects.filter(pk=a.pk).update(seq=None)
    Message.objects.filter(pk=b.pk).update(seq=2)
    Message.objects.filter(pk=a.pk).update(seq=3)
    report = verify_chain()
    first = report.problems[0]
    assert (first.kind, first.seq, first.message_id) == ("reordered", 2, b.pk), [
        str(p) for p in report.problems
    ]
    assert f"follows message {a.pk}" in first.message
    assert ("reordered", 3, a.pk) in {(p.kind, p.seq, p.message_id) for p in report.problems}


def test_a_rewritten_chain_fails_the_checkpoint_signature(five: list[Message]) -> None:
    """Someone edits a record and recomputes every hash after it: only the gateway key could
    re-sign the checkpoint."""
    from dancu.blocks.exchange.evidence import content_hash, link, record_document

    Message.objects.filter(pk=five[0].pk).update(end_user="someone.else")
    prev = "0" * 64
    for m in Message.objects.order_by("seq"):
        m.prev_hash = prev
        m.hash = link(prev, content_hash(record_document(m)))
        m.save(update_fields=["prev_hash", "hash"])
        prev = m.hash
    report = verify_chain()
    assert [p.kind for p in report.problems] == ["altered"]
    assert "checkpoint" in report.problems[0].message

    Checkpoint.objects.update(last_hash=prev)  # …and forges the checkpoint: its signature fails
    assert [p.kind for p in verify_chain().problems] == ["checkpoint"]


def test_a_bundle_verifies_alone_and_an_edited_bundle_does_not(five: list[Message]) -> None:
    bundle = json.loads(json.dumps(export_bundle(five[1].pk)))  # through JSON, as a file would
    gateway = crypto.gateway_public_b64()
    assert verify_bundle(bundle, trusted_gateway_key=gateway).ok
    assert len(bundle["chain"]["following"]) == 3

    edited = json.loads(json.dumps(bundle))
    edited["response"]["body"]["data"]["date_of_birth"] = "1999-01-01"
    assert [p.kind for p in verify_bundle(edited, trusted_gateway_key=gateway).problems] == ["altered"]

    dropped = json.loads(json.dumps(bundle))
    dropped["chain"]["following"].pop(0)
    problems = verify_bundle(dropped, trusted_gateway_key=gateway).problems
    assert [p.kind for p in problems] == ["altered"] and "checkpoint" in problems[0].message

    other_key = crypto.b64(crypto.public_raw(crypto.Ed25519PrivateKey.generate()))
    assert [p.kind for p in verify_bundle(bundle, trusted_gateway_key=other_key).problems] == ["checkpoint"]


def test_the_command_verifies_the_chain_and_a_bundle_and_fails_loudly(
    five: list[Message], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("exchange", "verify")
    assert "5 records verified" in capsys.readouterr().out
    path = tmp_path / "bundle.json"
    with path.open("w", encoding="utf-8") as out:
        call_command("exchange", "export", str(five[0].pk), stdout=out)
    call_command("exchange", "verify", "--bundle", str(path))
    bundle = json.loads(path.read_text(encoding="utf-8"))
    bundle["record"]["purpose"] = "security.investigation"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(CommandError, match="altered"):
        call_command("exchange", "verify", "--bundle", str(path))

    Message.objects.filter(pk=five[3].pk).update(status=500)
    with pytest.raises(CommandError, match=r"altered: seq 4"):
        call_command("exchange", "verify")


def test_the_checkpoint_anchors_the_audit_chain_head(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    from dancu.blocks.audit.models import AuditCheckpoint
    from dancu.blocks.audit.services import seal as audit_seal

    grant()
    call("citizen", an_tay_ho.id_number)
    audit_seal(now=_later())
    seal(now=_later())
    cp = Checkpoint.objects.get()
    head = AuditCheckpoint.objects.order_by("-last_event_id").first()
    assert head is not None
    assert (cp.audit_last_event_id, cp.audit_last_hash) == (head.last_event_id, head.last_hash)


def test_private_keys_are_stored_wrapped_and_bound_to_their_subsystem(world: Any) -> None:
    from dancu.blocks.exchange.models import Subsystem

    sub = Subsystem.objects.get(pk=world.bhxh.pk)
    assert len(crypto.unb64(sub.private_key_wrapped)) == 12 + 32 + 16  # nonce, key, GCM tag
    key = crypto.unwrap(sub.private_key_wrapped, sub.identifier)
    assert crypto.b64(crypto.public_raw(key)) == sub.public_key
    with pytest.raises(crypto.KeyUnavailable):
        crypto.unwrap(sub.private_key_wrapped, world.labour.identifier)  # moved to another row
