"""Matching what an identity document says against the registry record: the decision and why.

Pure functions over plain values (no database): :func:`judge` takes the claim read from the
document (a card QR, an MRZ, a chip, or data typed by staff who hold the card) and the minimum the
registry knows about the holder of that number (:class:`RecordFacts`), and returns a decision with
reasons. ``registry.services.match_identity`` reads the facts, calls :func:`judge`, releases data
and records the audit event (Decree 69/2024/NĐ-CP on electronic identification and
authentication: establishments verify a person against the population database).

Decisions, in order of precedence:

1. ``no_match`` — the number is unknown, or name, date of birth, sex or old CMND number differ.
   Nothing else is reported: a stranger's card must not reveal whether its number's holder is
   alive or holds a valid card.
2. ``deceased`` — the holder of the number is recorded as deceased.
3. ``card_not_valid`` — the number was replaced by a new one, or the presented card is unknown,
   expired, replaced by a newer card, reported lost or revoked (Law on Identification 2023
   Art. 21 and 28).
4. ``match``.

(``invalid_evidence`` is decided by the identity block before the registry is asked.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dancu.blocks.registry.dto import CardView
from dancu.blocks.registry.names import NameMatch, match_names

MATCH = "match"
NO_MATCH = "no_match"
DECEASED = "deceased"
CARD_NOT_VALID = "card_not_valid"
INVALID_EVIDENCE = "invalid_evidence"
DECISIONS = (MATCH, NO_MATCH, DECEASED, CARD_NOT_VALID, INVALID_EVIDENCE)

# Old 9-digit CMND cards ceased to be valid on 01/01/2025 (Law on Identification 2023 Art. 46 cl. 1).
CMND_INVALID_FROM = date(2025, 1, 1)

# code -> (Vietnamese, English). Messages never contain personal data: they are shown in yes/no mode.
MESSAGES: dict[str, tuple[str, str]] = {
    "id_number_unknown": (
        "Số định danh cá nhân không có trong Cơ sở dữ liệu quốc gia về dân cư",
        "The personal ID number is not in the national population database",
    ),
    "id_number_replaced": (
        "Số định danh trên giấy tờ đã được thay bằng số mới",
        "The ID number on the document has been replaced by a new number",
    ),
    "name_mismatch": ("Họ, chữ đệm và tên không khớp", "The full name does not match"),
    "name_variant": (
        "Họ tên khớp khi bỏ dấu, theo cách viết khác (Huỳnh/Hoàng, Võ/Vũ), bị cắt ngắn hoặc đổi thứ tự",
        "The name matches without accents, in a variant spelling (Huỳnh/Hoàng, Võ/Vũ), truncated "
        "or in another order",
    ),
    "date_of_birth_mismatch": ("Ngày sinh không khớp", "The date of birth does not match"),
    "sex_mismatch": ("Giới tính không khớp", "The sex does not match"),
    "old_id_number_mismatch": ("Số CMND cũ không khớp", "The old ID card (CMND) number does not match"),
    "holder_deceased": (
        "Người mang số định danh này đã được ghi nhận là đã mất",
        "The holder of this ID number is recorded as deceased",
    ),
    "holder_missing": (
        "Người mang số định danh này đang được ghi nhận là mất tích",
        "The holder of this ID number is recorded as missing",
    ),
    "card_unknown": (
        "Không có thẻ nào được cấp với số và ngày cấp/ngày hết hạn này",
        "No card was issued with this number and issue or expiry date",
    ),
    "card_expired": ("Thẻ đã hết hạn sử dụng", "The card has expired"),
    "card_replaced": ("Thẻ đã được thay bằng thẻ cấp sau", "The card has been replaced by a newer card"),
    "card_reported_lost": ("Thẻ đã được báo mất", "The card has been reported lost"),
    "card_revoked": ("Thẻ đã bị thu hồi", "The card has been revoked"),
    "card_not_checked": (
        "Chưa kiểm tra được thẻ: giấy tờ không cho biết ngày cấp hoặc ngày hết hạn",
        "The card was not checked: the evidence gives no issue or expiry date",
    ),
}


@dataclass(frozen=True)
class Reason:
    """One finding. ``code`` is stable and machine-readable; the messages are fixed texts (no
    personal data); ``field`` names the evidence field or verification step concerned; ``detail``
    is technical (a rule name, a score, a chip-verification step's reason), never personal data."""

    code: str
    message_vi: str
    message_en: str
    field: str = ""
    detail: str = ""


def reason(code: str, *, field: str = "", detail: str = "") -> Reason:
    """The reason ``code`` with its fixed messages (codes of this module only)."""
    vi, en = MESSAGES[code]
    return Reason(code, vi, en, field, detail)


@dataclass(frozen=True)
class CardClaim:
    """What the document says about the card itself. ``expiry_known``: the document states its
    expiry, and then ``expires_on=None`` means "no expiry" (cards issued from age 60)."""

    issued_on: date | None = None
    expires_on: date | None = None
    expiry_known: bool = False


@dataclass(frozen=True)
class IdentityClaim:
    """Who the document says the person is. ``name_may_be_truncated``: the name comes from a full
    MRZ name field, which ICAO 9303 part 3 §4.6 truncates."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str | None = None
    old_id_number: str = ""
    card: CardClaim | None = None
    name_may_be_truncated: bool = False


@dataclass(frozen=True)
class RecordFacts:
    """The minimum of the record a match needs (no address, no family, no religion)."""

    citizen_id: int
    full_name: str
    date_of_birth: date
    dob_precision: str
    sex: str
    life_status: str
    number_is_current: bool
    old_id_numbers: tuple[str, ...]
    cards: tuple[CardView, ...]


@dataclass(frozen=True)
class Judgement:
    decision: str
    reasons: tuple[Reason, ...]
    name: NameMatch | None
    card: CardView | None  # the presented card, when the registry has it


def same_birth_date(claimed: date, recorded: date, precision: str) -> bool:
    """Equal to the precision the registry knows: the day, only the month, or only the year."""
    if precision == "year":
        return claimed.year == recorded.year
    if precision == "month":
        return (claimed.year, claimed.month) == (recorded.year, recorded.month)
    return claimed == recorded


def judge(claim: IdentityClaim, facts: RecordFacts | None, *, on: date) -> Judgement:
    """The decision for ``claim`` against the record ``facts`` (None: no such number), on day ``on``."""
    if facts is None:
        return Judgement(NO_MATCH, (reason("id_number_unknown", field="id_number"),), None, None)
    name = match_names(claim.full_name, facts.full_name, claimed_may_be_truncated=claim.name_may_be_truncated)
    mismatches: list[Reason] = []
    if not name.matches:
        mismatches.append(reason("name_mismatch", field="full_name", detail=f"score {name.score:.2f}"))
    if not same_birth_date(claim.date_of_birth, facts.date_of_birth, facts.dob_precision):
        mismatches.append(reason("date_of_birth_mismatch", field="date_of_birth"))
    if claim.sex is not None and claim.sex != facts.sex:
        mismatches.append(reason("sex_mismatch", field="sex"))
    if claim.old_id_number and facts.old_id_numbers and claim.old_id_number not in facts.old_id_numbers:
        mismatches.append(reason("old_id_number_mismatch", field="old_id_number"))
    if mismatches:
        return Judgement(NO_MATCH, tuple(mismatches), name, None)

    notes: list[Reason] = []
    if name.method not in ("exact", "accents"):  # an MRZ or a keyboard has no accents: not worth a note
        detail = f"{name.method}, score {name.score:.2f}"
        notes.append(reason("name_variant", field="full_name", detail=detail))
    if facts.life_status == "deceased":
        return Judgement(DECEASED, (reason("holder_deceased"), *notes), name, None)
    if facts.life_status == "missing":
        notes.append(reason("holder_missing"))
    problems: list[Reason] = []
    if not facts.number_is_current:
        problems.append(reason("id_number_replaced", field="id_number"))
    card: CardView | None = None
    wanted = claim.card
    if wanted is None or (wanted.issued_on is None and not wanted.expiry_known):
        notes.append(reason("card_not_checked", field="card"))
    else:
        card, card_problems = _card_findings(claim.id_number, wanted, facts.cards, on)
        problems += card_problems
    if problems:
        return Judgement(CARD_NOT_VALID, (*problems, *notes), name, card)
    return Judgement(MATCH, tuple(notes), name, card)


def _card_findings(
    number: str, wanted: CardClaim, cards: tuple[CardView, ...], on: date
) -> tuple[CardView | None, list[Reason]]:
    """The presented card and its problems. The card is found by the number printed on it and its
    issue date, or — for an MRZ, which has no issue date — its expiry date."""
    numbered = [c for c in cards if c.card_number == number]
    if wanted.issued_on is not None:
        found = [c for c in numbered if c.issued_on == wanted.issued_on]
    else:
        found = [c for c in numbered if c.expires_on == wanted.expires_on]
    problems: list[Reason] = []
    card = max(found, key=lambda c: c.issued_on) if found else None
    if card is None:
        problems.append(reason("card_unknown", field="card"))
    else:
        status_reason = {"replaced": "card_replaced", "lost": "card_reported_lost", "revoked": "card_revoked"}
        if card.status in status_reason:
            problems.append(reason(status_reason[card.status], field="card"))
        elif any(other.issued_on > card.issued_on for other in cards):
            problems.append(reason("card_replaced", field="card"))
        expired = (card.expires_on is not None and card.expires_on < on) or (
            card.kind == "cmnd" and on >= CMND_INVALID_FROM
        )
        if expired:
            problems.append(reason("card_expired", field="card"))
    if (
        wanted.expires_on is not None
        and wanted.expires_on < on
        and not any(p.code == "card_expired" for p in problems)
    ):
        problems.append(reason("card_expired", field="card"))
    return card, problems
