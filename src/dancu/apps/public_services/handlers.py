"""What approving a dossier does, per implemented service: the registry change the procedure
implies (through the registry's service functions, in the approval's transaction) and the facts
the signed result states."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from dancu.apps.public_services import rules
from dancu.apps.public_services.models import (
    Dossier,
    DrivingLicence,
    HealthInsuranceCard,
    InsurancePeriod,
    JudicialRecord,
    TrafficFine,
)
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.eid import services as eid
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.idnumber import century_sex_digit
from dancu.blocks.registry.names import fold
from dancu.errors import DomainValidationError, NotFound

Handler = Callable[[Actor, Dossier, AccessContext], dict[str, Any]]


def _v(dossier: Dossier, key: str) -> str:
    return str(dossier.items.get(key, {}).get("value", ""))


def cmnd_confirmation(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Approved by the ward police after checking their records (the registry held no link)."""
    return {"old_number": _v(dossier, "old_number"), "id_number": dossier.applicant_id_number}


def temporary_absence(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Residence 2020 Art. 31: the declaration is recorded by the police of the permanent
    residence; the registry holds no absence field, the dossier is the record."""
    return {
        "absent_from": _v(dossier, "absent_from"),
        "absent_until": _v(dossier, "absent_until"),
        "destination": _v(dossier, "destination"),
    }


def temporary_residence(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    view = registry.register_temporary_residence(
        link,
        dossier.applicant_id_number,
        temporary_address_text=_v(dossier, "temporary_address"),
        reason=f"Đăng ký tạm trú, hồ sơ {dossier.tracking_code}",
        legal_basis="Luật Cư trú 2020 Điều 27–28",
    )
    return {
        "temporary_address": view.temporary_address.text if view.temporary_address else "",
        "stay_until": _v(dossier, "stay_until"),
    }


def permanent_residence(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Residence 2020 Art. 20–22: the police of the new place register the permanent
    residence; the registry's change event tells the old and the new ward's subscribers."""
    view = registry.move_residence(
        link,
        dossier.applicant_id_number,
        permanent_address_text=_v(dossier, "new_address"),
        household_number=_v(dossier, "join_household"),
        relationship_to_head=_v(dossier, "relationship_to_head") if _v(dossier, "join_household") else "",
        reason=f"Đăng ký thường trú, hồ sơ {dossier.tracking_code}",
        legal_basis="Luật Cư trú 2020 Điều 20–22",
    )
    return {
        "permanent_address": view.permanent_address.text if view.permanent_address else "",
        "household_number": view.household_number or "",
    }


def death_registration(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """The committee checks the deceased in the registry (its own read, within its ward), then
    the death is recorded: life status changes and the exchange's subscribers are told."""
    number = _v(dossier, "deceased_id_number")
    deceased = registry.get_by_id_number(
        AccessContext(official, "public_service.processing", case_reference=dossier.tracking_code), number
    )
    if fold(deceased.full_name) != fold(_v(dossier, "deceased_full_name")):
        raise DomainValidationError.single(
            "deceased_full_name",
            "mismatch",
            "Họ tên người chết không khớp với Cơ sở dữ liệu quốc gia về dân cư",
        )
    registry.record_death(
        link,
        number,
        date_of_death=date.fromisoformat(_v(dossier, "date_of_death")),
        reason=f"Đăng ký khai tử, hồ sơ {dossier.tracking_code}",
        legal_basis="Luật Hộ tịch 2014 Điều 32–34",
    )
    return {
        "deceased_id_number": number,
        "deceased_full_name": deceased.full_name,
        "date_of_death": _v(dossier, "date_of_death"),
    }


def new_id_number(born: date, sex: str) -> str:
    """A new 12-digit number for a birth registered in this city: PPP (the city's legacy province
    code), G (century and sex), YY, and six random digits (domain-vn §1)."""
    ppp = "0" + settings.DANCU_CITY_PROVINCE_CODE
    g = century_sex_digit(born.year, sex)
    return f"{ppp}{g}{born.year % 100:02d}{secrets.randbelow(1_000_000):06d}"


def birth_registration(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """A birth creates a citizen with a new ID number, living with the declaring parent."""
    parent = registry.get_by_id_number(
        AccessContext(official, "public_service.processing", case_reference=dossier.tracking_code),
        dossier.applicant_id_number,
    )
    born = date.fromisoformat(_v(dossier, "child_date_of_birth"))
    sex = _v(dossier, "child_sex")
    for _attempt in range(5):
        number = new_id_number(born, sex)
        try:
            child = registry.register_citizen(
                link,
                registry.NewCitizen(
                    id_number=number,
                    full_name=_v(dossier, "child_full_name"),
                    date_of_birth=born,
                    sex=sex,
                    permanent_address_text=parent.permanent_address.text if parent.permanent_address else "",
                    household_number=parent.household_number or "",
                    relationship_to_head="child" if parent.household_number else "",
                ),
                reason=f"Đăng ký khai sinh, hồ sơ {dossier.tracking_code}",
                legal_basis="Luật Hộ tịch 2014 Điều 13–17; Luật Căn cước 2023 Điều 12",
            )
        except DomainValidationError as exc:
            if any(p.field == "id_number" and p.rule == "unique" for p in exc.problems):
                continue
            raise
        return {
            "child_id_number": child.id_number,
            "child_full_name": child.full_name,
            "child_date_of_birth": born.isoformat(),
            "birth_place": _v(dossier, "birth_place"),
        }
    raise DomainValidationError.single("id_number", "exhausted", "Không cấp được số định danh, thử lại")


HANDLERS: dict[str, Handler] = {
    "cmnd-confirmation": cmnd_confirmation,
    "temporary-absence": temporary_absence,
    "temporary-residence": temporary_residence,
    "permanent-residence": permanent_residence,
    "death-registration": death_registration,
    "birth-registration": birth_registration,
}


# --------------------------------------------------------------------------- issue 7, second increment
def _why(dossier: Dossier, what: str) -> str:
    return f"{what}, hồ sơ {dossier.tracking_code}"


def _shown_date(value: date | None) -> str:
    return value.isoformat() if value else "Không thời hạn / no expiry"


CARD_FEES = {"lost": 70000}  # Circular 73/2024/TT-BTC: re-issue 70,000 đ, exchange 50,000 đ
CARD_FEE = 50000


def card_reissue(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Identification 2023 Art. 24, 26: a new căn cước card; the old one is marked lost
    (re-issue) or replaced (exchange) in the registry, so no verification accepts it again."""
    reason = _v(dossier, "reason")
    card = registry.reissue_card(
        link,
        dossier.applicant_id_number,
        lost=reason == "lost",
        on=timezone.localdate(),
        reason=_why(dossier, "Cấp đổi, cấp lại thẻ căn cước"),
        legal_basis="Luật Căn cước 2023 Điều 24",
    )
    return {
        "card_number": card.card_number,
        "card_issued_on": card.issued_on.isoformat(),
        "card_expires_on": _shown_date(card.expires_on),
        "old_card": "báo mất / lost" if reason == "lost" else "đã thay thế / replaced",
        "fee_vnd": CARD_FEES.get(reason, CARD_FEE),
    }


def residence_notification(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Residence 2020 Art. 30: the notice itself is the record of the police of the place
    of stay (the dossier lands in their queue, closed); a late notice says so."""
    late = rules.notification_late(date.fromisoformat(_v(dossier, "arrival")), dossier.submitted_at)
    return {
        "stay_address": _v(dossier, "stay_address"),
        "arrival": _v(dossier, "arrival"),
        "departure": _v(dossier, "departure"),
        "notified_late": "có / yes" if late else "không / no",
    }


def eid_level2(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Decree 69/2024/NĐ-CP Art. 13, 16: the ward police close the request once the holder was
    activated at their desk (chip passive authentication, face against DG2: ``eid.activate_level2``)."""
    account = eid.account_of(dossier.applicant_user_id)
    activated = eid.level2_request_status(dossier.tracking_code) == "activated"
    if account is None or account.level < 2 or account.level2_at is None or not activated:
        raise DomainValidationError.single(
            "status",
            "not_activated",
            "Công dân chưa được kích hoạt mức 2 tại quầy "
            "(đọc chip, đối chiếu khuôn mặt — Nghị định 69/2024 Điều 16)",
        )
    return {
        "eid_level": 2,
        "activated_at": timezone.localtime(account.level2_at).isoformat(timespec="minutes"),
        "activated_by": account.level2_where,
    }


def _consented_counterpart(dossier: Dossier) -> str:
    """The other party who consented through their own account (``services.consent``) — never
    what the items say; refused when no consent is on record."""
    if not dossier.counterpart_id_number or dossier.counterpart_consented_at is None:
        raise DomainValidationError.single(
            "counterpart", "no_consent", "Bên liên quan chưa đồng ý với hồ sơ này"
        )
    return dossier.counterpart_id_number


def marriage_registration(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Civil Status 2014 Art. 18: both parties consented (the partner through their own
    account); the registry records each as the other's spouse — and refuses a bigamous, under-age
    or same-sex marriage itself (``registry.record_marriage``)."""
    partner = _consented_counterpart(dossier)
    today = timezone.localdate()
    a, b = registry.record_marriage(
        link,
        dossier.applicant_id_number,
        partner,
        on=today,
        reason=_why(dossier, "Đăng ký kết hôn"),
        legal_basis="Luật Hộ tịch 2014 Điều 17–18; Luật Hôn nhân và gia đình 2014 Điều 8",
    )
    return {
        "registered_on": today.isoformat(),
        "spouse_1": f"{a.full_name} ({a.id_number})",
        "spouse_2": f"{b.full_name} ({b.id_number})",
    }


CIVIL_LABELS = {"full_name": "Họ, chữ đệm, tên", "ethnicity": "Dân tộc", "origin_text": "Quê quán"}


def civil_status_change(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Civil Status 2014 Art. 28: the committee decides; the registry is corrected with a
    revision naming the dossier (the old value stays in the history)."""
    field = _v(dossier, "field")
    view = registry.correct_citizen(
        link,
        dossier.applicant_id_number,
        {field: _v(dossier, "new_value")},
        reason=_why(dossier, "Thay đổi, cải chính hộ tịch"),
        legal_basis="Luật Hộ tịch 2014 Điều 26–28",
    )
    if field == "full_name":
        dossier.applicant_name = view.full_name
    return {"changed": CIVIL_LABELS[field], "new_value": _v(dossier, "new_value")}


def new_household_number(ward: str) -> str:
    return f"HK{ward}{secrets.randbelow(10**10):010d}"


def household_separation(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Residence 2020 Art. 25: the applicant heads a new household at the same address,
    with the head's consent on record."""
    _consented_counterpart(dossier)
    view = registry.get_by_id_number(link, dossier.applicant_id_number)
    address = view.permanent_address
    if address is None:
        raise DomainValidationError.single("permanent_address", "none", "Không có nơi thường trú")
    number = new_household_number(address.ward_code or "00000")
    moved = registry.move_residence(
        link,
        dossier.applicant_id_number,
        permanent_address_text=address.text,
        household_number=number,
        relationship_to_head="head",
        reason=_why(dossier, "Tách hộ"),
        legal_basis="Luật Cư trú 2020 Điều 25",
    )
    return {"household_number": moved.household_number or number, "permanent_address": address.text}


def temporary_residence_extension(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Residence 2020 Art. 28 cl. 3: the registration is renewed at the same place."""
    view = registry.register_temporary_residence(
        link,
        dossier.applicant_id_number,
        temporary_address_text=_v(dossier, "temporary_address"),
        reason=_why(dossier, f"Gia hạn tạm trú đến {_v(dossier, 'stay_until')}"),
        legal_basis="Luật Cư trú 2020 Điều 28 khoản 3",
    )
    return {
        "temporary_address": view.temporary_address.text if view.temporary_address else "",
        "stay_until": _v(dossier, "stay_until"),
    }


def child_card_until(born: date) -> date:
    """Law on Health Insurance 2008 Art. 16 (as amended 2014): a child's card is valid until the
    child is 72 months old, or to 30 September of that year when they turn 6 before school starts."""
    sixth = registry._birthday(born, 6)
    autumn = date(sixth.year, 9, 30)
    return autumn if sixth <= autumn else sixth - timedelta(days=1)


def birth_joint(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Decree 63/2024/NĐ-CP: one dossier for birth registration, permanent residence (the child
    joins the parent's household: ``birth_registration``) and the child's free health-insurance
    card (Law on Health Insurance 2008 Art. 12 cl. 3: children under 6, paid by the State)."""
    facts = birth_registration(official, dossier, link)
    born = date.fromisoformat(facts["child_date_of_birth"])
    number = facts["child_id_number"]
    card = HealthInsuranceCard.objects.create(
        id_number=number,
        card_number=f"TE1{settings.DANCU_CITY_PROVINCE_CODE}{number[-10:]}",
        kind=HealthInsuranceCard.Kind.CHILD,
        valid_from=born,
        valid_until=child_card_until(born),
        dossier=dossier.tracking_code,
    )
    return {
        **facts,
        "health_insurance_card": card.card_number,
        "health_insurance_until": card.valid_until.isoformat(),
    }


# Law on Social Insurance 2024 Art. 86: a funeral allowance of 10 times the reference level
# (2,340,000 đ, the base salary since 01/07/2024) for a contributor of 12 months or a pensioner.
REFERENCE_LEVEL_VND = 2_340_000
FUNERAL_MONTHS = 12


def funeral_allowance(id_number: str) -> int:
    periods = list(InsurancePeriod.objects.filter(id_number=id_number))
    if any(p.pensioner for p in periods):
        return 10 * REFERENCE_LEVEL_VND
    months = sum(rules.months_between(p.start_month, p.end_month) + 1 for p in periods)
    return 10 * REFERENCE_LEVEL_VND if months >= FUNERAL_MONTHS else 0


def death_joint(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Decree 63/2024/NĐ-CP: death registration, removal of the permanent residence (Law on
    Residence 2020 Art. 24 cl. 1(a)) and the funeral allowance to the declarant."""
    facts = death_registration(official, dossier, link)
    number = facts["deceased_id_number"]
    registry.remove_permanent_residence(
        link,
        number,
        reason=_why(dossier, "Xóa đăng ký thường trú do chết"),
        legal_basis="Luật Cư trú 2020 Điều 24",
    )
    allowance = funeral_allowance(number)
    return {
        **facts,
        "permanent_residence": "đã xóa đăng ký / removed",
        "funeral_allowance_vnd": allowance if allowance else "không đủ điều kiện / not eligible",
    }


def _licence_expiry(licence_class: str, on: date) -> date | None:
    """Law on Road Traffic Order and Safety 2024 Art. 57 cl. 5: A1, A, B1 without expiry; B 10
    years; C1 and above 5 years."""
    if licence_class in rules.LICENCE_CLASSES_WITHOUT_HEALTH:
        return None
    years = 10 if licence_class == "B" else 5
    return registry._birthday(on, years)


def driving_licence(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Circular 35/2024/TT-BGTVT: the licence is exchanged (same number, new issue date and
    expiry); the old one is marked replaced in the licence register."""
    old = (
        DrivingLicence.objects.select_for_update()
        .filter(
            licence_number=_v(dossier, "licence_number"),
            id_number=dossier.applicant_id_number,
            status=DrivingLicence.Status.VALID,
        )
        .first()
    )
    if old is None:
        raise DomainValidationError.single(
            "licence_number", "not_found", "Giấy phép không còn trong sổ quản lý"
        )
    today = timezone.localdate()
    old.status = DrivingLicence.Status.REPLACED
    old.save(update_fields=["status"])
    new = DrivingLicence.objects.create(
        id_number=old.id_number,
        licence_number=old.licence_number,
        licence_class=old.licence_class,
        issued_on=today,
        expires_on=_licence_expiry(old.licence_class, today),
        dossier=dossier.tracking_code,
    )
    return {
        "licence_number": new.licence_number,
        "licence_class": new.licence_class,
        "licence_issued_on": today.isoformat(),
        "licence_expires_on": _shown_date(new.expires_on),
    }


def criminal_record(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Judicial Records 2009 Art. 42–43: form 1 lists convictions not expunged; form 2
    lists all, expunged ones marked — issued by the Department of Justice after the police check."""
    form = _v(dossier, "form")
    rows = JudicialRecord.objects.filter(id_number=dossier.applicant_id_number).order_by("judged_on", "pk")
    if form == "1":
        rows = rows.filter(expunged=False)
    lines = [
        f"{r.judgment} ({r.court}, {r.judged_on:%d/%m/%Y}): {r.offence}; {r.sentence}"
        + ("; đã được xóa án tích" if r.expunged else "")
        for r in rows
    ]
    return {
        "form": f"Phiếu lý lịch tư pháp số {form}",
        "judicial_record": "; ".join(lines) if lines else "Không có án tích / no criminal record",
    }


# Law on Employment 2013 Art. 50: 60 % of the average salary of the last 6 months contributed,
# at most 5 times the regional minimum wage (region I: 4,960,000 đ, Decree 74/2024/NĐ-CP);
# 3 months for 12–36 months contributed, one more per further 12 months, at most 12.
REGION_I_MINIMUM_VND = 4_960_000


def unemployment_benefit(dossier_id_number: str, end: date) -> tuple[int, int]:
    """(monthly benefit, months) for a contract ending on ``end``."""
    salaries: dict[int, int] = {}
    for p in InsurancePeriod.objects.filter(id_number=dossier_id_number, unemployment=True):
        first, last = (
            rules._month_index(p.start_month),
            min(rules._month_index(p.end_month), rules._month_index(end)),
        )
        for m in range(first, last + 1):
            salaries[m] = p.monthly_salary_vnd
    if not salaries:
        return 0, 0
    last_six = [salaries[m] for m in sorted(salaries)[-6:]]
    monthly = min(round(sum(last_six) / len(last_six) * 0.6), 5 * REGION_I_MINIMUM_VND)
    total = len(salaries)
    months = min(12, 3 + max(0, (total - 36) // 12)) if total >= rules.UI_MIN_MONTHS else 0
    return monthly, months


def unemployment(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Law on Employment 2013 Art. 46 cl. 3, Art. 50: the director's decision states the monthly
    benefit and its duration, counted from the 16th day after the dossier was complete."""
    monthly, months = unemployment_benefit(
        dossier.applicant_id_number, date.fromisoformat(_v(dossier, "contract_end"))
    )
    start = timezone.localdate(dossier.submitted_at) + timedelta(days=15)
    return {"monthly_benefit_vnd": monthly, "benefit_months": months, "benefit_from": start.isoformat()}


# --------------------------------------------------------------------------- paid online
def fine_due(fine: TrafficFine, on: date) -> int:
    """Law on Handling Administrative Violations 2012 Art. 73 cl. 1, Art. 78: paid within 10
    days of the decision; after that, 0.05 % of the fine for each day late."""
    late = max(0, (on - fine.decided_on).days - 10)
    return fine.amount_vnd + (fine.amount_vnd * 5 * late) // 10000


# Law on Health Insurance 2008 Art. 13 cl. 1(g); Decree 146/2018/NĐ-CP Art. 7: 4.5 % of the base
# salary a month for the first member; the 2nd, 3rd, 4th pay 70, 60, 50 %, the 5th and more 40 %.
HEALTH_RATE_PER_MILLE = 45
HOUSEHOLD_SHARES = (100, 70, 60, 50)


def health_insurance_due(members: int, months: int) -> int:
    first = REFERENCE_LEVEL_VND * HEALTH_RATE_PER_MILLE // 1000
    shares = [HOUSEHOLD_SHARES[i] if i < len(HOUSEHOLD_SHARES) else 40 for i in range(members)]
    return sum(first * s // 100 for s in shares) * months


def amount_due(dossier: Dossier, view: CitizenView | None = None) -> int:
    """What a pay-first dossier costs today."""
    if dossier.service_code == "traffic-fine":
        fine = TrafficFine.objects.get(decision_number=_v(dossier, "decision_number"))
        return fine_due(fine, timezone.localdate())
    if dossier.service_code == "health-insurance-renewal":
        members = len(dossier.items.get("hi_cards", {}).get("value", "").split(", "))
        return health_insurance_due(members, int(_v(dossier, "months")))
    raise NotFound("this service is not paid online", field="service")


def traffic_fine(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """The fine is recorded paid in the penalty register once the gateway confirmed it."""
    fine = TrafficFine.objects.select_for_update().get(decision_number=_v(dossier, "decision_number"))
    if fine.status == TrafficFine.Status.PAID:  # paid through another dossier: never twice
        raise DomainValidationError.single(
            "decision_number", "already_paid", "Quyết định này đã được nộp phạt"
        )
    fine.status = TrafficFine.Status.PAID
    fine.paid_at = timezone.now()
    fine.paid_dossier = dossier.tracking_code
    fine.save(update_fields=["status", "paid_at", "paid_dossier"])
    return {
        "decision_number": fine.decision_number,
        "plate": fine.plate,
        "violation": fine.violation,
        "paid_vnd": _paid(dossier),
    }


def _paid(dossier: Dossier) -> int:
    payment = dossier.payments.filter(status="paid").order_by("-settled_at").first()
    return payment.amount_vnd if payment else 0


def health_insurance_renewal(official: Actor, dossier: Dossier, link: AccessContext) -> dict[str, Any]:
    """Each household card is extended by the months paid, from its end (or today if lapsed)."""
    months = int(_v(dossier, "months"))
    numbers = [n for n in dossier.items.get("hi_cards", {}).get("value", "").split(", ") if n]
    today = timezone.localdate()
    until = []
    for card in (
        HealthInsuranceCard.objects.select_for_update().filter(card_number__in=numbers).order_by("pk")
    ):
        start = max(card.valid_until + timedelta(days=1), today)
        end_month = rules._month_index(start) + months
        card.valid_until = date(end_month // 12, end_month % 12 + 1, 1) - timedelta(days=1)
        card.dossier = dossier.tracking_code
        card.save(update_fields=["valid_until", "dossier"])
        until.append(f"{card.card_number} → {card.valid_until:%d/%m/%Y}")
    return {"health_insurance_cards": "; ".join(until), "paid_vnd": _paid(dossier)}


HANDLERS.update(
    {
        "card-reissue": card_reissue,
        "residence-notification": residence_notification,
        "eid-level2": eid_level2,
        "marriage-registration": marriage_registration,
        "civil-status-change": civil_status_change,
        "household-separation": household_separation,
        "temporary-residence-extension": temporary_residence_extension,
        "birth-joint": birth_joint,
        "death-joint": death_joint,
        "driving-licence": driving_licence,
        "criminal-record": criminal_record,
        "unemployment-benefit": unemployment,
        "traffic-fine": traffic_fine,
        "health-insurance-renewal": health_insurance_renewal,
    }
)
