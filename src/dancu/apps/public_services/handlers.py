"""What approving a dossier does, per implemented service: the registry change the procedure
implies (through the registry's service functions, in the approval's transaction) and the facts
the signed result states."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings

from dancu.apps.public_services.models import Dossier
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.idnumber import century_sex_digit
from dancu.blocks.registry.names import fold
from dancu.errors import DomainValidationError

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
