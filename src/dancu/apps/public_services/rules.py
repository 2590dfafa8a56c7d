"""Eligibility rules of the procedures, checked on the server when a dossier is submitted (each
problem names the field, in Vietnamese, with the rule's legal basis in the code's comments).

``check`` receives the citizen's cleaned values, the applicant's registry record (read for the
prefill, purpose ``public_service.processing``) and the submitting user. Rules that need another
record read it here through the registry's functions with the citizen's own portal actor, so the
read is audited to them. The traffic-fine, driving-licence and unemployment-insurance registers are
read through the data-exchange gateway (``sector_registers``), as the agencies' systems answer,
and so are the household's health-insurance cards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dancu.apps.public_services import sector_registers, workdays
from dancu.apps.public_services.models import Dossier, TrafficFine
from dancu.apps.residence.rules import notification_deadline
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.eid import services as eid
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.names import fold
from dancu.errors import DomainValidationError, FieldProblem, NotFound

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Problems = list[FieldProblem]
Values = dict[str, str]
# Law on Identification 2023 Art. 19: from 14 a citizen applies for their card themselves.
CARD_AGE = 14
# Law on Residence 2020 Art. 25 cl. 1: a member with full civil capacity (18) may separate.
ADULT = 18
# Law on Employment 2013 Art. 46 cl. 1, Art. 49 cl. 2: apply within 3 months of the contract's
# end, having paid unemployment insurance 12 months within the 24 months before it.
UI_WINDOW_MONTHS = sector_registers.UI_WINDOW_MONTHS
UI_MIN_MONTHS = 12
UI_APPLY_MONTHS = 3
# Law on Road Traffic Order and Safety 2024 Art. 62: a licence expired more than 12 months is not
# exchanged online; the holder re-takes the test.
LICENCE_GRACE = timedelta(days=365)
LICENCE_CLASSES_WITHOUT_HEALTH = frozenset({"A1", "A", "B1"})
MAX_STAY = timedelta(days=30)  # Law on Residence 2020 Art. 30: a stay under 30 days


def _d(values: Values, key: str) -> date:
    return date.fromisoformat(values[key])


def portal_context(user_id: int, case_reference: str = "") -> AccessContext:
    from dancu.apps.public_services.services import PURPOSE, portal_actor

    return AccessContext(portal_actor(user_id), PURPOSE, case_reference=case_reference)


def valid_card(view: CitizenView, today: date) -> bool:
    """The registry holds a card of the citizen that is valid today."""
    return any(
        c.status == "valid" and (c.expires_on is None or c.expires_on >= today) for c in (view.cards or [])
    )


def _age(view: CitizenView, today: date) -> int:
    return registry.age_on(view.date_of_birth, today) if view.date_of_birth else 0


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def ui_months(id_number: str, end: date, case_reference: str = "") -> int:
    """Months of unemployment insurance paid in the 24 months up to the month of ``end``, as
    BHXH's register answers through the data-exchange gateway (``sector_registers``)."""
    data = sector_registers.fetch(
        "unemployment-insurance",
        f"{id_number}/{end.isoformat()}",
        id_number,
        case_reference or "DVC unemployment-benefit",
    )
    return int(data["months_paid"]) if data else 0


# --------------------------------------------------------------------------- per procedure
def _card_reissue(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Identification 2023 Art. 24: exchange (damaged, details changed, error) or re-issue
    (lost) of a card; online only for a card still valid — an expired card is renewed at the
    police desk, where biometrics are taken again (Decree 70/2024/NĐ-CP)."""
    out: Problems = []
    if not valid_card(view, today):
        out.append(
            FieldProblem(
                "cards",
                "no_valid_card",
                "Không có thẻ còn hạn: thẻ hết hạn được cấp đổi tại cơ quan Công an (thu nhận sinh trắc học)",
            )
        )
    if _age(view, today) < CARD_AGE:
        out.append(
            FieldProblem(
                "date_of_birth", "age_14", "Người dưới 14 tuổi do người đại diện hợp pháp làm thủ tục"
            )
        )
    if values["reason"] in ("changed_details", "error") and not values.get("details"):
        out.append(FieldProblem("details", "required", "Vui lòng mô tả thông tin thay đổi hoặc sai sót"))
    return out


def _residence_notification(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Residence 2020 Art. 30, Circular 55/2021/TT-BCA Art. 15: a stay of under 30 days
    somewhere other than one's own residence; notified by 23:00 of the arrival day (08:00 the
    next day after a late arrival) — a later notice is taken but marked late."""
    out: Problems = []
    arrival, departure = _d(values, "arrival"), _d(values, "departure")
    if arrival > today + timedelta(days=30):
        out.append(FieldProblem("arrival", "too_early", "Chỉ thông báo trước tối đa 30 ngày"))
    if departure < arrival:
        out.append(FieldProblem("departure", "order", "Ngày đi phải từ ngày đến trở đi"))
    elif departure - arrival >= MAX_STAY:
        out.append(
            FieldProblem(
                "departure",
                "max_30_days",
                "Lưu trú dưới 30 ngày; từ 30 ngày trở lên phải đăng ký tạm trú (Luật Cư trú Điều 27)",
            )
        )
    own = {fold(a.text) for a in (view.permanent_address, view.temporary_address) if a and a.text}
    if fold(values["stay_address"]) in own:
        out.append(
            FieldProblem(
                "stay_address", "own_residence", "Đây là nơi thường trú/tạm trú của bạn, không phải lưu trú"
            )
        )
    return out


def notification_late(arrival: date, at: datetime) -> bool:
    """Notified after the latest deadline of a stay starting that day (an arrival after 23:00)."""
    latest = notification_deadline(datetime.combine(arrival, time(23, 30), tzinfo=VN))
    return at > latest


def _eid_level2(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Decree 69/2024/NĐ-CP Art. 12–13: level 2 is given in person at the commune police with a
    valid card (chip read, face compared), from age 6; the request books the visit."""
    out: Problems = []
    account = eid.account_of(user_id)
    if account is not None and account.level >= 2:
        out.append(FieldProblem("account", "already_level2", "Tài khoản đã ở mức độ 2"))
    if eid.max_level_for_age(_age(view, today)) < 2:
        out.append(
            FieldProblem("date_of_birth", "eligibility_age", "Trẻ dưới 6 tuổi chỉ có tài khoản mức độ 1")
        )
    if not valid_card(view, today):
        out.append(FieldProblem("cards", "no_valid_card", "Cần thẻ căn cước/CCCD gắn chip còn hạn"))
    day = _d(values, "appointment")
    if day <= today or day > today + timedelta(days=30):
        out.append(FieldProblem("appointment", "window", "Chọn ngày trong 30 ngày tới"))
    elif not workdays.calendar().is_working_day(day):
        out.append(FieldProblem("appointment", "working_day", "Chọn một ngày làm việc"))
    return out


def marriage_problems(links: registry.FamilyLinks, today: date, field: str) -> Problems:
    """Marriage and Family Law 2014 Art. 5 cl. 2(c), Art. 8 cl. 1(a): age, not already married,
    alive — for one party, reported on ``field``."""
    out: Problems = []
    if links.life_status != "alive":
        out.append(FieldProblem(field, "deceased", "Người này đã được khai tử"))
    minimum = registry.MARRIAGE_AGE.get(links.sex, 20)
    if registry.age_on(links.date_of_birth, today) < minimum:
        out.append(FieldProblem(field, "marriage_age", f"Chưa đủ tuổi kết hôn ({minimum} tuổi)"))
    if links.spouse_id_number:
        out.append(FieldProblem(field, "already_married", "Đang có vợ hoặc chồng (Luật HN&GĐ Điều 5)"))
    return out


def relatives(a: registry.FamilyLinks, b: registry.FamilyLinks) -> bool:
    """Direct-line relatives or siblings (Marriage and Family Law 2014 Art. 5 cl. 2(d))."""
    if b.id_number in (a.father_id_number, a.mother_id_number) or a.id_number in (
        b.father_id_number,
        b.mother_id_number,
    ):
        return True
    shared = {a.father_id_number, a.mother_id_number} & {b.father_id_number, b.mother_id_number}
    return bool(shared - {None})


def _marriage(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Civil Status 2014 Art. 17–18: the applicant's side (the partner's is checked when
    they consent, from their own record)."""
    if values["partner_id_number"] == view.id_number:
        return [FieldProblem("partner_id_number", "self", "Số định danh của bên kia phải khác của bạn")]
    links = registry.family_links(portal_context(user_id), view.id_number)
    return marriage_problems(links, today, "id_number")


def _civil_status_change(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Civil Status 2014 Art. 26–28; Civil Code 2015 Art. 28 (name), 29 (ethnicity): a
    change must differ from the record; the date of birth is not changed here (it is part of the
    ID number: Law on Identification 2023 Art. 12)."""
    current = {"full_name": view.full_name, "ethnicity": view.ethnicity or "", "origin_text": ""}
    if view.origin:
        current["origin_text"] = view.origin.text
    if fold(values["new_value"]) == fold(current.get(values["field"], "")):
        return [FieldProblem("new_value", "no_change", "Nội dung mới trùng với thông tin đang có")]
    return []


def _household_separation(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Residence 2020 Art. 25: a member of full age of the same lawful residence separates
    into a new household with the head's consent (given by the head through their account)."""
    out: Problems = []
    if not view.household_number:
        return [FieldProblem("household_number", "no_household", "Bạn chưa có trong hộ nào")]
    if view.relationship_to_head == "head":
        out.append(FieldProblem("household_number", "is_head", "Bạn đang là chủ hộ"))
    if _age(view, today) < ADULT:
        out.append(FieldProblem("date_of_birth", "adult", "Người tách hộ phải đủ 18 tuổi"))
    members = registry.household_members(portal_context(user_id), view.id_number)
    head = next((m for m in members if m.relationship_to_head == "head"), None)
    if head is None or head.id_number != values["head_id_number"]:
        out.append(FieldProblem("head_id_number", "not_head", "Không phải số định danh của chủ hộ của bạn"))
    return out


def last_stay_until(user_id: int) -> date | None:
    """Until when the citizen's temporary residence runs, from their last approved dossier here."""
    for d in Dossier.objects.filter(
        applicant_user_id=user_id,
        service_code__in=("temporary-residence", "temporary-residence-extension"),
        status=Dossier.Status.DONE,
    ).order_by("-decided_at", "-pk")[:1]:
        text = d.items.get("stay_until", {}).get("value", "")
        return date.fromisoformat(text) if text else None
    return None


def _temporary_extension(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Residence 2020 Art. 27 cl. 2, Art. 28 cl. 3: extended within the 15 days before the
    temporary residence ends, for up to 2 years at a time."""
    if not view.temporary_address or not view.temporary_address.ward_code:
        return [FieldProblem("temporary_address", "none", "Bạn chưa đăng ký tạm trú")]
    until = _d(values, "stay_until")
    if until <= today or until > today + timedelta(days=2 * 365 + 1):
        return [FieldProblem("stay_until", "max_2_years", "Gia hạn tối đa 2 năm kể từ hôm nay")]
    ends = last_stay_until(user_id)
    if ends is not None and today < ends - timedelta(days=15):
        return [
            FieldProblem(
                "stay_until",
                "too_early",
                f"Gia hạn trong 15 ngày trước khi hết hạn tạm trú ({ends:%d/%m/%Y})",
            )
        ]
    if ends is not None and until <= ends:
        return [FieldProblem("stay_until", "order", "Ngày gia hạn phải sau thời hạn hiện tại")]
    return []


def _traffic_fine(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """A decision addressed to the applicant and not yet paid. The same answer for a number that
    does not exist and one addressed to someone else (no enumeration)."""
    fine = sector_registers.fetch(
        "traffic-fines", values["decision_number"], view.id_number, "DVC traffic-fine"
    )
    if fine is None:
        return [FieldProblem("decision_number", "not_found", "Không có quyết định xử phạt này đối với bạn")]
    if fine["status"] == TrafficFine.Status.PAID:
        return [FieldProblem("decision_number", "already_paid", "Quyết định này đã được nộp phạt")]
    return []


def _driving_licence(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Circular 35/2024/TT-BGTVT: exchange or re-issue of the holder's own licence; a health
    certificate for classes other than A1, A, B1; over 12 months expired: re-take the test."""
    found = sector_registers.fetch(
        "driving-licences", values["licence_number"], view.id_number, "DVC driving-licence"
    )
    if found is None:
        return [FieldProblem("licence_number", "not_found", "Không tìm thấy giấy phép lái xe này của bạn")]
    lic = _licence(found)
    out: Problems = []
    if lic.expires_on is not None and lic.expires_on < today - LICENCE_GRACE:
        out.append(
            FieldProblem(
                "licence_number",
                "expired_12_months",
                "Giấy phép quá hạn trên 12 tháng: phải sát hạch lại, không cấp đổi trực tuyến",
            )
        )
    if values["reason"] == "expired" and (
        lic.expires_on is None or lic.expires_on > today + timedelta(days=90)
    ):
        out.append(
            FieldProblem(
                "reason", "not_expiring", "Giấy phép chưa đến hạn đổi (trong 3 tháng trước khi hết hạn)"
            )
        )
    if lic.licence_class not in LICENCE_CLASSES_WITHOUT_HEALTH and not values.get("health_certificate"):
        out.append(
            FieldProblem("health_certificate", "required", f"Hạng {lic.licence_class} cần giấy khám sức khỏe")
        )
    return out


@dataclass(frozen=True)
class _Licence:
    licence_class: str
    expires_on: date | None


def _licence(data: dict[str, Any]) -> _Licence:
    expires = data.get("expires_on")
    return _Licence(str(data["licence_class"]), date.fromisoformat(expires) if expires else None)


def _unemployment(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Employment 2013 Art. 46 cl. 1, Art. 49: not after an unlawful resignation or on a
    pension; within 3 months of the contract's end; 12 months of contributions in the last 24."""
    out: Problems = []
    if values["termination"] in ("unlawful_quit", "pension"):
        out.append(
            FieldProblem(
                "termination", "not_eligible", "Không đủ điều kiện hưởng (Luật Việc làm Điều 49 khoản 1)"
            )
        )
    end = _d(values, "contract_end")
    if end > today:
        out.append(FieldProblem("contract_end", "future", "Hợp đồng chưa chấm dứt"))
    elif months_between(end, today) > UI_APPLY_MONTHS or (
        months_between(end, today) == UI_APPLY_MONTHS and today.day > end.day
    ):
        out.append(
            FieldProblem("contract_end", "deadline_3_months", "Quá 3 tháng kể từ ngày chấm dứt hợp đồng")
        )
    elif ui_months(view.id_number, end) < UI_MIN_MONTHS:
        out.append(
            FieldProblem(
                "contract_end",
                "contributions",
                "Chưa đóng đủ 12 tháng bảo hiểm thất nghiệp trong 24 tháng trước đó",
            )
        )
    return out


def _health_insurance(values: Values, view: CitizenView, user_id: int, today: date) -> Problems:
    """Law on Health Insurance 2008 Art. 12 cl. 5, Art. 13: the household's cards are renewed
    together — the household must hold household-kind cards."""
    if not view.household_number:
        return [FieldProblem("household_number", "no_household", "Bạn chưa có trong hộ nào")]
    if not household_cards(user_id, view):
        return [FieldProblem("household_number", "no_cards", "Hộ không có thẻ BHYT theo hộ gia đình")]
    return []


def household_cards(user_id: int, view: CitizenView) -> list[str]:
    """The household-kind card numbers of the applicant's household, as BHXH's register answers
    through the data-exchange gateway (``sector_registers``)."""
    data = sector_registers.fetch(
        "household-health-insurance", view.id_number, view.id_number, "DVC health-insurance-renewal"
    )
    return [str(c) for c in (data or {}).get("cards", [])]


Rule = Callable[[Values, CitizenView, int, date], Problems]
RULES: dict[str, Rule] = {
    "card-reissue": _card_reissue,
    "residence-notification": _residence_notification,
    "eid-level2": _eid_level2,
    "marriage-registration": _marriage,
    "civil-status-change": _civil_status_change,
    "household-separation": _household_separation,
    "temporary-residence-extension": _temporary_extension,
    "traffic-fine": _traffic_fine,
    "driving-licence": _driving_licence,
    "unemployment-benefit": _unemployment,
    "health-insurance-renewal": _health_insurance,
}


def check(code: str, values: Values, view: CitizenView, user_id: int, today: date) -> None:
    rule = RULES.get(code)
    problems = rule(values, view, user_id, today) if rule else []
    if problems:
        raise DomainValidationError(problems)


# --------------------------------------------------------------------------- sector items
def sector_items(code: str, values: Values, view: CitizenView, user_id: int) -> dict[str, str]:
    """What the procedure found in a sector's register for the applicant (stored with source
    ``sector``): the citizen never types these."""
    if code == "traffic-fine":
        fine = sector_registers.fetch(
            "traffic-fines", values["decision_number"], view.id_number, "DVC traffic-fine"
        )
        if fine is None:
            raise NotFound("the decision is no longer in the register", field="decision_number")
        return {
            "plate": str(fine["plate"]),
            "violation": f"{fine['violation']} ({fine['legal_basis']})",
            "fine_vnd": str(fine["amount_vnd"]),
            "decided_on": str(fine["decided_on"]),
        }
    if code == "driving-licence":
        found = sector_registers.fetch(
            "driving-licences", values["licence_number"], view.id_number, "DVC driving-licence"
        )
        if found is None:
            raise NotFound("the licence is no longer valid in the register", field="licence_number")
        lic = _licence(found)
        return {"licence_class": lic.licence_class, "licence_expires_on": str(lic.expires_on or "")}
    if code == "unemployment-benefit":
        return {"ui_months": str(ui_months(view.id_number, _d(values, "contract_end")))}
    if code == "health-insurance-renewal":
        return {"hi_cards": ", ".join(household_cards(user_id, view))}
    return {}
