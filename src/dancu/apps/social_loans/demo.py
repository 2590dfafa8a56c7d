"""Demo data of social-policy loans (``dancu demo``; model 20).

- **Ngân hàng Chính sách xã hội – Chi nhánh thành phố Hà Nội** (``NHCSXH-HN``): the lender, with an
  officer ``canbo.nhcsxh`` (checks eligibility at /vay-von/) and an administrator
  ``quantri.nhcsxh`` (publishes rule versions; administers the bank's exchange member). It is a
  member of the data-exchange gateway with subsystem ``TINDUNG`` and two approved grants on the
  registry's services — ``household`` (ID number, date of birth, relationship, life status) and
  ``residence`` (ID number, permanent address) — for purpose ``social_policy.credit`` only;
  the bank's system holds the client credential (``gateway_client``).
- **Sở Lao động – Thương binh và Xã hội Hà Nội** (``SLDTBXH-HN``, created by the exchange demo):
  the list owner, with an officer ``canbo.soldtbxh`` who cleans commune lists at /cleaning/ and
  imports them at /vay-von/. A demo list of Phường Tây Hồ (00103) is cleaned and imported, and
  one person has an outstanding loan.
Idempotent. Password ``dancu-demo-2026`` (demo accounts only).
"""

from __future__ import annotations

from datetime import date

from dancu.apps.gateway_client.demo import cleaned_demo_file, demo_user, seed_member
from dancu.apps.social_loans import services
from dancu.apps.social_loans.models import BeneficiaryList, Loan, Participant, Programme
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.linkage import services as linkage
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for
from dancu.blocks.registry import services as registry

PROVINCE = "01"
TAY_HO = "00103"
BANK_CODE, BANK_NAME = "NHCSXH-HN", "Ngân hàng Chính sách xã hội – Chi nhánh thành phố Hà Nội"
OWNER_CODE, OWNER_NAME = "SLDTBXH-HN", "Sở Lao động – Thương binh và Xã hội Hà Nội"
SUBSYSTEM = "TINDUNG"
GRANTS = {
    "household": ["id_number", "date_of_birth", "relationship_to_head", "life_status"],
    "residence": ["id_number", "permanent_address"],
}
LEGAL_BASIS = (
    "Nghị định 78/2002/NĐ-CP Điều 2; Nghị định 47/2020/NĐ-CP; Quyết định 06/QĐ-TTg 2022 (mô hình 20)"
)


def _org(code: str, name: str, kind: str = Organisation.Kind.DEPARTMENT) -> Organisation:
    org, _ = Organisation.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "jurisdiction_province_code": PROVINCE}
    )
    if org.kind != kind:  # a bank seeded before it had a kind of its own
        org.kind = kind
        org.save(update_fields=["kind"])
    return org


def seed_bank_member(bank: Organisation, admin: Actor) -> str:
    """The bank as a member of the gateway: subsystem, approved grants (least data for
    ``social_policy.credit``), a fresh credential stored in the bank's client."""
    return seed_member(
        bank,
        admin,
        subsystem=SUBSYSTEM,
        system=services.SYSTEM,
        grants={code: (services.GATEWAY_PURPOSE, fields) for code, fields in GRANTS.items()},
        legal_basis=LEGAL_BASIS,
    )


def seed_participants() -> tuple[Organisation, Organisation]:
    bank = _org(BANK_CODE, BANK_NAME, Organisation.Kind.SOCIAL_POLICY_BANK)
    owner = _org(OWNER_CODE, OWNER_NAME)
    Participant.objects.get_or_create(organisation_id=bank.pk, role=Participant.Role.LENDER)
    Participant.objects.get_or_create(organisation_id=owner.pk, role=Participant.Role.LIST_OWNER)
    services.ensure_programmes()
    return bank, owner


def _demo_list(owner_actor: Actor, bank_id: int) -> None:
    """A list of six residents of Phường Tây Hồ, typed the way commune lists are (no diacritics on
    one name, an old CMND or no number on others), cleaned and imported."""
    if BeneficiaryList.objects.filter(organisation_id=owner_actor.organisation_id or 0).exists():
        return
    ctx = AccessContext(owner_actor, linkage.PURPOSE)
    people = [
        r
        for r in registry.cleaning_reference(ctx, job_reference="demo-social-loans")
        if r.permanent_ward_code == TAY_HO and r.life_status == "alive" and r.date_of_birth.year < 2000
    ][:6]
    if len(people) < 3:
        return
    statuses = ["Hộ nghèo", "Hộ cận nghèo", "Hộ nghèo", "Hộ mới thoát nghèo", "Người có công", "Hộ nghèo"]
    lines = ["STT,Họ và tên,Ngày sinh,Số CCCD,Địa chỉ,Phân loại hộ"]
    for i, p in enumerate(people):
        name = p.full_name if i != 1 else p.full_name.upper()
        number = p.id_number if i % 3 != 2 else ""
        lines.append(
            f'{i + 1},{name},{p.date_of_birth:%d/%m/%Y},{number},"{p.permanent_address_text}",{statuses[i]}'
        )
    content = ("\n".join(lines) + "\n").encode()
    job = cleaned_demo_file(ctx, "ds-ho-ngheo-tay-ho-2025.csv", content)
    services.import_list(
        owner_actor,
        job.job_id,
        ward_code=TAY_HO,
        year=2025,
        title="Danh sách hộ nghèo, cận nghèo phường Tây Hồ năm 2025",
        status_column="Phân loại hộ",
    )
    Loan.objects.get_or_create(
        organisation_id=bank_id,
        programme=Programme.objects.get(code="HN"),
        id_number=people[0].id_number,
        defaults={"amount_vnd": 100_000_000, "disbursed_on": date(2025, 6, 15)},
    )


def seed_demo() -> list[tuple[str, str]]:
    bank, owner = seed_participants()
    officer = demo_user("canbo.nhcsxh", bank, "officer")
    admin_user = demo_user("quantri.nhcsxh", bank, "admin")
    owner_officer = demo_user("canbo.soldtbxh", owner, "officer")
    client_id = seed_bank_member(bank, actor_for(admin_user, bank.pk))
    _demo_list(actor_for(owner_officer, owner.pk), bank.pk)
    del officer
    return [
        ("canbo.nhcsxh", "NHCSXH Hà Nội: xét điều kiện vay vốn /vay-von/ (qua trục liên thông)"),
        ("quantri.nhcsxh", f"NHCSXH Hà Nội: quy tắc xét duyệt /vay-von/quy-tac/HN/; thành viên {client_id}"),
        ("canbo.soldtbxh", "Sở LĐTBXH: làm sạch danh sách /cleaning/, nhập danh sách /vay-von/"),
    ]
