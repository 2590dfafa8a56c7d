"""The matching pipeline: exact ID pass, old-CMND pass, then the probabilistic model; decisions,
duplicates (clusters anchored on one citizen), proposed corrections and quality flags.

Pure over plain values: a list of :class:`SectorRow` and the registry's
:class:`~dancu.blocks.registry.dto.ReferenceRecord` list (read by
``registry.services.cleaning_reference``), so that the evaluation harness runs it without a
database.

Decisions per sector row:

* ``matched`` — the ID pass or the CMND pass found the citizen and the name or the date of birth
  agrees (a typo can land on another person's number: the number alone is not trusted); or the model
  scored the best citizen at ≥ ``ACCEPT_WEIGHT`` and clearly above the runner-up (the weights carry
  the file's prior, :func:`estimate_prior_shift`);
* ``review`` — the best citizen scored between ``REVIEW_WEIGHT`` and ``ACCEPT_WEIGHT``, or two
  citizens are too close to call: an official decides (``apps/cleaning`` review queue);
* ``unmatched`` — nothing scored ≥ ``REVIEW_WEIGHT``;
* ``duplicate`` — another row of the file was matched to the same citizen first (the cluster of
  rows of one person is kept; only the first is the cluster's head).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dancu.blocks.linkage import model as m
from dancu.blocks.linkage.normalise import (
    normalise_address,
    normalise_id,
    normalise_name,
    parse_partial_date,
)
from dancu.blocks.registry.dto import AddressEvidence, ReferenceRecord
from dancu.errors import DomainValidationError

# Thresholds in match weight (log2 of the Bayes factor); measured on the synthetic set (ADR 0012).
ACCEPT_WEIGHT = 6.0
REVIEW_WEIGHT = 0.0
AMBIGUITY_MARGIN = 3.0
# The file's prior (``file_prior_shift``, ADR 0012 decision 12): the share of true pairs the blocking
# rules miss (measured 0.26 % on the skewed registry of ``test_blocking``; 1 % to be safe), and the
# most the prior may add to a weight (8×: a file can make a row at most 8 times likelier registered).
BLOCKING_MISS = 0.01
MAX_PRIOR_SHIFT = 3.0

MATCHED, REVIEW, UNMATCHED, DUPLICATE = "matched", "review", "unmatched", "duplicate"
SEX_WORDS = {
    "m": "M",
    "nam": "M",
    "male": "M",
    "f": "F",
    "nu": "F",
    "nữ": "F",
    "female": "F",
    "0": "M",
    "1": "F",
}


@dataclass(frozen=True)
class SectorRow:
    """One row of a sector file, in the canonical fields (after the column mapping)."""

    key: int
    full_name: str = ""
    date_of_birth: str = ""
    sex: str = ""
    id_number: str = ""
    address: str = ""


@dataclass
class Outcome:
    key: int
    decision: str
    citizen_id: int | None = None
    method: str = ""  # id | cmnd | model
    match_weight: float | None = None
    probability: float | None = None
    explanation: dict[str, float] = field(default_factory=dict)
    candidates: list[tuple[int, float]] = field(default_factory=list)  # (citizen, weight), best first
    corrections: list[dict[str, str]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class LinkResult:
    outcomes: list[Outcome]
    model_version: str
    model_settings: dict[str, Any]

    def counts(self) -> dict[str, int]:
        c: dict[str, int] = {
            MATCHED: 0,
            REVIEW: 0,
            UNMATCHED: 0,
            DUPLICATE: 0,
            "corrected": 0,
            "deceased": 0,
            "moved": 0,
            "temporary_residence": 0,
            "address_differs": 0,
        }
        for o in self.outcomes:
            c[o.decision] += 1
            if o.decision == MATCHED and o.corrections:
                c["corrected"] += 1
            for f in o.flags:
                c[f] = c.get(f, 0) + 1
        return c


def sector_features(row: SectorRow) -> tuple[dict[str, Any], list[str]]:
    """The model's features of a sector row, and the problems found reading it (a bad date is a
    problem, not a failure: the row is still matched on what remains)."""
    problems: list[str] = []
    feats: dict[str, Any] = {"unique_id": row.key, **m.name_features(row.full_name)}
    try:
        d = parse_partial_date(row.date_of_birth)
    except DomainValidationError:
        d = None
        problems.append("date_of_birth")
    feats["dob"] = d.iso if d and d.day else None
    feats["dob_swap"] = d.swapped.isoformat() if d and d.swapped else None
    feats["dob_ym"] = f"{d.year:04d}-{d.month:02d}" if d and d.month else None
    feats["dob_year"] = f"{d.year:04d}" if d else None
    sex = SEX_WORDS.get(" ".join(row.sex.lower().split()))
    feats["sex"] = sex or normalise_name(row.full_name).sex_hint or None
    addr = normalise_address(row.address) if row.address else None
    feats["ward_code"] = (addr.ward_code or None) if addr else None
    feats["street"] = (addr.street or None) if addr else None
    return feats, problems


def _agrees(feats: dict[str, Any], ref: dict[str, Any]) -> bool:
    """An ID-pass hit is confirmed when the given name agrees with the surname key or the birth
    year; or the full date of birth (either reading of a swapped day/month) agrees with the given
    name or the surname key; or — for a typo in the given name — the surname key, the middle name
    and the birth year all agree (folded forms). Another person's number reached by a typo agrees
    on none of these but by rare chance."""

    def same(name: str) -> bool:
        return feats[name] is not None and feats[name] == ref[name]

    dob = ref["dob"]
    same_dob = dob is not None and dob in (feats["dob"], feats["dob_swap"])
    same_given, same_family, same_year = same("given"), same("family_key"), same("dob_year")
    return (
        (same_given and (same_family or same_year))
        or (same_dob and (same_given or same_family))
        or (same_family and same("middle") and same_year)
    )


def file_prior_shift(left: int, confident: float) -> float:
    """Bits added to the model's match weights of one file, from the file itself.

    The model's prior (one match per row among the registry's N citizens) weighs "someone else"
    as N citizens each with an average Bayes factor of one, as if every citizen were a candidate.
    For one row the alternatives to its best citizen are: the other candidates blocking found (the
    runner-up margin deals with those); the citizens blocking did not reach — their Bayes factors
    sum to about N × ``BLOCKING_MISS``; and the person not being in the registry, N × out / in. So
    the best citizen's odds are the model's odds times 1 / (``BLOCKING_MISS`` + out / in). The share
    ``out`` of the file's people who are not registered is bounded from above by the file: of the
    ``left`` rows that reached the model, ``confident`` were linked at ≥ ``ACCEPT_WEIGHT`` and
    clear of the runner-up under the model's own prior — the rest may all be strangers. The shift
    is never negative (never stricter than the model's prior) and at most ``MAX_PRIOR_SHIFT``; a
    file mostly of unregistered people gets none. (Fellegi–Sunter with a prior per file, as Splink
    estimates λ from rules it trusts; a cleaning official's "most of this file's people are ours".)
    """
    import math

    if left <= 0 or confident <= 0:
        return 0.0
    out = min(1.0, max(1 - confident / left, 1 / left))
    if out >= 0.5:
        return 0.0
    shift = -math.log2(BLOCKING_MISS + out / (1 - out))
    return round(min(MAX_PRIOR_SHIFT, max(0.0, shift)), 3)


def estimate_prior_shift(left: int, row_log2_odds: Iterable[float], *, iterations: int = 50) -> float:
    """The file's prior estimated from the file (ADR 0012 decision 12, second form): EM on the share
    ``in`` of the file's people who are in the registry, as Splink estimates λ.

    ``row_log2_odds`` has, for each of the ``left`` rows that reached the model and have candidates,
    log2 of the sum over its candidates of 2^(match weight) under the model's own prior — the row's
    likelihood ratio L "someone blocking found" against "a random citizen". A row with no candidate
    counts L = 0. With ``in`` the share registered, a row is registered with probability
    (L + ``BLOCKING_MISS``) / (L + ``BLOCKING_MISS`` + out / in); the new ``in`` is the mean of that
    over the ``left`` rows (the EM update of a mixing weight); the shift is then
    :func:`file_prior_shift` of ``in`` × ``left``. Unlike the bound of :func:`file_prior_shift` on
    the rows linked with confidence, which counts a true link in review as a stranger — more of them
    as the registry grows and the model's prior falls, so the bound fell by 1–2 bits between 850,000
    and 8,500,000 citizens where the file's share of strangers had not changed — each row counts by
    its posterior. Same cap, same "no boost for a file mostly of unregistered people"."""
    import numpy as np

    odds = np.exp2(np.minimum(np.asarray(list(row_log2_odds), dtype=float), 200.0)) + BLOCKING_MISS
    if left <= 0 or not len(odds):
        return 0.0
    share = 0.5
    for _ in range(iterations):
        ratio = (1 - share) / share
        registered = float(np.sum(odds / (odds + ratio)))
        registered += (left - len(odds)) * BLOCKING_MISS / (BLOCKING_MISS + ratio)
        new = min(max(registered / left, 1e-6), 1 - 1e-6)
        done = abs(new - share) < 1e-6
        share = new
        if done:
            break
    return file_prior_shift(left, share * left)


def probability(weight: float) -> float:
    """Splink's match probability for a match weight (log2 of the posterior odds)."""
    return float(2.0**weight / (1 + 2.0**weight))


def link(
    rows: list[SectorRow],
    reference: list[ReferenceRecord],
    *,
    use_model: bool = True,
    model: dict[str, Any] | None = None,
    progress: Callable[[int, str], None] | None = None,
    db_api: Any = None,
    address_evidence: Callable[[set[tuple[int, str]]], dict[tuple[int, str], AddressEvidence]] | None = None,
) -> LinkResult:
    """Match ``rows`` against ``reference``; ``use_model=False`` stops after the ID and CMND passes
    (and is what the exact-ID baseline of the evaluation uses, with ``id_only``). ``db_api`` is
    Splink's backend for the model (embedded DuckDB by default; Spark through ``linkage.spark``).
    ``address_evidence`` asks the registry about the rows linked to a citizen of another ward
    (``registry.services.cleaning_address_evidence``; :func:`apply_address_evidence`)."""
    say = progress or (lambda pct, stage: None)
    say(5, "normalising")
    feats: dict[int, dict[str, Any]] = {}
    outcomes: dict[int, Outcome] = {}
    for r in rows:
        feats[r.key], problems = sector_features(r)
        outcomes[r.key] = Outcome(r.key, UNMATCHED, problems=problems)
    refs = {c.citizen_id: c for c in reference}
    ref_feats = {c.citizen_id: m.reference_features(c) for c in reference}
    by_number: dict[str, int] = {}
    by_old: dict[str, int] = {}
    for c in reference:
        by_number[c.id_number] = c.citizen_id
        for n in c.previous_id_numbers:
            by_number.setdefault(n, c.citizen_id)
        for n in c.old_id_numbers:
            by_old.setdefault(n, c.citizen_id)

    say(15, "id pass")
    remaining: list[int] = []
    for r in rows:
        nid = normalise_id(r.id_number)
        o = outcomes[r.key]
        hit, method = None, ""
        if nid.kind == "id12" and nid.number in by_number:
            hit, method = by_number[nid.number], "id"
        elif nid.number in by_old:
            hit, method = by_old[nid.number], "cmnd"
        if hit is not None and _agrees(feats[r.key], ref_feats[hit]):
            o.decision, o.citizen_id, o.method = MATCHED, hit, method
        else:
            if hit is not None:
                o.problems.append("id_number_conflict")
            remaining.append(r.key)

    version, saved = "", {}
    if use_model and remaining:
        say(30, "model")
        preds, trained = m.train_and_predict(
            [feats[k] for k in remaining], list(ref_feats.values()), model=model, db_api=db_api
        )
        version, saved = trained.version, trained.settings
        say(80, "decisions")
        best: dict[int, list[m.Prediction]] = {}
        for p in preds:
            best.setdefault(p.record_key, []).append(p)
        for cands in best.values():
            cands.sort(key=lambda p: (-p.match_weight, p.citizen_id))

        def clear(cands: list[m.Prediction]) -> bool:
            return len(cands) < 2 or cands[1].match_weight <= cands[0].match_weight - AMBIGUITY_MARGIN

        import math

        shift = estimate_prior_shift(
            len(remaining),
            (math.log2(sum(2.0 ** min(p.match_weight, 200.0) for p in c)) for c in best.values()),
        )
        for key, cands in best.items():
            o = outcomes[key]
            top = cands[0]
            weight = top.match_weight + shift
            o.candidates = [(p.citizen_id, round(p.match_weight + shift, 2)) for p in cands[:3]]
            if weight < REVIEW_WEIGHT:
                continue
            o.citizen_id, o.method = top.citizen_id, "model"
            o.match_weight, o.probability = round(weight, 2), round(probability(weight), 6)
            o.explanation = top.explanation
            o.decision = MATCHED if weight >= ACCEPT_WEIGHT and clear(cands) else REVIEW

    say(90, "duplicates and corrections")
    seen: set[int] = set()
    for r in rows:
        o = outcomes[r.key]
        if o.decision == MATCHED and o.citizen_id is not None:
            if o.citizen_id in seen:
                o.decision = DUPLICATE
            seen.add(o.citizen_id)
        if o.citizen_id is not None:
            annotate(o, r, feats[r.key], refs[o.citizen_id])
    if address_evidence is not None:
        say(95, "previous addresses")
        claims = address_claims(outcomes.values(), feats)
        apply_address_evidence(outcomes.values(), feats, address_evidence(claims) if claims else {})
    say(100, "done")
    return LinkResult([outcomes[r.key] for r in rows], version, saved)


def annotate(o: Outcome, row: SectorRow, feats: dict[str, Any], ref: ReferenceRecord) -> None:
    """Proposed corrections (never applied to the file silently: the export adds columns next to
    the originals) and flags: ``deceased``; ``address_differs`` (the file's ward is not the
    registry's permanent one), which :func:`apply_address_evidence` turns into ``moved`` or
    ``temporary_residence`` when the registry knows the citizen in the file's ward."""
    o.corrections = []
    o.flags = []
    nid = normalise_id(row.id_number)
    if nid.number != ref.id_number:
        o.corrections.append(
            {
                "field": "id_number",
                "from": row.id_number,
                "to": ref.id_number,
                "rule": "cmnd_replaced" if nid.kind == "cmnd" else "id_attached",
            }
        )
    if normalise_name(row.full_name).toned != normalise_name(ref.full_name).toned:
        o.corrections.append(
            {"field": "full_name", "from": row.full_name, "to": ref.full_name, "rule": "registry"}
        )
    reg_dob = ref.date_of_birth.isoformat() if ref.dob_precision == "day" else str(ref.date_of_birth.year)
    if feats["dob"] != reg_dob and ref.dob_precision == "day":
        o.corrections.append(
            {
                "field": "date_of_birth",
                "from": row.date_of_birth,
                "to": ref.date_of_birth.strftime("%d/%m/%Y"),
                "rule": "registry",
            }
        )
    if ref.life_status == "deceased":
        o.flags.append("deceased")
    if feats["ward_code"] and ref.permanent_ward_code and feats["ward_code"] != ref.permanent_ward_code:
        o.flags.append(ADDRESS_DIFFERS)
        o.corrections.append(
            {
                "field": "address",
                "from": row.address,
                "to": ref.permanent_address_text,
                "rule": "registry_residence",
            }
        )


ADDRESS_DIFFERS = "address_differs"


def address_claims(outcomes: Iterable[Outcome], feats: dict[int, dict[str, Any]]) -> set[tuple[int, str]]:
    """The wards to ask the registry about: (citizen id, the file's ward) for each linked row whose
    ward is not the citizen's permanent one (flag ``address_differs``)."""
    return {
        (o.citizen_id, feats[o.key]["ward_code"])
        for o in outcomes
        if o.citizen_id is not None and ADDRESS_DIFFERS in o.flags
    }


def apply_address_evidence(
    outcomes: Iterable[Outcome],
    feats: dict[int, dict[str, Any]],
    evidence: dict[tuple[int, str], AddressEvidence],
) -> None:
    """Turn a row's ``address_differs`` into what the registry knows of the citizen in the row's
    ward (in place):

    * ``moved`` — a permanent residence the citizen left (Law on Residence 2020 Art. 22): the file
      is out of date; the address correction stays proposed and says since when (``moved_on``,
      rule ``registry_moved``);
    * ``temporary_residence`` — the citizen has a temporary residence registered there (Art.
      27–28): the file gives where they live, which is not an error; no address correction;
    * otherwise ``address_differs`` stays: the registry has no record of the citizen there (the
      file may be wrong, or the person lives there unregistered) — for an official to look at.
    """
    for o in outcomes:
        if o.citizen_id is None or ADDRESS_DIFFERS not in o.flags:
            continue
        ev = evidence.get((o.citizen_id, feats[o.key]["ward_code"]))
        if ev is None:
            continue
        if ev.kind == "temporary":
            o.flags = [("temporary_residence" if f == ADDRESS_DIFFERS else f) for f in o.flags]
            o.corrections = [c for c in o.corrections if c["field"] != "address"]
        else:
            o.flags = [("moved" if f == ADDRESS_DIFFERS else f) for f in o.flags]
            for c in o.corrections:
                if c["field"] == "address":
                    c["rule"] = "registry_moved"
                    c["moved_on"] = ev.moved_on.isoformat() if ev.moved_on else ""
