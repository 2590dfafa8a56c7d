"""Dossiers of online public services: prefill, submit, handle, decide, sign, notify.

Who reads the registry, and why (docs/public-services.md):

* **Prefill** — the portal reads *the logged-in citizen's own record* through the data-exchange
  gateway as a member system (``registry_link``; purpose ``public_service.processing``, the
  registry's ``applicant`` service, end user ``citizen:<ID number>``): signed, logged with the form
  or dossier as case reference, and recorded on the citizen's access history ("who looked at my
  data"). The ID number comes from the citizen's eID account (``eid.services.id_number_of_user``),
  never from the form, and the registry's service returns only the end user's own record.
  Eligibility rules that read relatives (household members, parents) do so in-process with the
  citizen acting through the portal (:func:`portal_actor`).
* **Handling** — officials act with their own ``Actor`` (organisation, role, ward) and purpose
  ``public_service.processing``; a dossier is visible to officials of its competent authority
  (organisation kind) *and* ward only, otherwise ``AccessDenied`` (403).
* **Registry changes on approval** (temporary residence, death, birth) are made by the joint
  procedure link (:func:`_link_context`): purpose ``registry.administration``, the dossier's
  tracking code as case reference, and the deciding official named in the actor's label, so that
  the registry's revision and audit say who decided which dossier. The decision of the competent
  authority (police or people's committee of the ward) is the legal basis of the change — the
  committee has no registry write rights of its own, the civil-status record is what changes it
  (Decree 63/2024/NĐ-CP on joint procedures).
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Aggregate, F, Q, QuerySet
from django.db.models.expressions import BaseExpression
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from dancu.apps.desks.services import canonical_json, key_id, signing_key, verify_signature
from dancu.apps.public_services import catalogue, faults, payments, registry_link, rules, uploads, workdays
from dancu.apps.public_services.catalogue import CITIZEN, EID, REGISTRY, SECTOR, Item, Service, Step
from dancu.apps.public_services.models import Dossier, DossierEvent, Draft, InboxMessage, Payment, TrafficFine
from dancu.blocks.adminunits.services import resolve_address_or_error
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.eid import services as eid
from dancu.blocks.messaging import services as messaging
from dancu.blocks.organisations import services as organisations
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CardView, CitizenView
from dancu.blocks.registry.idnumber import parse_id_number, validate_cmnd
from dancu.blocks.registry.names import fold
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound
from dancu.ratelimit import Rate, take

logger = logging.getLogger(__name__)

PURPOSE = "public_service.processing"
DOCUMENT_TYPE = "dancu.public_service.result.v1"
_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_TRACKING_RE = re.compile(r"^DVC-\d{4}-[A-Z2-9]{8}\Z")


# --------------------------------------------------------------------------- actors
def portal_actor(user_id: int) -> Actor:
    """The citizen acting through the public services portal on their own dossiers."""
    return Actor(
        user_id=user_id,
        label="Công dân nộp hồ sơ qua Cổng dịch vụ công / citizen via the public services portal",
        organisation_name="Cổng dịch vụ công",
        allowed_purposes=frozenset({PURPOSE}),
        # Reads only the record of the account's own ID number (see the module's docstring).
        is_system=True,
    )


def _link_context(official: Actor, dossier: Dossier) -> AccessContext:
    label = f"Liên thông DVC {dossier.tracking_code}: {official.label} ({official.organisation_name})"
    actor = Actor(
        user_id=official.user_id,
        label=label[:150],
        organisation_id=official.organisation_id,
        organisation_name=official.organisation_name,
        organisation_kind=official.organisation_kind,
        role=official.role,
        allowed_purposes=frozenset({"registry.administration"}),
        is_system=True,
    )
    return AccessContext(actor, "registry.administration", case_reference=dossier.tracking_code)


WARD_KINDS = (catalogue.POLICE, catalogue.COMMITTEE)
CITY_KINDS = (catalogue.POLICE_CITY, catalogue.DEPARTMENT)


def is_official(actor: Actor) -> bool:
    """Officials who handle dossiers: a ward's police or people's committee, or a city police or
    department official (city-level procedures and steps), with the purpose."""
    if not actor.may(PURPOSE):
        return False
    if actor.organisation_kind in WARD_KINDS:
        return bool(actor.jurisdiction_ward_code)
    return actor.organisation_kind in CITY_KINDS and bool(actor.jurisdiction_province_code)


def _jurisdiction(actor: Actor) -> tuple[str, str, str]:
    """(authority kind, ward or province code, department code) of the official's dossiers."""
    if actor.organisation_kind in WARD_KINDS:
        return actor.organisation_kind, actor.jurisdiction_ward_code or "", ""
    code = ""
    if actor.organisation_kind == catalogue.DEPARTMENT and actor.organisation_id is not None:
        code = (
            Organisation.objects.filter(pk=actor.organisation_id).values_list("code", flat=True).first() or ""
        )
    return actor.organisation_kind, actor.jurisdiction_province_code or "", code


def _authority(step: Step, ward: str) -> tuple[str, str, str]:
    """Who decides a step: a ward's unit, or the city's (police, a department by its code)."""
    if step.kind in WARD_KINDS:
        return step.kind, ward, ""
    return (
        step.kind,
        settings.DANCU_CITY_PROVINCE_CODE,
        catalogue.agency_code(step.agency) if step.agency else "",
    )


def _set_authority(dossier: Dossier, step: Step, ward: str) -> None:
    dossier.authority_kind, dossier.authority_ward_code, dossier.authority_org_code = _authority(step, ward)


# --------------------------------------------------------------------------- prefill
@dataclass(frozen=True)
class Prefilled:
    key: str
    label_vi: str
    label_en: str
    value: str
    source: str


def _applicant_id(user_id: int) -> str:
    id_number = eid.id_number_of_user(user_id)
    if not id_number:
        raise AccessDenied(
            "an active eID account matched to the population registry is required",
            field="account",
            rule="eid_account",
        )
    return id_number


def _registry_value(view: CitizenView, item: Item) -> str:
    raw = getattr(view, item.registry_field, None)
    if raw is None:
        return ""
    if isinstance(raw, date):
        return raw.strftime("%d/%m/%Y")
    if isinstance(raw, list):
        return ", ".join(_card_text(x) if isinstance(x, CardView) else str(x) for x in raw)
    if hasattr(raw, "text"):
        return str(raw.text)
    if item.key == "sex":
        return {"M": "Nam", "F": "Nữ"}.get(str(raw), str(raw))
    return str(raw)


def _card_text(card: CardView) -> str:
    until = f"{card.expires_on:%d/%m/%Y}" if card.expires_on else "không thời hạn"
    return f"{card.card_number} ({card.kind}, cấp {card.issued_on:%d/%m/%Y}, hạn {until}, {card.status})"


def read_applicant(user_id: int, service: Service, case_reference: str = "") -> CitizenView:
    """The applicant's own record, read through the data-exchange gateway (``registry_link``): the
    form being filled (``DVC <service>``) or the dossier (its tracking code) is the case reference.
    ``registry_link.RegistryUnavailable`` when it cannot be read; ``NotFound`` when the registry
    has no such person."""
    return registry_link.read_own_record(_applicant_id(user_id), case_reference or f"DVC {service.code}")


def prefill(
    user_id: int, service: Service, view: CitizenView | None = None
) -> tuple[list[Prefilled], CitizenView]:
    """The items no one has to type: from the registry (the citizen's own record, read here
    unless ``view`` was just read) and the eID account, each with its source."""
    view = view or read_applicant(user_id, service)
    contacts = eid.contacts_of_user(user_id)
    out = []
    for item in service.items:
        if item.source == REGISTRY:
            value = _registry_value(view, item)
        elif item.source == EID:
            value = contacts.get("phone_number", "")
        else:
            continue
        out.append(Prefilled(item.key, item.label_vi, item.label_en, value, item.source))
    return out, view


# --------------------------------------------------------------------------- validation
def parse_date(value: str, field: str) -> date:
    text = (value or "").strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise DomainValidationError.single(field, "date", "Ngày không hợp lệ (dd/mm/yyyy)")


def _clean_item(item: Item, raw: str) -> tuple[str, dict[str, str]]:
    """The stored value of a citizen item, and extra facts (a resolved ward)."""
    value = (raw or "").strip()
    if not value:
        if item.required:
            raise DomainValidationError.single(item.key, "required", f"Vui lòng nhập «{item.label_vi}»")
        return "", {}
    if len(value) > item.max_length:
        raise DomainValidationError.single(item.key, "max_length", f"Tối đa {item.max_length} ký tự")
    if any(ord(ch) < 32 for ch in value):
        raise DomainValidationError.single(item.key, "control", "Có ký tự không hợp lệ")
    if item.kind == "date":
        return parse_date(value, item.key).isoformat(), {}
    if item.kind == "cmnd":
        return validate_cmnd(value, field=item.key), {}
    if item.kind == "id_number":
        parse_id_number(value, field=item.key)
        return value, {}
    if item.kind == "choice":
        if value not in {c for c, _ in item.choices}:
            raise DomainValidationError.single(item.key, "choice", "Lựa chọn không hợp lệ")
        return value, {}
    if item.kind == "address":
        resolved = resolve_address_or_error(value, field=item.key)
        return resolved.text, {f"{item.key}__ward": resolved.ward_code}
    return value, {}


def _service_rules(service: Service, values: dict[str, str], view: CitizenView, today: date) -> None:
    """Eligibility rules of each implemented procedure (with their legal basis)."""
    problems: list[FieldProblem] = []

    def d(key: str) -> date:
        return date.fromisoformat(values[key])

    if service.code == "temporary-residence":
        # Law on Residence 2020 Art. 27: up to 2 years, renewable.
        until = d("stay_until")
        if until <= today:
            problems.append(FieldProblem("stay_until", "future", "Ngày phải sau hôm nay"))
        elif until > today + timedelta(days=2 * 365 + 1):
            problems.append(FieldProblem("stay_until", "max_2_years", "Thời hạn tạm trú tối đa 2 năm"))
        permanent = view.permanent_address
        if permanent and permanent.ward_code and values.get("temporary_address__ward") == permanent.ward_code:
            problems.append(
                FieldProblem(
                    "temporary_address",
                    "same_ward",
                    "Nơi tạm trú phải ở ngoài xã, phường nơi thường trú (Luật Cư trú Điều 27)",
                )
            )
    elif service.code == "permanent-residence":
        if values.get("join_household") and not values.get("relationship_to_head"):
            problems.append(
                FieldProblem("relationship_to_head", "required", "Vui lòng chọn quan hệ với chủ hộ")
            )
    elif service.code == "temporary-absence":
        start, end = d("absent_from"), d("absent_until")
        if start < today - timedelta(days=30):
            problems.append(
                FieldProblem("absent_from", "past", "Không khai báo cho thời gian đã qua quá 30 ngày")
            )
        if end <= start:
            problems.append(FieldProblem("absent_until", "order", "Ngày kết thúc phải sau ngày bắt đầu"))
    elif service.code == "birth-registration":
        born = d("child_date_of_birth")
        if born > today:
            problems.append(FieldProblem("child_date_of_birth", "future", "Ngày sinh không được ở tương lai"))
        elif view.date_of_birth and born <= view.date_of_birth:
            problems.append(
                FieldProblem("child_date_of_birth", "order", "Ngày sinh của trẻ phải sau cha, mẹ")
            )
    elif service.code == "death-registration":
        if d("date_of_death") > today:
            problems.append(FieldProblem("date_of_death", "future", "Ngày chết không được ở tương lai"))
        if values.get("deceased_id_number") == view.id_number:
            problems.append(FieldProblem("deceased_id_number", "self", "Người khai không thể là người chết"))
    if problems:
        raise DomainValidationError(problems)


# --------------------------------------------------------------------------- submit
def _tracking_code(today: date) -> str:
    body = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(8))
    return f"DVC-{today:%y%m}-{body}"


def _event(dossier: Dossier, action: str, who: str, note: str = "") -> None:
    DossierEvent.objects.create(dossier=dossier, action=action, actor_label=who[:150], note=note)


def notify(dossier: Dossier, subject: str, body: str) -> None:
    """In-app inbox, an SMS to the account's verified phone and an e-mail to its address when it
    has one — each only the tracking code and the subject (no personal data beyond the inbox,
    which needs the citizen's log-in). Sent after the transaction commits, so a rolled-back change
    announces nothing."""
    InboxMessage.objects.create(
        user_id=dossier.applicant_user_id, dossier=dossier, subject=subject, body=body
    )
    contacts = eid.contacts_of_user(dossier.applicant_user_id)
    text = f"Dancu DVC: ho so {dossier.tracking_code} - {subject}"
    phone = contacts.get("phone_number")
    if phone:
        transaction.on_commit(lambda: messaging.send("sms", phone, "public_service.status", text))
    email = contacts.get("email")
    if email:
        mail = (
            f"Hồ sơ {dossier.tracking_code}: {subject}\n"
            "Xem chi tiết trong hộp thư trên Cổng dịch vụ công (/dich-vu-cong/hop-thu/).\n"
            f"Dossier {dossier.tracking_code}: see your inbox on the public-service portal."
        )
        transaction.on_commit(lambda: messaging.send("email", email, "public_service.status", mail))


def submit(
    user_id: int,
    service_code: str,
    supplied: dict[str, str],
    *,
    idempotency_key: str,
    today: date | None = None,
    channel: str = Dossier.Channel.ONLINE,
    files: Mapping[str, uploads.Uploaded] | None = None,
) -> tuple[Dossier, bool]:
    """Submit a dossier; (dossier, created). The same ``idempotency_key`` again returns the
    first dossier. Raises ``DomainValidationError`` naming every field with a problem.
    ``channel``: ``online`` (the portal) or ``kiosk`` (a self-service kiosk, model 2).

    A two-party procedure waits for the other party's consent (``consent``); a pay-first one
    for the payment (``start_payment``); the others go to the competent authority's queue.

    ``files``: the documents for the service's ``upload`` items (``uploads``), checked with the
    typed items and written only once everything is valid; a retry with the same key returns
    the first dossier before reading them, so it stores no second file."""
    if channel not in Dossier.Channel.values:
        raise DomainValidationError.single("channel", "choice", "Kênh nộp không hợp lệ")
    service = catalogue.get(service_code)
    if service is None or not service.implemented:
        raise NotFound("no such online service", field="service")
    key = (idempotency_key or "").strip()
    if not 16 <= len(key) <= 64 or not key.isascii():
        raise DomainValidationError.single(
            "idempotency_key", "format", "Biểu mẫu đã hết hạn, vui lòng tải lại"
        )
    existing = Dossier.objects.filter(applicant_user_id=user_id, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    today = today or timezone.localdate()
    # The tracking code is drawn first: the registry read through the gateway carries it as the
    # case reference, so the exchange log and the citizen's history name the dossier.
    tracking_code = _tracking_code(today)
    view = read_applicant(user_id, service, tracking_code)
    values: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for item in service.citizen_items():
        try:
            value, extra = _clean_item(item, supplied.get(item.key, ""))
            values[item.key] = value
            values.update(extra)
        except DomainValidationError as exc:
            problems.extend(exc.problems)
    attached = {i.key: (i, (files or {})[i.key]) for i in service.upload_items() if (files or {}).get(i.key)}
    for item, upload in attached.values():
        try:
            uploads.check(item, upload)
        except DomainValidationError as exc:
            problems.extend(exc.problems)
        if hasattr(upload, "seek"):
            upload.seek(0)
    if problems:
        raise DomainValidationError(problems)
    _service_rules(service, values, view, today)
    rules.check(service.code, values, view, user_id, today)
    prefilled, _ = prefill(user_id, service, view)
    items: dict[str, Any] = {p.key: {"value": p.value, "source": p.source} for p in prefilled}
    for item in service.citizen_items():
        items[item.key] = {"value": values[item.key], "source": CITIZEN}
    for key, value in rules.sector_items(service.code, values, view, user_id).items():
        items[key] = {"value": value, "source": SECTOR}
    # (``key`` is the idempotency key: the loop names the item ``item_key`` not to overwrite it.)
    for item_key, (item, upload) in attached.items():
        items[item_key] = uploads.store(item, upload)
    stored = [items[item_key] for item_key in attached]
    # The police of the new place handle residence registrations; others: of the permanent residence.
    place_item = PLACE_ITEMS.get(service.code)
    ward = values.get(f"{place_item}__ward", "") if place_item else ""
    if service.code == "temporary-residence-extension" and view.temporary_address:
        ward = view.temporary_address.ward_code
    if not ward:
        ward = view.permanent_address.ward_code if view.permanent_address else ""
    if place_item:
        items[place_item]["ward_code"] = ward
    status = Dossier.Status.SUBMITTED
    if service.counterpart:
        status = Dossier.Status.CONSENT
    elif service.pay_first:
        status = Dossier.Status.PAYMENT
    try:
        with transaction.atomic():
            dossier = Dossier(
                tracking_code=tracking_code,
                service_code=service.code,
                applicant_user_id=user_id,
                applicant_id_number=view.id_number,
                applicant_name=view.full_name,
                idempotency_key=key,
                items=items,
                due_on=workdays.deadline(today, service.days),
                status=status,
                channel=channel,
                counterpart_id_number=values.get(service.counterpart, "") if service.counterpart else "",
                has_upload=bool(stored),
            )
            _set_authority(dossier, service.chain()[0], ward)
            if service.code == "traffic-fine":
                _claim_fine(values["decision_number"], view.id_number)
            dossier.save()
            _event(dossier, "submitted", view.full_name)
            notify(dossier, "Đã nộp hồ sơ / Dossier submitted", f"{service.name_vi}: hồ sơ đã được gửi.")
            if service.code == "cmnd-confirmation":
                _auto_confirm_cmnd(dossier, view)
            elif service.code in AUTOMATIC:
                _decide_automatically(dossier)
            elif service.code == "eid-level2":
                # Handed over to the eID block's queue at the ward police desk (Decree 69/2024 Art. 16).
                eid.request_level2(
                    user_id,
                    ward_code=ward,
                    appointment=date.fromisoformat(values["appointment"]),
                    reference=dossier.tracking_code,
                )
            Draft.objects.filter(user_id=user_id, service_code=service.code).delete()
            # The crash test's fault points (``faults``: armed only by the test settings).
            faults.point(faults.SUBMIT_BEFORE_COMMIT)
            faults.after_commit(faults.SUBMIT_AFTER_COMMIT)
    except IntegrityError:
        uploads.discard(stored)
        # The same key submitted concurrently: the other request created the dossier.
        other = Dossier.objects.filter(applicant_user_id=user_id, idempotency_key=key).first()
        if other is None:
            raise  # not the idempotency key (a tracking-code collision): let the citizen retry
        return other, False
    except Exception:
        uploads.discard(stored)  # nothing half-written: no file without its dossier
        raise
    return dossier, True


# Where the place a citizen typed decides the competent ward.
PLACE_ITEMS = {
    "temporary-residence": "temporary_address",
    "permanent-residence": "new_address",
    "residence-notification": "stay_address",
}
# Decided by the system at submission: the notice is the record (Law on Residence 2020 Art. 30).
AUTOMATIC = frozenset({"residence-notification"})
SYSTEM_LABEL = "Hệ thống (tự động) / automatic"


def _system_official(dossier: Dossier) -> Actor:
    return Actor(
        user_id=None,
        label=SYSTEM_LABEL,
        organisation_name="Cổng dịch vụ công",
        allowed_purposes=frozenset({PURPOSE, "registry.administration"}),
        is_system=True,
    )


def _decide_automatically(dossier: Dossier) -> None:
    """Run the handler as the system and issue the result (inside the caller's transaction)."""
    from dancu.apps.public_services.handlers import HANDLERS

    official = _system_official(dossier)
    facts = HANDLERS[dossier.service_code](official, dossier, _link_context(official, dossier))
    _issue_result(dossier, SYSTEM_LABEL, facts)
    dossier.save()


def _auto_confirm_cmnd(dossier: Dossier, view: CitizenView) -> None:
    """The registry links the CMND to the 12-digit number: the certificate is issued at once
    (no official needed). Otherwise the dossier waits for the ward police to check it."""
    old = dossier.items["old_number"]["value"]
    if old in (view.old_id_numbers or []):
        _issue_result(
            dossier, "Hệ thống (tự động) / automatic", {"old_number": old, "id_number": view.id_number}
        )
        dossier.save()


# --------------------------------------------------------------------------- the citizen's side
def my_dossiers(user_id: int) -> QuerySet[Dossier]:
    return Dossier.objects.filter(applicant_user_id=user_id).order_by("-submitted_at", "-pk")


def my_dossier(user_id: int, tracking_code: str) -> Dossier:
    if not _TRACKING_RE.match(tracking_code):
        raise NotFound("no such dossier", field="tracking_code")
    dossier = Dossier.objects.filter(applicant_user_id=user_id, tracking_code=tracking_code).first()
    if dossier is None:
        raise NotFound("no such dossier", field="tracking_code")
    return dossier


def inbox(user_id: int) -> QuerySet[InboxMessage]:
    return InboxMessage.objects.filter(user_id=user_id).select_related("dossier")


# Facts the other party's consent added from their record (``consent``): not the new party's.
COUNTERPART_FACTS = ("partner_date_of_birth",)


def _stored_input(item: Item, items: dict[str, Any]) -> str:
    return str(items.get(item.key, {}).get("value", "") or "")


def supplement(
    user_id: int,
    tracking_code: str,
    supplied: dict[str, str],
    today: date | None = None,
    files: Mapping[str, uploads.Uploaded] | None = None,
) -> Dossier:
    """The citizen answers a send-back: corrects their items, and may replace (or add) the
    documents of the service's ``upload`` items (``files``); the time runs again from now.

    A new document is checked as at submission (``uploads.check``: type by magic bytes, size) and
    stored under a new name; the one it replaces is kept — its file and its entry, under the
    item's ``previous`` — never overwritten: the electronic dossier's components are kept
    unaltered (Decree 45/2020/NĐ-CP Art. 11), and the history says ``document_replaced`` (or
    ``document_added``) with both SHA-256 prefixes.

    The corrected dossier is checked again as a whole, exactly as at submission (``_clean_item``,
    ``_service_rules``, ``rules.check``, the sector's items read again): a correction is no way
    around an eligibility rule. In a two-party procedure the other party consented to the dossier
    as it stood (Law on Civil Status 2014 Art. 18; Law on Residence 2020 Art. 25): any change
    returns it to consent, to the party named now, with the earlier consent cleared."""
    dossier = my_dossier(user_id, tracking_code)
    service = _service(dossier)
    if dossier.status != Dossier.Status.SENT_BACK:
        raise DomainValidationError.single("status", "not_sent_back", "Hồ sơ không ở trạng thái cần bổ sung")
    today = today or timezone.localdate()
    view = read_applicant(user_id, service, dossier.tracking_code)
    values: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for item in service.citizen_items():
        raw = supplied[item.key] if item.key in supplied else _stored_input(item, dossier.items)
        try:
            value, extra = _clean_item(item, raw)
        except DomainValidationError as exc:
            problems.extend(exc.problems)
            continue
        values[item.key] = value
        values.update(extra)
        ward = extra.get(f"{item.key}__ward")
        if "ward_code" in dossier.items.get(item.key, {}) and ward != dossier.authority_ward_code:
            # The place decides the competent authority: another place is a new dossier.
            problems.append(
                FieldProblem(item.key, "other_ward", "Địa chỉ ở xã, phường khác: vui lòng nộp hồ sơ mới")
            )
    attached = {i.key: (i, (files or {})[i.key]) for i in service.upload_items() if (files or {}).get(i.key)}
    for item, upload in attached.values():
        try:
            uploads.check(item, upload)
        except DomainValidationError as exc:
            problems.extend(exc.problems)
        if hasattr(upload, "seek"):
            upload.seek(0)
    if problems:
        raise DomainValidationError(problems)
    _service_rules(service, values, view, today)
    rules.check(service.code, values, view, user_id, today)
    sector = rules.sector_items(service.code, values, view, user_id)
    new_documents = {item_key: uploads.store(item, upload) for item_key, (item, upload) in attached.items()}
    try:
        return _apply_supplement(user_id, tracking_code, service, values, sector, new_documents, today)
    except Exception:
        uploads.discard(list(new_documents.values()))  # not committed: no file without its dossier
        raise


def _replace_document(dossier: Dossier, item_key: str, entry: dict[str, Any]) -> None:
    """Put the new document in place; the one it replaces goes to ``previous`` (kept)."""
    old = dossier.items.get(item_key)
    if isinstance(old, dict) and old.get("source") == catalogue.UPLOAD:
        kept = {k: v for k, v in old.items() if k != "previous"}
        kept["replaced_at"] = timezone.now().isoformat(timespec="seconds")
        entry["previous"] = [*old.get("previous", []), kept]
        action = "document_replaced"
        note = f"{item_key}: sha256 {old['file']['sha256'][:12]}… → {entry['file']['sha256'][:12]}…"
    else:
        action = "document_added"
        note = f"{item_key}: sha256 {entry['file']['sha256'][:12]}…"
    dossier.items[item_key] = entry
    dossier.has_upload = True
    _event(dossier, action, dossier.applicant_name, note)


def _apply_supplement(
    user_id: int,
    tracking_code: str,
    service: Service,
    values: dict[str, str],
    sector: dict[str, str],
    new_documents: dict[str, dict[str, Any]],
    today: date,
) -> Dossier:
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(
            applicant_user_id=user_id, tracking_code=tracking_code
        )
        if dossier.status != Dossier.Status.SENT_BACK:
            raise DomainValidationError.single(
                "status", "not_sent_back", "Hồ sơ không ở trạng thái cần bổ sung"
            )
        changed = bool(new_documents)
        for item_key, entry in new_documents.items():
            _replace_document(dossier, item_key, entry)
        for item in service.citizen_items():
            entry = dossier.items.get(item.key, {})
            if entry.get("value", "") != values[item.key]:
                changed = True
                dossier.items[item.key] = {**entry, "value": values[item.key], "source": CITIZEN}
        for key, value in sector.items():
            dossier.items[key] = {"value": value, "source": SECTOR}
        if service.counterpart and changed:
            dossier.counterpart_id_number = values[service.counterpart]
            dossier.counterpart_consented_at = None
            for key in COUNTERPART_FACTS:
                dossier.items.pop(key, None)
            dossier.status = Dossier.Status.CONSENT
            note = "Bên liên quan được hỏi lại ý kiến / the other party is asked again"
        else:
            dossier.status = Dossier.Status.PROCESSING
            dossier.due_on = workdays.deadline(today, service.days)
            note = ""
        dossier.version += 1
        dossier.save()
        _event(dossier, "supplemented", dossier.applicant_name, note)
    return dossier


# --------------------------------------------------------------------------- officials
def _service(dossier: Dossier) -> Service:
    service = catalogue.get(dossier.service_code)
    assert service is not None
    return service


def queue(actor: Actor, *, include_closed: bool = False) -> QuerySet[Dossier]:
    """The dossiers of the official's authority and ward, the most urgent first."""
    if not is_official(actor):
        raise AccessDenied("your organisation or role does not handle public service dossiers")
    kind, code, org_code = _jurisdiction(actor)
    qs = Dossier.objects.filter(authority_kind=kind, authority_ward_code=code, authority_org_code=org_code)
    if not include_closed:
        qs = qs.filter(status__in=Dossier.OPEN)
    return qs.order_by("due_on", "submitted_at", "pk")


def dossier_for(actor: Actor, tracking_code: str) -> Dossier:
    """One dossier, for an official of its competent authority and ward only."""
    if not is_official(actor):
        raise AccessDenied("your organisation or role does not handle public service dossiers")
    dossier = (
        Dossier.objects.filter(tracking_code=tracking_code).first()
        if _TRACKING_RE.match(tracking_code)
        else None
    )
    if dossier is None:
        raise NotFound("no such dossier", field="tracking_code")
    if (dossier.authority_kind, dossier.authority_ward_code, dossier.authority_org_code) != _jurisdiction(
        actor
    ):
        raise AccessDenied(
            "this dossier belongs to another authority or ward", field="tracking_code", rule="jurisdiction"
        )
    return dossier


def _upload_entry(
    dossier: Dossier, item_key: str, previous: int | None = None
) -> tuple[dict[str, Any], bytes]:
    """The item's document, or with ``previous`` the n-th (from 0) earlier one it replaced."""
    entry = dossier.items.get(item_key)
    if not isinstance(entry, dict) or entry.get("source") != catalogue.UPLOAD:
        raise NotFound("no such document", field="item")
    if previous is not None:
        earlier = entry.get("previous", [])
        if not 0 <= previous < len(earlier):
            raise NotFound("no such earlier document", field="version")
        entry = earlier[previous]
    try:
        return entry, uploads.read(entry)
    except OSError:
        raise NotFound("the document is not available", field="item") from None


def document_for(
    actor: Actor, tracking_code: str, item_key: str, previous: int | None = None
) -> tuple[dict[str, Any], bytes]:
    """An attached document (or an earlier one it replaced: ``previous``), for an official of the
    dossier's competent authority and ward only (``dossier_for``); each view is written to the
    dossier's history, which the citizen sees."""
    dossier = dossier_for(actor, tracking_code)
    entry, data = _upload_entry(dossier, item_key, previous)
    _event(
        dossier, "document_viewed", actor.label, item_key if previous is None else f"{item_key}#{previous}"
    )
    return entry, data


def my_document(
    user_id: int, tracking_code: str, item_key: str, previous: int | None = None
) -> tuple[dict[str, Any], bytes]:
    """The applicant's own attached document (or an earlier one it replaced)."""
    return _upload_entry(my_dossier(user_id, tracking_code), item_key, previous)


ORPHAN_GRACE = timedelta(days=1)


def sweep_orphan_uploads(older_than: timedelta = ORPHAN_GRACE) -> list[str]:
    """Remove the stored documents no dossier refers to (``uploads.sweep``): those of a
    submission whose process died before its transaction committed. A dossier's documents —
    current and replaced ones, kept for the record (Decree 45/2020/NĐ-CP Art. 11) — are never
    touched. Run daily (``dancu services sweep-uploads``); the names removed."""
    referenced: set[str] = set()
    for items in Dossier.objects.filter(has_upload=True).values_list("items", flat=True).iterator():
        for entry in (items or {}).values():
            if isinstance(entry, dict) and entry.get("source") == catalogue.UPLOAD:
                referenced.update(uploads.stored_names(entry))
    return uploads.sweep(referenced, older_than.total_seconds())


def _locked_for(actor: Actor, tracking_code: str, allowed: tuple[str, ...]) -> Dossier:
    dossier_for(actor, tracking_code)
    dossier = Dossier.objects.select_for_update().get(tracking_code=tracking_code)
    if dossier.status not in allowed:
        raise DomainValidationError.single(
            "status", "transition", f"Không thực hiện được ở trạng thái «{dossier.get_status_display()}»"
        )
    return dossier


def _reasons(reasons: str) -> str:
    text = (reasons or "").strip()
    if len(text) < 5:
        raise DomainValidationError.single("reasons", "required", "Vui lòng nêu rõ lý do")
    if len(text) > 2000:
        raise DomainValidationError.single("reasons", "max_length", "Tối đa 2000 ký tự")
    return text


def receive(actor: Actor, tracking_code: str) -> Dossier:
    with transaction.atomic():
        dossier = _locked_for(actor, tracking_code, (Dossier.Status.SUBMITTED,))
        dossier.status = Dossier.Status.RECEIVED
        dossier.version += 1
        dossier.save()
        _event(dossier, "received", actor.label)
        notify(
            dossier,
            "Đã tiếp nhận / Received",
            f"Hồ sơ được tiếp nhận, hạn trả kết quả {dossier.due_on:%d/%m/%Y}.",
        )
    return dossier


def assign(actor: Actor, tracking_code: str) -> Dossier:
    """The official takes the dossier to process it (received → processing)."""
    with transaction.atomic():
        dossier = _locked_for(actor, tracking_code, (Dossier.Status.SUBMITTED, Dossier.Status.RECEIVED))
        dossier.status = Dossier.Status.PROCESSING
        dossier.assigned_user_id = actor.user_id
        dossier.assigned_label = actor.label[:150]
        dossier.version += 1
        dossier.save()
        _event(dossier, "assigned", actor.label)
    return dossier


def assignable_colleagues(actor: Actor) -> list[Actor]:
    """The officials of the supervisor's own authority who handle its dossiers (role admin only)."""
    if not is_official(actor) or actor.role != "admin" or actor.organisation_id is None:
        raise AccessDenied("only the authority's supervisors assign dossiers", rule="supervisor")
    mine = _jurisdiction(actor)
    return [
        a
        for a in organisations.colleagues_of(actor.organisation_id)
        if is_official(a) and _jurisdiction(a) == mine
    ]


def assign_to(actor: Actor, tracking_code: str, assignee_user_id: int) -> Dossier:
    """The supervisor assigns (or re-assigns) the dossier to an official of the same authority
    (received → processing); the assignment is recorded on the dossier's history."""
    colleague = next((a for a in assignable_colleagues(actor) if a.user_id == assignee_user_id), None)
    if colleague is None:
        raise DomainValidationError.single(
            "assignee", "colleague", "Chỉ giao cho cán bộ xử lý hồ sơ của cùng cơ quan"
        )
    with transaction.atomic():
        dossier = _locked_for(
            actor,
            tracking_code,
            (Dossier.Status.SUBMITTED, Dossier.Status.RECEIVED, Dossier.Status.PROCESSING),
        )
        dossier.status = Dossier.Status.PROCESSING
        dossier.assigned_user_id = colleague.user_id
        dossier.assigned_label = colleague.label[:150]
        dossier.version += 1
        dossier.save()
        _event(dossier, "assigned", actor.label, note=f"→ {colleague.label}")
    return dossier


def send_back(actor: Actor, tracking_code: str, reasons: str) -> Dossier:
    text = _reasons(reasons)
    with transaction.atomic():
        dossier = _locked_for(
            actor,
            tracking_code,
            (Dossier.Status.SUBMITTED, Dossier.Status.RECEIVED, Dossier.Status.PROCESSING),
        )
        dossier.status = Dossier.Status.SENT_BACK
        dossier.reasons = text
        dossier.version += 1
        dossier.save()
        _event(dossier, "sent_back", actor.label, text)
        notify(dossier, "Yêu cầu bổ sung / Additions requested", text)
    return dossier


def refuse(actor: Actor, tracking_code: str, reasons: str) -> Dossier:
    text = _reasons(reasons)
    with transaction.atomic():
        dossier = _locked_for(actor, tracking_code, Dossier.OPEN)
        # A payment in flight is no longer to be paid; one captured anyway is flagged for refund
        # (``payment_callback``).
        dossier.payments.filter(status=Payment.Status.PENDING).update(status=Payment.Status.EXPIRED)
        dossier.status = Dossier.Status.REFUSED
        dossier.reasons = text
        dossier.decided_at = timezone.now()
        dossier.decided_by = actor.label[:150]
        dossier.version += 1
        dossier.save()
        _event(dossier, "refused", actor.label, text)
        notify(dossier, "Từ chối giải quyết / Refused", text)
    return dossier


def approve(actor: Actor, tracking_code: str) -> Dossier:
    """Approve: make the registry change the procedure implies (``handlers``), then issue the
    signed result. A registry refusal (validation, denial) rolls everything back."""
    from dancu.apps.public_services.handlers import HANDLERS

    with transaction.atomic():
        dossier = _locked_for(
            actor,
            tracking_code,
            (Dossier.Status.SUBMITTED, Dossier.Status.RECEIVED, Dossier.Status.PROCESSING),
        )
        chain = _service(dossier).chain()
        if dossier.step + 1 < len(chain):
            # Multi-step approval: this authority signs its step, the next one receives the dossier.
            _event(dossier, "step_approved", actor.label, chain[dossier.step].label_vi)
            dossier.step += 1
            _set_authority(dossier, chain[dossier.step], dossier.authority_ward_code)
            dossier.status = Dossier.Status.RECEIVED
            dossier.assigned_user_id = None
            dossier.assigned_label = ""
            dossier.version += 1
            dossier.save()
            notify(
                dossier,
                "Chuyển bước xử lý / Next step",
                f"Hồ sơ được chuyển: {chain[dossier.step].label_vi}.",
            )
            return dossier
        handler = HANDLERS[dossier.service_code]
        facts = handler(actor, dossier, _link_context(actor, dossier))
        _issue_result(dossier, f"{actor.label} — {actor.organisation_name}", facts)
        dossier.save()
    return dossier


def _issue_result(dossier: Dossier, decided_by: str, facts: dict[str, Any]) -> None:
    service = _service(dossier)
    now = timezone.now()
    document = {
        "type": DOCUMENT_TYPE,
        "tracking_code": dossier.tracking_code,
        "service": service.code,
        "service_name": service.name_vi,
        "authority": service.authority_vi,
        "legal_basis": service.legal_basis,
        "issued_at": timezone.localtime(now).isoformat(timespec="seconds"),
        "holder": {"id_number": dossier.applicant_id_number, "full_name": dossier.applicant_name},
        "decided_by": decided_by,
        "result": facts,
    }
    text = canonical_json(document)
    key = signing_key()
    dossier.result_document = text
    dossier.result_signature = base64.b64encode(key.sign(text.encode("utf-8"))).decode()
    dossier.result_key_id = key_id(key.public_key())
    dossier.status = Dossier.Status.DONE
    dossier.decided_at = now
    dossier.decided_by = decided_by[:150]
    dossier.version += 1
    _event(dossier, "result", decided_by)
    notify(
        dossier, "Có kết quả / Result issued", f"{service.name_vi}: đã có kết quả, xem và tải về trên Cổng."
    )


# --------------------------------------------------------------------------- two-party consent
def pending_consents(user_id: int) -> QuerySet[Dossier]:
    """Dossiers naming this citizen as the other party, waiting for their answer."""
    id_number = eid.id_number_of_user(user_id)
    if not id_number:
        return Dossier.objects.none()
    return Dossier.objects.filter(counterpart_id_number=id_number, status=Dossier.Status.CONSENT).order_by(
        "pk"
    )


def consent(user_id: int, tracking_code: str, *, agree: bool, today: date | None = None) -> Dossier:
    """The other party of a marriage (Law on Civil Status 2014 Art. 18: both present their will)
    or the head of household of a separation (Law on Residence 2020 Art. 25) answers through their
    own eID account. Agreeing checks their side from their own record (read under their user id)
    and sends the dossier to the authority; declining refuses it."""
    id_number = eid.id_number_of_user(user_id)
    dossier = Dossier.objects.filter(tracking_code=tracking_code, status=Dossier.Status.CONSENT).first()
    if not id_number or dossier is None or dossier.counterpart_id_number != id_number:
        raise NotFound("no dossier awaits your consent", field="tracking_code")
    service = _service(dossier)
    today = today or timezone.localdate()
    extra: dict[str, Any] = {}
    if agree:
        ctx = rules.portal_context(user_id, dossier.tracking_code)
        own = registry.get_by_id_number(ctx, id_number)
        if service.code == "marriage-registration":
            mine = registry.family_links(ctx, id_number)
            problems = rules.marriage_problems(mine, today, "partner_id_number")
            applicant = registry.family_links(
                rules.portal_context(dossier.applicant_user_id, dossier.tracking_code),
                dossier.applicant_id_number,
            )
            if rules.relatives(mine, applicant):
                problems.append(
                    FieldProblem(
                        "partner_id_number",
                        "relatives",
                        "Hai bên có quan hệ huyết thống trực hệ hoặc anh chị em",
                    )
                )
            if mine.sex == applicant.sex:
                problems.append(
                    FieldProblem(
                        "partner_id_number", "same_sex", "Nhà nước không thừa nhận hôn nhân cùng giới"
                    )
                )
            if fold(own.full_name) != fold(dossier.items["partner_full_name"]["value"]):
                problems.append(
                    FieldProblem("partner_full_name", "mismatch", "Họ tên bên kia không khớp với CSDL dân cư")
                )
            if problems:
                raise DomainValidationError(problems)
            extra = {
                "partner_full_name": {"value": own.full_name, "source": REGISTRY},
                "partner_date_of_birth": {"value": f"{own.date_of_birth:%d/%m/%Y}", "source": REGISTRY},
            }
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if dossier.status != Dossier.Status.CONSENT:
            raise DomainValidationError.single("status", "transition", "Hồ sơ không còn chờ ý kiến")
        if agree:
            dossier.items.update(extra)
            dossier.counterpart_consented_at = timezone.now()
            dossier.status = Dossier.Status.SUBMITTED
            dossier.due_on = workdays.deadline(today, service.days)
            _event(dossier, "consented", f"Bên liên quan / other party ({id_number[-3:]})")
            notify(
                dossier,
                "Bên liên quan đã đồng ý / Consent given",
                "Hồ sơ được chuyển đến cơ quan giải quyết.",
            )
        else:
            dossier.status = Dossier.Status.REFUSED
            dossier.reasons = "Bên liên quan không đồng ý / the other party declined"
            dossier.decided_at = timezone.now()
            _event(dossier, "declined", f"Bên liên quan / other party ({id_number[-3:]})")
            notify(dossier, "Bên liên quan không đồng ý / Consent declined", dossier.reasons)
        dossier.version += 1
        dossier.save()
    return dossier


# ------------------------------------------------------------------ suspension, extension, escalation
MAX_EXTENSION_DAYS = 15


def suspend(actor: Actor, tracking_code: str, reasons: str) -> Dossier:
    """Suspend handling (e.g. waiting for another agency's verification), with reasons; the time
    does not run while suspended (Decree 61/2018/NĐ-CP Art. 19, as amended by Decree 107/2021)."""
    text = _reasons(reasons)
    with transaction.atomic():
        dossier = _locked_for(actor, tracking_code, (Dossier.Status.RECEIVED, Dossier.Status.PROCESSING))
        dossier.status = Dossier.Status.SUSPENDED
        dossier.suspended_at = timezone.now()
        dossier.reasons = text
        dossier.version += 1
        dossier.save()
        _event(dossier, "suspended", actor.label, text)
        notify(dossier, "Tạm dừng xử lý / Suspended", text)
    return dossier


def resume(actor: Actor, tracking_code: str, today: date | None = None) -> Dossier:
    """Resume a suspended dossier: the deadline moves by the working days it was suspended."""
    today = today or timezone.localdate()
    with transaction.atomic():
        dossier = _locked_for(actor, tracking_code, (Dossier.Status.SUSPENDED,))
        since = timezone.localdate(dossier.suspended_at) if dossier.suspended_at else today
        lost = workdays.calendar().working_days_between(since, today)
        dossier.due_on = workdays.calendar().add_working_days(dossier.due_on, lost)
        dossier.status = Dossier.Status.PROCESSING
        dossier.suspended_at = None
        dossier.version += 1
        dossier.save()
        _event(dossier, "resumed", actor.label, f"+{lost} ngày làm việc; hạn mới {dossier.due_on:%d/%m/%Y}")
        notify(dossier, "Tiếp tục xử lý / Resumed", f"Hạn trả kết quả mới: {dossier.due_on:%d/%m/%Y}.")
    return dossier


def extend(actor: Actor, tracking_code: str, days: int, reasons: str) -> Dossier:
    """Extend the deadline by ``days`` working days with reasons, told to the citizen (the
    apology letter of Decree 61/2018/NĐ-CP Art. 19 cl. 3); at most 15 in all."""
    text = _reasons(reasons)
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise DomainValidationError.single(
            "days", "range", f"Gia hạn từ 1 đến {MAX_EXTENSION_DAYS} ngày làm việc"
        )
    with transaction.atomic():
        dossier = _locked_for(
            actor,
            tracking_code,
            (Dossier.Status.SUBMITTED, Dossier.Status.RECEIVED, Dossier.Status.PROCESSING),
        )
        if dossier.extended_days + days > MAX_EXTENSION_DAYS:
            raise DomainValidationError.single(
                "days", "total", f"Tổng thời gian gia hạn không quá {MAX_EXTENSION_DAYS} ngày làm việc"
            )
        dossier.due_on = workdays.calendar().add_working_days(dossier.due_on, days)
        dossier.extended_days += days
        dossier.version += 1
        dossier.save()
        _event(dossier, "extended", actor.label, f"+{days}: {text}")
        notify(
            dossier, "Gia hạn xử lý / Deadline extended", f"Hạn mới {dossier.due_on:%d/%m/%Y}. Lý do: {text}"
        )
    return dossier


def escalate_overdue(today: date | None = None) -> int:
    """Escalate open dossiers past their deadline to the supervisors of the authority (its
    members with the admin role see them first in their queue, marked); each once. Returns the
    number escalated. Run daily (``dancu services escalate``)."""
    today = today or timezone.localdate()
    count = 0
    late = Dossier.objects.filter(
        status__in=(Dossier.Status.SUBMITTED, Dossier.Status.RECEIVED, Dossier.Status.PROCESSING),
        due_on__lt=today,
        escalated_at__isnull=True,
    ).order_by("pk")
    for dossier in late.iterator():
        with transaction.atomic():
            updated = Dossier.objects.filter(pk=dossier.pk, escalated_at__isnull=True).update(
                escalated_at=timezone.now()
            )
            if updated:
                _event(dossier, "escalated", SYSTEM_LABEL, f"Quá hạn từ {dossier.due_on:%d/%m/%Y}")
                count += 1
    return count


def supervisor_queue(actor: Actor) -> QuerySet[Dossier]:
    """The escalated dossiers of the supervisor's authority (role admin), oldest deadline first."""
    if not is_official(actor) or actor.role != "admin":
        raise AccessDenied("only the authority's supervisors see escalations", rule="supervisor")
    return queue(actor).filter(escalated_at__isnull=False)


# --------------------------------------------------------------------------- drafts
MAX_DRAFT_VALUE = 2000


def save_draft(user_id: int, service_code: str, supplied: dict[str, str], note: str = "") -> Draft:
    """Keep what the citizen typed (only the items they supply; nothing from a registry), e.g.
    when the registry is unavailable; one draft per service, replaced by the next save."""
    service = catalogue.get(service_code)
    if service is None or not service.implemented:
        raise NotFound("no such online service", field="service")
    values = {}
    for item in service.citizen_items():
        value = str(supplied.get(item.key, "") or "")[:MAX_DRAFT_VALUE]
        if value:
            values[item.key] = value
    draft, _ = Draft.objects.update_or_create(
        user_id=user_id,
        service_code=service.code,
        defaults={"values": values, "note": note[:200], "saved_at": timezone.now()},
    )
    return draft


def drafts_of(user_id: int) -> QuerySet[Draft]:
    return Draft.objects.filter(user_id=user_id).order_by("-saved_at")


def draft_values(user_id: int, service_code: str) -> dict[str, str]:
    draft = Draft.objects.filter(user_id=user_id, service_code=service_code).first()
    return dict(draft.values) if draft else {}


def discard_draft(user_id: int, service_code: str) -> bool:
    return Draft.objects.filter(user_id=user_id, service_code=service_code).delete()[0] > 0


# --------------------------------------------------------------------------- payments
def start_payment(user_id: int, tracking_code: str) -> str:
    """Start (or restart after a failure) the payment of a pay-first dossier: the URL of the
    gateway for the citizen's browser. The amount is computed now (a fine grows when late)."""
    from dancu.apps.public_services.handlers import amount_due

    with transaction.atomic():
        dossier = (
            Dossier.objects.select_for_update()
            .filter(applicant_user_id=user_id, tracking_code=tracking_code)
            .first()
        )
        if dossier is None:
            raise NotFound("no such dossier", field="tracking_code")
        if dossier.status != Dossier.Status.PAYMENT:
            raise DomainValidationError.single("status", "not_payable", "Hồ sơ không chờ thanh toán")
        driver = payments.driver()
        if dossier.service_code == "traffic-fine":
            _claim_fine(dossier.items["decision_number"]["value"], dossier.applicant_id_number, dossier.pk)
        amount = amount_due(dossier)
        # One payable payment at a time: an older amount (a fine grows when late) expires.
        dossier.payments.filter(status=Payment.Status.PENDING).exclude(amount_vnd=amount).update(
            status=Payment.Status.EXPIRED
        )
        pending = dossier.payments.filter(status=Payment.Status.PENDING, amount_vnd=amount).first()
        if pending is None:
            pending = Payment.objects.create(
                dossier=dossier,
                reference=f"{dossier.tracking_code}-{dossier.payments.count() + 1}",
                amount_vnd=amount,
                provider=driver.name,
            )
            _event(dossier, "payment_started", dossier.applicant_name, f"{amount} đ")
    return driver.start(pending.reference, pending.amount_vnd, _service(dossier).name_vi)


def payment_for(user_id: int, reference: str) -> Payment | None:
    """The citizen's own pending payment (the development gateway's page shows it)."""
    return (
        Payment.objects.select_related("dossier")
        .filter(reference=reference, dossier__applicant_user_id=user_id, status=Payment.Status.PENDING)
        .first()
    )


def _claim_fine(decision_number: str, id_number: str, dossier_pk: int | None = None) -> None:
    """One open dossier per penalty decision, and none for a paid one (Law on Handling
    Administrative Violations 2012 Art. 78: a fine is paid once). The fine's row is locked while
    checking, so two submissions for one fine are serialised."""
    fine = (
        TrafficFine.objects.select_for_update()
        .filter(decision_number=decision_number, id_number=id_number)
        .first()
    )
    if fine is None or fine.status == TrafficFine.Status.PAID:
        raise DomainValidationError.single(
            "decision_number", "already_paid", "Quyết định này đã được nộp phạt"
        )
    others = Dossier.objects.filter(
        service_code="traffic-fine", status__in=Dossier.OPEN, items__decision_number__value=decision_number
    )
    if dossier_pk is not None:
        others = others.exclude(pk=dossier_pk)
    if others.exists():
        raise DomainValidationError.single(
            "decision_number", "open_dossier", "Đã có hồ sơ nộp phạt đang xử lý cho quyết định này"
        )


def _needs_attention(payment: Payment, dossier: Dossier, why: str) -> None:
    """Captured money that settled nothing: flagged for refund (or settlement) by an official."""
    Payment.objects.filter(pk=payment.pk).update(refund_due=True, attention=why[:200])
    payment.refund_due, payment.attention = True, why[:200]
    _event(dossier, "payment_attention", payment.provider, why)
    notify(
        dossier,
        "Khoản thanh toán cần xử lý / Payment needs attention",
        "Khoản tiền đã nhận sẽ được hoàn trả hoặc cán bộ xử lý / the amount will be refunded or handled.",
    )


def payment_callback(fields: dict[str, str]) -> Payment:
    """The gateway's signed notice (IPN or browser return). Applied once: a repeat returns the
    recorded payment unchanged.

    The payment is recorded first, in a transaction of its own — money the gateway captured is
    never lost to a later failure. Then a paid notice settles the dossier (the handler marks the
    fine paid or extends the cards, and the signed result is issued) in a second transaction. A
    payment that cannot settle its dossier — an expired one (superseded, or its dossier closed),
    or one whose settlement failed — is flagged ``refund_due`` with the reason, and the notice is
    still acknowledged (the gateway's contract: a recorded notice is answered 200)."""
    callback = payments.driver().parse_callback(fields)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(reference=callback.reference).first()
        if payment is None:
            raise NotFound("no such payment", field="reference")
        if payment.status in (Payment.Status.PAID, Payment.Status.FAILED):
            return payment
        if callback.amount != payment.amount_vnd:
            raise DomainValidationError.single(
                "amount", "mismatch", "Số tiền không khớp với khoản thanh toán"
            )
        dossier = Dossier.objects.select_for_update().get(pk=payment.dossier_id)
        current = payment.status == Payment.Status.PENDING and dossier.status == Dossier.Status.PAYMENT
        payment.provider_transaction = callback.transaction[:64]
        payment.settled_at = timezone.now()
        payment.status = Payment.Status.PAID if callback.paid else Payment.Status.FAILED
        payment.save()
        if not callback.paid:
            if current:
                _event(dossier, "payment_failed", payment.provider)
                notify(dossier, "Thanh toán không thành công / Payment failed", "Vui lòng thanh toán lại.")
            return payment
        if not current:
            _needs_attention(payment, dossier, f"payment {payment.reference} expired or dossier closed")
            return payment
    try:
        with transaction.atomic():
            dossier = Dossier.objects.select_for_update().get(pk=payment.dossier_id)
            if dossier.status != Dossier.Status.PAYMENT:
                raise DomainValidationError.single("status", "not_payable", "Hồ sơ không chờ thanh toán")
            _event(dossier, "paid", payment.provider, f"{payment.amount_vnd} đ")
            _decide_automatically(dossier)
    except Exception as exc:
        if isinstance(exc, DomainValidationError):
            why = "; ".join(f"{p.field}: {p.rule}" for p in exc.problems)
        else:
            why = type(exc).__name__
        logger.warning("payment %s captured but not settled: %s", payment.reference, why)
        with transaction.atomic():
            _needs_attention(payment, Dossier.objects.get(pk=payment.dossier_id), f"settlement failed: {why}")
    return payment


# --------------------------------------------------------------------------- SLA and verification
ON_TIME, DUE_SOON, LATE = "on_time", "due_soon", "late"


def sla(dossier: Dossier, today: date | None = None) -> str:
    """On time, due soon (the deadline is today or the next working day), or late."""
    if dossier.status not in Dossier.OPEN:
        done = dossier.decided_at.date() if dossier.decided_at else dossier.due_on
        return LATE if done > dossier.due_on else ON_TIME
    today = today or timezone.localdate()
    if dossier.status == Dossier.Status.SUSPENDED and dossier.suspended_at:
        today = timezone.localdate(dossier.suspended_at)  # the clock stopped then
    if today > dossier.due_on:
        return LATE
    if workdays.calendar().working_days_between(today, dossier.due_on) <= 1:
        return DUE_SOON
    return ON_TIME


@dataclass(frozen=True)
class Verification:
    valid: bool
    tracking_code: str
    service_name: str = ""
    issued_at: str = ""
    authority: str = ""
    holder_name: str = ""
    holder_id_masked: str = ""


# The public check names the holder: limited per address and overall, like the receipt check of
# the desks (``dancu.apps.desks.services.limit_receipt_checks``).
RESULT_CHECK_PER_ADDRESS = Rate(per_minute=30, burst=10)
RESULT_CHECK_OVERALL = Rate(per_minute=1200, burst=200)


def limit_result_checks(address: str) -> None:
    """Take a token for one public result check from ``address`` (REMOTE_ADDR); raises
    ``RateLimited`` (429 with ``Retry-After``) when this address, or everyone together, checked
    too often (settings ``DANCU_RESULT_CHECK_PER_ADDRESS`` / ``DANCU_RESULT_CHECK_OVERALL`` may
    replace the defaults)."""
    take(
        f"result-check:address:{address or 'unknown'}",
        getattr(settings, "DANCU_RESULT_CHECK_PER_ADDRESS", RESULT_CHECK_PER_ADDRESS),
    )
    take("result-check:all", getattr(settings, "DANCU_RESULT_CHECK_OVERALL", RESULT_CHECK_OVERALL))


def verify_result(tracking_code: str) -> Verification:
    """The public check of a printed result (its QR): whether the platform signed it, and what
    it says — the holder's ID number masked."""
    import json

    if not _TRACKING_RE.match(tracking_code):
        return Verification(False, tracking_code[:40])
    dossier = Dossier.objects.filter(tracking_code=tracking_code, status=Dossier.Status.DONE).first()
    if dossier is None or not verify_signature(dossier.result_document, dossier.result_signature):
        return Verification(False, tracking_code)
    doc = json.loads(dossier.result_document)
    number = doc["holder"]["id_number"]
    return Verification(
        True,
        tracking_code,
        doc["service_name"],
        doc["issued_at"],
        doc["authority"],
        doc["holder"]["full_name"],
        f"{number[:3]}******{number[-3:]}",
    )


# --------------------------------------------------------------------------- aggregates
STATISTICS = "statistics.aggregate"
OPEN_STATUSES: tuple[str, ...] = tuple(Dossier.OPEN)
# The columns an aggregate may group by or read: none names or identifies a person (least data,
# Law 91/2025/QH15 Art. 3); the applicant's, the result's and the form's columns are not among them.
AGGREGATE_GROUPS = frozenset(
    {"service_code", "channel", "status", "authority_kind", "authority_ward_code", "authority_org_code"}
)
_AGGREGATE_COLUMNS = AGGREGATE_GROUPS | {
    "has_upload",
    "pk",
    "id",
    "submitted_at",
    "decided_at",
    "due_on",
    "step",
}
_PERIODS = {"day": TruncDate, "month": TruncMonth}
Office = tuple[str, str, str]  # (authority kind, ward or province code, department code)


def reads_city_wide(actor: Actor) -> bool:
    """Who counts every office's dossiers: the city police with ``public_service.processing`` and
    the departments' statistics officers (``statistics.aggregate``: aggregates, never a person)."""
    return (actor.organisation_kind == catalogue.POLICE_CITY and actor.may(PURPOSE)) or (
        actor.organisation_kind == catalogue.DEPARTMENT and actor.may(STATISTICS)
    )


def aggregate_office(actor: Actor) -> Office | None:
    """The one office whose dossiers an official may count (their own, as ``queue``); None for
    city-wide readers (:func:`reads_city_wide`); ``AccessDenied`` for anyone else."""
    if reads_city_wide(actor):
        return None
    if is_official(actor):
        return _jurisdiction(actor)
    raise AccessDenied("dossier figures are for public service officials and statisticians")


def _columns(node: Any) -> set[str]:
    """The dossier columns an (unresolved) expression reads."""
    if isinstance(node, F):
        return {node.name.split("__")[0]}
    if isinstance(node, Q):
        out: set[str] = set()
        for child in node.children:
            if isinstance(child, Q):
                out |= _columns(child)
            else:
                lookup, value = cast(tuple[str, Any], child)
                out |= {lookup.split("__")[0]} | _columns(value)
        return out
    if isinstance(node, BaseExpression):
        return {c for e in node.get_source_expressions() if e is not None for c in _columns(e)}
    return set()


def aggregate_dossiers(
    actor: Actor,
    *,
    submitted_from: datetime,
    submitted_before: datetime,
    measures: Mapping[str, Aggregate],
    group_by: Sequence[str] = (),
    period: str = "",
    office: Office | None = None,
) -> list[dict[str, Any]]:
    """Counts and durations of the dossiers submitted in ``[submitted_from, submitted_before)``,
    computed by the database (SQL aggregates), one row per group (``group_by`` columns of
    :data:`AGGREGATE_GROUPS`, and with ``period`` — ``day`` or ``month`` — the submission day or
    month as ``period``), ordered by the groups; no row leaves the database.

    Access: an official counts their own office's dossiers only (asking for another office is
    ``AccessDenied``, rule ``jurisdiction``); city-wide readers (:func:`reads_city_wide`) any
    office, or every office with ``office=None``; anyone else is denied. ``measures`` are
    aggregates over the columns that identify no one; another column, group or period is a
    validation error naming the field. The caller records the view in the audit log."""
    own = aggregate_office(actor)
    if own is not None:
        if office is not None and office != own:
            raise AccessDenied("officials count their own office only", field="office", rule="jurisdiction")
        office = own
    problems = [
        FieldProblem("group_by", "column", f"not a column figures may be grouped by: {g}")
        for g in group_by
        if g not in AGGREGATE_GROUPS
    ]
    if period and period not in _PERIODS:
        problems.append(FieldProblem("period", "choice", "day or month"))
    for name, measure in measures.items():
        if not isinstance(measure, Aggregate) or not _columns(measure) <= _AGGREGATE_COLUMNS:
            problems.append(
                FieldProblem("measures", "aggregate", f"{name}: an aggregate of non-personal columns")
            )
    if problems:
        raise DomainValidationError(problems)
    qs = Dossier.objects.filter(submitted_at__gte=submitted_from, submitted_at__lt=submitted_before)
    if office is not None:
        qs = qs.filter(authority_kind=office[0], authority_ward_code=office[1], authority_org_code=office[2])
    keys = list(group_by)
    if period:
        qs = qs.annotate(period=_PERIODS[period]("submitted_at"))
        keys.append("period")
    if not keys:
        return [qs.aggregate(**measures)]
    return list(qs.order_by().values(*keys).annotate(**measures).order_by(*keys))
