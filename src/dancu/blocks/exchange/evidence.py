"""Evidence: the message log as a hash chain with signed checkpoints, self-contained evidence
bundles, and their verification (issue 5 item 4; ADR 0010).

* **Records.** Each message's *content hash* is the SHA-256 of the canonical JSON of its
  evidence fields (:func:`record_document`), which include the hashes of the signed request and
  response documents; those documents are stored and their hashes recomputed on verification.
* **Chain.** :func:`seal` numbers unsealed messages older than a small lag in id order
  (``seq`` 1, 2, 3…) and links them: ``hash = SHA-256(prev_hash ‖ content_hash)`` (hex text).
  Sealing afterwards, as the audit log does (ADR 0004), keeps exchanges from queueing on a chain
  head.
* **Checkpoints.** Each sealing run stores the chain head, signed by the gateway's Ed25519 key,
  and the audit log's latest checkpoint with it (ADR 0004 asks for that export): rewriting the
  whole chain needs the gateway key.
* **Bundle.** One message, its signed documents, the content hashes of the records that follow
  it up to the next checkpoint, the signed checkpoint and the public keys: anyone can check it
  without the database (``dancu exchange verify --bundle FILE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dancu.blocks.audit.models import AuditCheckpoint
from dancu.blocks.exchange import crypto
from dancu.blocks.exchange.models import Checkpoint, Message, Subsystem

GENESIS = "0" * 64
BUNDLE_FORMAT = "dancu-exchange-evidence/1"
_SEAL_LAG = timedelta(seconds=2)
_SEAL_LOCK_KEY = 0x6578636867  # "exchg": one sealer at a time on PostgreSQL


def record_document(msg: Message) -> dict[str, Any]:
    """The fields of a message that the chain protects."""
    return {
        "id": msg.pk,
        "seq": msg.seq,
        "occurred_at": msg.occurred_at.isoformat(),
        "client_id": msg.client_id,
        "service_id": msg.service_id,
        "grant": msg.grant_pk,
        "request_id": msg.request_id,
        "purpose": msg.purpose,
        "end_user": msg.end_user,
        "case_reference": msg.case_reference,
        "outcome": msg.outcome,
        "status": msg.status,
        "rule": msg.rule,
        "request_hash": msg.request_hash,
        "request_signature": msg.request_signature,
        "request_key_id": msg.request_key_id,
        "response_hash": msg.response_hash,
        "response_signature": msg.response_signature,
        "response_key_id": msg.response_key_id,
        "fields": msg.fields,
        "subjects": msg.subjects,
    }


def content_hash(doc: dict[str, Any]) -> str:
    return crypto.sha256_hex(crypto.canonical(doc))


def link(prev_hash: str, content: str) -> str:
    return crypto.sha256_hex((prev_hash + content).encode("ascii"))


def checkpoint_document(cp: Checkpoint | dict[str, Any]) -> dict[str, Any]:
    """What the gateway signs for a checkpoint."""
    get = cp.get if isinstance(cp, dict) else lambda k: getattr(cp, k)
    created = get("created_at")
    return {
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "last_seq": get("last_seq"),
        "last_message_id": get("last_message_id"),
        "last_hash": get("last_hash"),
        "records_sealed": get("records_sealed"),
        "audit_last_event_id": get("audit_last_event_id"),
        "audit_last_hash": get("audit_last_hash"),
        "key_id": get("key_id"),
    }


def seal(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Chain every unsealed message older than the lag, in id order, and store a signed
    checkpoint; returns how many were sealed."""
    cutoff = (now or timezone.now()) - _SEAL_LAG
    sealed = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK_KEY])
        head = Checkpoint.objects.select_for_update().order_by("-last_seq").first()
        prev = head.last_hash if head else GENESIS
        seq = head.last_seq if head else 0
        last_id = head.last_message_id if head else 0
        while True:
            rows = list(Message.objects.filter(id__gt=last_id, seq__isnull=True).order_by("id")[:batch])
            young = next((i for i, m in enumerate(rows) if m.occurred_at >= cutoff), None)
            if young is not None:
                rows = rows[:young]
            if not rows:
                break
            for m in rows:
                seq += 1
                m.seq = seq
                m.prev_hash = prev
                m.hash = link(prev, content_hash(record_document(m)))
                prev = m.hash
                last_id = m.pk
            Message.objects.bulk_update(rows, ["seq", "prev_hash", "hash"], batch_size=1000)
            sealed += len(rows)
            if young is not None:
                break
        if sealed:
            audit_head = AuditCheckpoint.objects.order_by("-last_event_id").first()
            key = crypto.gateway_key()
            cp = Checkpoint(
                created_at=timezone.now(),
                last_seq=seq,
                last_message_id=last_id,
                last_hash=prev,
                records_sealed=sealed,
                audit_last_event_id=audit_head.last_event_id if audit_head else None,
                audit_last_hash=audit_head.last_hash if audit_head else "",
                key_id=crypto.key_id(crypto.public_raw(key)),
            )
            cp.signature = crypto.sign(key, crypto.canonical(checkpoint_document(cp)))
            cp.save()
    return sealed


@dataclass(frozen=True)
class Problem:
    """One finding of a verification: which record (``seq``/``message_id``) and what is wrong
    (``kind``: altered, deleted, reordered, bad_signature, checkpoint…)."""

    kind: str
    message: str
    seq: int | None = None
    message_id: int | None = None

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else ""
        if self.message_id is not None:
            where = f"{where} (message {self.message_id})".strip()
        return f"{self.kind}: {where}: {self.message}" if where else f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class Report:
    ok: bool
    checked: int
    problems: list[Problem]


def _public_keys() -> dict[str, str]:
    keys = dict(Subsystem.objects.values_list("key_id", "public_key"))
    gw = crypto.gateway_public_b64()
    keys[crypto.key_id(crypto.unb64(gw))] = gw
    return keys


def _check_message(msg: Message, keys: dict[str, str]) -> list[Problem]:
    """The stored documents match their hashes and signatures."""
    out = []
    where = {"seq": msg.seq, "message_id": msg.pk}
    req = crypto.canonical(msg.request)
    res = crypto.canonical(msg.response)
    if crypto.sha256_hex(req) != msg.request_hash:
        out.append(Problem("altered", "the request does not match its hash", **where))
    elif not crypto.verify(keys.get(msg.request_key_id, ""), msg.request_signature, req):
        out.append(Problem("bad_signature", "the request's signature does not verify", **where))
    if crypto.sha256_hex(res) != msg.response_hash:
        out.append(Problem("altered", "the response does not match its hash", **where))
    elif msg.response.get("request_hash") != msg.request_hash:
        out.append(Problem("altered", "the response is bound to another request", **where))
    elif not crypto.verify(keys.get(msg.response_key_id, ""), msg.response_signature, res):
        out.append(Problem("bad_signature", "the response's signature does not verify", **where))
    return out


def verify_chain() -> Report:
    """Verify every sealed message (documents, signatures, chain links, numbering) and every
    checkpoint (signature, head); each finding names the record: an *altered* record (content or
    documents changed), a *deleted* one (a gap in ``seq``), a *reordered* one (ids out of order,
    or linked to another predecessor)."""
    keys = _public_keys()
    problems: list[Problem] = []
    prev = GENESIS
    expected_seq = 1
    last_id = 0
    checked = 0
    hash_at: dict[int, str] = {}
    hashes_seen: dict[str, int] = {}
    for msg in Message.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        seq = msg.seq or 0
        where = {"seq": seq, "message_id": msg.pk}
        if seq != expected_seq:
            problems.append(
                Problem("deleted", f"records seq {expected_seq}–{seq - 1} are missing", **where)
                if seq > expected_seq
                else Problem("reordered", f"seq {seq} appears twice", **where)
            )
        if msg.pk <= last_id:
            problems.append(
                Problem("reordered", f"message {msg.pk} comes after message {last_id} in the chain", **where)
            )
        if msg.prev_hash != prev:
            earlier = hashes_seen.get(msg.prev_hash)
            if earlier is not None:
                problems.append(
                    Problem("reordered", f"it follows seq {earlier}, not the record before it", **where)
                )
            elif seq == expected_seq:
                # A failure path only: find the record it really follows (a scan, no index).
                later = Message.objects.filter(hash=msg.prev_hash).exclude(pk=msg.pk).first()
                if later is not None:
                    message = f"it follows message {later.pk}, which now comes later (seq {later.seq})"
                    problems.append(Problem("reordered", message, **where))
                else:
                    message = "its previous hash does not match the record before it"
                    problems.append(Problem("deleted", message, **where))
        recomputed = link(msg.prev_hash, content_hash(record_document(msg)))
        if recomputed != msg.hash:
            problems.append(Problem("altered", "the record does not match its hash", **where))
        problems.extend(_check_message(msg, keys))
        prev = msg.hash
        hash_at[seq] = msg.hash
        hashes_seen[msg.hash] = seq
        expected_seq = seq + 1
        last_id = msg.pk
        checked += 1
    gw = crypto.gateway_public_b64()
    for cp in Checkpoint.objects.order_by("last_seq"):
        if not crypto.verify(gw, cp.signature, crypto.canonical(checkpoint_document(cp))):
            problems.append(
                Problem("checkpoint", f"checkpoint {cp.pk}'s signature does not verify", seq=cp.last_seq)
            )
        elif cp.last_seq not in hash_at:
            problems.append(
                Problem(
                    "deleted",
                    f"checkpoint {cp.pk} seals seq {cp.last_seq}, which is missing",
                    seq=cp.last_seq,
                    message_id=cp.last_message_id,
                )
            )
        elif hash_at[cp.last_seq] != cp.last_hash:
            problems.append(
                Problem(
                    "altered",
                    f"the chain differs from signed checkpoint {cp.pk}",
                    seq=cp.last_seq,
                    message_id=cp.last_message_id,
                )
            )
    return Report(ok=not problems, checked=checked, problems=problems)


def export_bundle(message_id: int) -> dict[str, Any]:
    """A self-contained evidence bundle of one exchange (JSON-ready)."""
    msg = Message.objects.get(pk=message_id)
    keys = _public_keys()
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "record": record_document(msg),
        "request": msg.request,
        "response": msg.response,
        "chain": None,
        "keys": {k: keys[k] for k in {msg.request_key_id, msg.response_key_id} if k in keys},
        "gateway_key": crypto.gateway_public_b64(),
    }
    if msg.seq is None:
        return bundle  # not sealed yet: signatures only
    cp = Checkpoint.objects.filter(last_seq__gte=msg.seq).order_by("last_seq").first()
    following: Iterable[Message] = (
        Message.objects.filter(seq__gt=msg.seq, seq__lte=cp.last_seq).order_by("seq") if cp else []
    )
    bundle["chain"] = {
        "prev_hash": msg.prev_hash,
        "hash": msg.hash,
        "following": [content_hash(record_document(m)) for m in following],
        "checkpoint": ({**checkpoint_document(cp), "signature": cp.signature} if cp is not None else None),
    }
    return bundle


def verify_bundle(bundle: dict[str, Any], *, trusted_gateway_key: str | None = None) -> Report:
    """Check a bundle without the database: the documents' hashes and signatures, the response
    bound to the request, the record's chain link, the links to the checkpoint and its
    signature by the gateway key (``trusted_gateway_key``: the key the verifier trusts; by
    default the one in the bundle — then only internal consistency is shown)."""
    problems: list[Problem] = []
    if bundle.get("format") != BUNDLE_FORMAT:
        return Report(False, 0, [Problem("format", f"not a {BUNDLE_FORMAT} bundle")])
    try:
        rec = bundle["record"]
        where = {"seq": rec.get("seq"), "message_id": rec.get("id")}
        keys = dict(bundle.get("keys", {}))
        gw = trusted_gateway_key or bundle["gateway_key"]
        keys.setdefault(crypto.key_id(crypto.unb64(gw)), gw)
        req = crypto.canonical(bundle["request"])
        res = crypto.canonical(bundle["response"])
        if crypto.sha256_hex(req) != rec["request_hash"]:
            problems.append(Problem("altered", "the request does not match its hash", **where))
        elif not crypto.verify(keys.get(rec["request_key_id"], ""), rec["request_signature"], req):
            problems.append(Problem("bad_signature", "the request's signature does not verify", **where))
        if crypto.sha256_hex(res) != rec["response_hash"]:
            problems.append(Problem("altered", "the response does not match its hash", **where))
        elif bundle["response"].get("request_hash") != rec["request_hash"]:
            problems.append(Problem("altered", "the response is bound to another request", **where))
        elif not crypto.verify(keys.get(rec["response_key_id"], ""), rec["response_signature"], res):
            problems.append(Problem("bad_signature", "the response's signature does not verify", **where))
        chain = bundle.get("chain")
        if chain is not None:
            h = link(chain["prev_hash"], content_hash(rec))
            if h != chain["hash"]:
                problems.append(Problem("altered", "the record does not match its chain hash", **where))
            for c in chain["following"]:
                h = link(h, c)
            cp = chain.get("checkpoint")
            if cp is None:
                problems.append(Problem("checkpoint", "no checkpoint seals this record yet", **where))
            else:
                doc = checkpoint_document(cp)
                if not crypto.verify(gw, cp["signature"], crypto.canonical(doc)):
                    problems.append(
                        Problem(
                            "checkpoint", "the checkpoint's signature does not verify with the gateway key"
                        )
                    )
                elif h != cp["last_hash"]:
                    problems.append(
                        Problem(
                            "altered",
                            "the chain from this record does not reach the signed checkpoint",
                            **where,
                        )
                    )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problems.append(
            Problem("format", f"the bundle is incomplete or malformed ({exc.__class__.__name__}: {exc})")
        )
    return Report(ok=not problems, checked=1, problems=problems)
