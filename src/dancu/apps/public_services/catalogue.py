"""The catalogue of essential online public services (Project 06, Decision 06/QĐ-TTg; domain-vn §9).

Kept as data in code, reviewed like code: each service names its competent authority (an
organisation kind — the one of the dossier's ward handles it), legal basis, statutory processing
time in working days, fee, the assurance level of the eID log-in it needs, and its data items, each
with **where it comes from**:

* ``registry`` — the population registry, read through its service function (once-only: the
  citizen never types it);
* ``eid`` — another block: the citizen's eID account (verified contacts);
* ``citizen`` — no registry holds it: the citizen supplies it;
* ``sector`` — a sector's register (licences, penalty decisions, insurance), found from the
  citizen's number and the items they typed (``rules.sector_items``);
* ``upload`` — the last resort: a document the citizen attaches (PDF, JPEG or PNG; ``uploads``),
  only where no registry holds the fact and the citizen's word is not enough. A dossier with an
  upload is not counted paperless (``Dossier.has_upload``).

``implemented`` marks the services whose dossiers run end to end without paper in this
application (``handlers.HANDLERS``); the rest are catalogued for the next increments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REGISTRY = "registry"
EID = "eid"
CITIZEN = "citizen"
# A sector's register (driving licences, penalty decisions, insurance): what the procedure found
# there for the applicant, stored with the dossier at submission.
SECTOR = "sector"
# An attached document (the last resort, issue 7): only where no registry holds the fact.
UPLOAD = "upload"
SOURCES = (REGISTRY, EID, CITIZEN, SECTOR, UPLOAD)

POLICE = "police_commune"
COMMITTEE = "committee"
DEPARTMENT = "department"
POLICE_CITY = "police_city"
OTHER = "other"  # an agency outside this platform's organisations (electricity, insurance, schools)


@dataclass(frozen=True)
class Item:
    """One data item of a dossier. ``key`` is the field name; for a registry item, ``registry_field``
    names the ``CitizenView`` attribute it is read from."""

    key: str
    label_vi: str
    label_en: str
    source: str
    registry_field: str = ""
    kind: str = "text"  # text | date | choice | id_number | cmnd | address | file
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    max_length: int = 255


@dataclass(frozen=True)
class Step:
    """One sign-off of a multi-step approval: the authority (kind, and for a city department its
    agency key in :data:`AGENCIES`) that decides this step."""

    kind: str
    label_vi: str
    agency: str = ""


# City departments by agency key: the organisation code of the competent department. A city
# names its own (setting ``DANCU_PUBLIC_SERVICES_AGENCIES``, merged over these).
AGENCIES = {
    "justice": "SO-TUPHAP",  # Sở Tư pháp: judicial records
    "construction": "SO-XAYDUNG",  # Sở Xây dựng: driving licences (since 03/2025)
    "home_affairs": "SO-NOIVU",  # Sở Nội vụ: employment services (since 03/2025)
}


def agency_code(agency: str) -> str:
    from django.conf import settings

    return {**AGENCIES, **getattr(settings, "DANCU_PUBLIC_SERVICES_AGENCIES", {})}.get(agency, "")


@dataclass(frozen=True)
class Service:
    code: str
    number: int  # position in the list of 25 essential services
    name_vi: str
    name_en: str
    authority_kind: str
    authority_vi: str
    legal_basis: str
    days: int  # statutory processing time, working days (0: immediately)
    fee_vnd: int
    level: int = 1  # eID level the log-in must have
    items: tuple[Item, ...] = field(default_factory=tuple)
    implemented: bool = False
    agency: str = ""  # a city department's agency key (authority_kind DEPARTMENT)
    # Multi-step approval: the sign-offs in order; empty: one step, by ``authority_kind``.
    steps: tuple[Step, ...] = ()
    # The item holding the other party's ID number, who consents before the authority acts.
    counterpart: str = ""
    # The fee or fine is paid online at submission; the result follows the payment.
    pay_first: bool = False

    def chain(self) -> tuple[Step, ...]:
        return self.steps or (Step(self.authority_kind, self.authority_vi, self.agency),)

    @property
    def paperless(self) -> bool:
        """Runs online with no paper dossier: implemented here, every item from a registry or
        typed by the citizen. An optional upload does not change the service's standing, but a
        dossier that carries one is not counted paperless (``Dossier.has_upload``)."""
        return self.implemented

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)

    def citizen_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.source == CITIZEN)

    def upload_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.source == UPLOAD)


def _r(key: str, vi: str, en: str, registry_field: str = "") -> Item:
    return Item(key, vi, en, REGISTRY, registry_field=registry_field or key)


# The applicant's own data, read from the registry (never typed).
NAME = _r("full_name", "Họ, chữ đệm và tên", "Full name")
ID = _r("id_number", "Số định danh cá nhân", "Personal ID number")
DOB = _r("date_of_birth", "Ngày sinh", "Date of birth")
SEX = _r("sex", "Giới tính", "Sex")
PERMANENT = _r("permanent_address", "Nơi thường trú", "Permanent residence")
OLD_IDS = _r("old_id_numbers", "Số CMND cũ", "Old CMND numbers")
HOUSEHOLD = _r("household_number", "Số hộ", "Household number")
CARDS = _r("cards", "Thẻ căn cước/CCCD đang có", "Identity cards held")
TEMPORARY = _r("temporary_address", "Nơi tạm trú", "Temporary residence")
NATIONALITY = _r("nationality", "Quốc tịch", "Nationality")
ETHNICITY = _r("ethnicity", "Dân tộc", "Ethnicity")
PHONE = Item("phone", "Số điện thoại", "Phone number", EID, registry_field="", required=False)
_APPLICANT = (NAME, ID, DOB, SEX, PERMANENT)

# The lodging document: the residence registry holds a home the applicant owns or is already
# registered at, but not a lease or a loan of someone else's home, and the law asks for the
# document proving it (Law on Residence 2020 Art. 28(1); Decree 154/2024/NĐ-CP Art. 5). Optional:
# only when the place is not the applicant's own.
LODGING_DOCUMENT = Item(
    "lodging_document",
    "Hợp đồng thuê, mượn, ở nhờ chỗ ở (nếu chỗ ở không phải của mình)",
    "Lease or loan contract of the lodging (if the place is not your own)",
    UPLOAD,
    kind="file",
    required=False,
)

SEX_CHOICES = (("M", "Nam / Male"), ("F", "Nữ / Female"))


def _c(key: str, vi: str, en: str, kind: str = "text", **kw: object) -> Item:
    return Item(key, vi, en, CITIZEN, kind=kind, **kw)  # type: ignore[arg-type]


def _s(key: str, vi: str, en: str) -> Item:
    return Item(key, vi, en, SECTOR, required=False)


CARD_REASONS = (
    ("damaged", "Thẻ bị hư hỏng / Damaged"),
    ("changed_details", "Thay đổi thông tin trên thẻ / Details changed"),
    ("error", "Có sai sót thông tin trên thẻ / Error on the card"),
    ("lost", "Bị mất thẻ / Lost"),
)
LICENCE_REASONS = (
    ("expired", "Hết hạn / Expired"),
    ("damaged", "Hư hỏng / Damaged"),
    ("changed_details", "Thay đổi thông tin / Details changed"),
    ("lost", "Bị mất / Lost"),
)
TERMINATIONS = (
    ("contract_expired", "Hết hạn hợp đồng / Contract expired"),
    ("mutual", "Hai bên thỏa thuận / By agreement"),
    ("employer_terminated", "Người sử dụng lao động chấm dứt đúng luật / Lawful dismissal"),
    ("unlawful_quit", "Người lao động đơn phương chấm dứt trái luật / Unlawful resignation"),
    ("pension", "Hưởng lương hưu / Retired on a pension"),
)
CIVIL_FIELDS = (
    ("full_name", "Họ, chữ đệm, tên / Full name"),
    ("ethnicity", "Dân tộc / Ethnicity"),
    ("origin_text", "Quê quán / Place of origin"),
)
BIRTH_ITEMS = (
    *_APPLICANT,
    _c("child_full_name", "Họ, chữ đệm và tên của trẻ", "The child's full name"),
    _c("child_date_of_birth", "Ngày sinh của trẻ", "The child's date of birth", "date"),
    _c("child_sex", "Giới tính của trẻ", "The child's sex", "choice", choices=SEX_CHOICES),
    _c("birth_place", "Nơi sinh (cơ sở y tế)", "Place of birth (health facility)"),
    _c(
        "relationship",
        "Quan hệ với trẻ",
        "Relationship to the child",
        "choice",
        choices=(("mother", "Mẹ / Mother"), ("father", "Cha / Father")),
    ),
)
DEATH_ITEMS = (
    *_APPLICANT,
    _c("deceased_id_number", "Số định danh của người chết", "The deceased's ID number", "id_number"),
    _c("deceased_full_name", "Họ tên người chết", "The deceased's full name"),
    _c("date_of_death", "Ngày chết", "Date of death", "date"),
    _c("death_notice", "Số giấy báo tử", "Death notice number"),
    _c("relationship", "Quan hệ với người chết", "Relationship to the deceased"),
)


SERVICES: tuple[Service, ...] = (
    Service(
        "cmnd-confirmation",
        1,
        "Xác nhận số Chứng minh nhân dân 9 số",
        "Confirmation of the old 9-digit CMND number",
        POLICE,
        "Công an cấp xã",
        "Luật Căn cước 2023; Thông tư 17/2024/TT-BCA; Quyết định 06/QĐ-TTg",
        0,
        0,
        items=(
            *_APPLICANT,
            OLD_IDS,
            _c("old_number", "Số CMND cần xác nhận", "CMND number to confirm", "cmnd"),
        ),
        implemented=True,
    ),
    Service(
        "card-reissue",
        2,
        "Cấp đổi, cấp lại thẻ Căn cước (thẻ còn hạn)",
        "Re-issue or replacement of a still-valid identity card",
        POLICE,
        "Công an cấp xã nơi thường trú",
        "Luật Căn cước 2023 Điều 24, 26; Nghị định 70/2024/NĐ-CP; Thông tư 73/2024/TT-BTC",
        7,
        50000,
        level=2,
        items=(
            *_APPLICANT,
            CARDS,
            _c("reason", "Lý do cấp đổi, cấp lại", "Reason", "choice", choices=CARD_REASONS),
            _c("details", "Mô tả (thông tin thay đổi, nơi mất…)", "Details", required=False),
        ),
        implemented=True,
    ),
    Service(
        "permanent-residence",
        3,
        "Đăng ký thường trú",
        "Permanent residence registration",
        POLICE,
        "Công an cấp xã",
        "Luật Cư trú 2020 Điều 20–22; Nghị định 154/2024/NĐ-CP",
        7,
        20000,
        level=2,
        items=(
            *_APPLICANT,
            HOUSEHOLD,
            PHONE,
            _c("new_address", "Địa chỉ thường trú mới", "New permanent address", "address"),
            _c(
                "lodging_basis",
                "Chỗ ở hợp pháp (nhà của mình, nhà người thân đồng ý…)",
                "Lawful residence (own home, relative's consent…)",
            ),
            LODGING_DOCUMENT,
            _c(
                "join_household",
                "Nhập vào hộ số (nếu có)",
                "Join household number (if any)",
                required=False,
                max_length=20,
            ),
            _c(
                "relationship_to_head",
                "Quan hệ với chủ hộ",
                "Relationship to the head of household",
                "choice",
                required=False,
                choices=(
                    ("spouse", "Vợ/Chồng / Spouse"),
                    ("child", "Con / Child"),
                    ("parent", "Bố/Mẹ / Parent"),
                    ("sibling", "Anh/Chị/Em / Sibling"),
                    ("grandchild", "Cháu / Grandchild"),
                    ("other", "Khác / Other"),
                ),
            ),
        ),
        implemented=True,
    ),
    Service(
        "temporary-residence",
        4,
        "Đăng ký tạm trú",
        "Temporary residence registration",
        POLICE,
        "Công an cấp xã nơi tạm trú",
        "Luật Cư trú 2020 Điều 27–28; Thông tư 55/2021/TT-BCA Điều 16",
        3,
        0,
        items=(
            *_APPLICANT,
            PHONE,
            _c("temporary_address", "Địa chỉ tạm trú", "Temporary address", "address"),
            _c("stay_until", "Tạm trú đến ngày", "Staying until", "date"),
            _c(
                "lodging_basis",
                "Chỗ ở hợp pháp (hợp đồng thuê, nhà người thân…)",
                "Lawful lodging (lease, relative's home…)",
            ),
            LODGING_DOCUMENT,
        ),
        implemented=True,
    ),
    Service(
        "temporary-absence",
        5,
        "Khai báo tạm vắng",
        "Temporary absence declaration",
        POLICE,
        "Công an cấp xã nơi thường trú",
        "Luật Cư trú 2020 Điều 31; Thông tư 55/2021/TT-BCA Điều 17",
        1,
        0,
        items=(
            *_APPLICANT,
            PHONE,
            _c("absent_from", "Vắng mặt từ ngày", "Absent from", "date"),
            _c("absent_until", "Đến ngày", "Until", "date"),
            _c("destination", "Nơi đến", "Destination", "address"),
            _c("reason", "Lý do tạm vắng", "Reason for the absence"),
        ),
        implemented=True,
    ),
    Service(
        "residence-notification",
        6,
        "Thông báo lưu trú",
        "Residence notification",
        POLICE,
        "Công an cấp xã nơi lưu trú",
        "Luật Cư trú 2020 Điều 30; Thông tư 55/2021/TT-BCA Điều 15",
        0,
        0,
        items=(
            *_APPLICANT,
            PHONE,
            _c("stay_address", "Nơi lưu trú", "Place of stay", "address"),
            _c("host_name", "Họ tên chủ hộ, người cho lưu trú", "Host's name"),
            _c("arrival", "Ngày đến", "Arrival date", "date"),
            _c("departure", "Ngày đi (dự kiến)", "Expected departure", "date"),
            _c("reason", "Lý do lưu trú", "Reason for the stay"),
        ),
        implemented=True,
    ),
    Service(
        "vehicle-registration",
        7,
        "Đăng ký, cấp biển số xe mô tô, xe gắn máy",
        "Motorbike registration and plates",
        POLICE,
        "Công an cấp xã",
        "Thông tư 79/2024/TT-BCA",
        2,
        150000,
        level=2,
        items=(*_APPLICANT, _c("frame_number", "Số khung", "Frame number")),
    ),
    Service(
        "traffic-fine",
        8,
        "Nộp phạt vi phạm giao thông qua hình ảnh",
        "Paying traffic fines detected by camera",
        POLICE_CITY,
        "Công an thành phố (Phòng Cảnh sát giao thông)",
        "Luật Xử lý vi phạm hành chính 2012 Điều 73, 78; Nghị định 100/2019/NĐ-CP; Nghị định 168/2024/NĐ-CP",
        0,
        0,
        items=(
            *_APPLICANT,
            _c("decision_number", "Số quyết định xử phạt", "Penalty decision number", max_length=30),
            _s("plate", "Biển số xe", "Plate"),
            _s("violation", "Hành vi vi phạm", "Violation"),
            _s("fine_vnd", "Số tiền phạt (đồng)", "Fine (VND)"),
            _s("decided_on", "Ngày ra quyết định", "Decision date"),
        ),
        implemented=True,
        pay_first=True,
    ),
    Service(
        "birth-registration",
        9,
        "Đăng ký khai sinh",
        "Birth registration",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã",
        "Luật Hộ tịch 2014 Điều 13–17; Nghị định 123/2015/NĐ-CP; Luật Căn cước 2023 Điều 12",
        1,
        0,
        items=BIRTH_ITEMS,
        implemented=True,
    ),
    Service(
        "death-registration",
        10,
        "Đăng ký khai tử",
        "Death registration",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã nơi cư trú cuối cùng của người chết",
        "Luật Hộ tịch 2014 Điều 32–34; Luật Cư trú 2020 Điều 24 (xóa đăng ký thường trú)",
        1,
        0,
        items=DEATH_ITEMS,
        implemented=True,
    ),
    Service(
        "marriage-registration",
        11,
        "Đăng ký kết hôn",
        "Marriage registration",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã nơi cư trú của một bên",
        "Luật Hộ tịch 2014 Điều 17–18; Luật Hôn nhân và gia đình 2014 Điều 5, 8; Nghị định 123/2015/NĐ-CP",
        3,
        0,
        level=2,
        items=(
            *_APPLICANT,
            _c("partner_id_number", "Số định danh của bên kia", "Partner's ID number", "id_number"),
            _c("partner_full_name", "Họ tên của bên kia", "Partner's full name"),
        ),
        implemented=True,
        counterpart="partner_id_number",
    ),
    Service(
        "passport",
        12,
        "Cấp, gia hạn hộ chiếu phổ thông",
        "Ordinary passport issue or re-issue",
        POLICE_CITY,
        "Công an thành phố",
        "Luật Xuất cảnh, nhập cảnh 2019",
        8,
        200000,
        level=2,
        items=_APPLICANT,
    ),
    Service(
        "seal-new",
        13,
        "Đăng ký mẫu con dấu mới",
        "New seal and seal registration certificate",
        POLICE_CITY,
        "Công an thành phố",
        "Nghị định 99/2016/NĐ-CP",
        3,
        50000,
        level=2,
        items=_APPLICANT,
    ),
    Service(
        "seal-replacement",
        14,
        "Đăng ký lại mẫu con dấu",
        "Replacement seal and certificate",
        POLICE_CITY,
        "Công an thành phố",
        "Nghị định 99/2016/NĐ-CP",
        3,
        50000,
        level=2,
        items=_APPLICANT,
    ),
    Service(
        "birth-joint",
        15,
        "Liên thông: khai sinh, thường trú, cấp thẻ BHYT cho trẻ dưới 6 tuổi",
        "Joint: birth, permanent residence, child health insurance",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã",
        "Nghị định 63/2024/NĐ-CP; Luật Hộ tịch 2014 Điều 13–17; Luật Bảo hiểm y tế 2008 Điều 12, 16",
        5,
        0,
        items=BIRTH_ITEMS,
        implemented=True,
    ),
    Service(
        "death-joint",
        16,
        "Liên thông: khai tử, xóa đăng ký thường trú, hưởng mai táng phí",
        "Joint: death, residence removal, funeral allowance",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã",
        "Nghị định 63/2024/NĐ-CP; Luật Hộ tịch 2014 Điều 32–34; Luật Cư trú 2020 Điều 24; "
        "Luật Bảo hiểm xã hội 2024 Điều 86",
        5,
        0,
        items=DEATH_ITEMS,
        implemented=True,
    ),
    Service(
        "health-insurance-renewal",
        17,
        "Gia hạn thẻ BHYT theo hộ gia đình",
        "Household health-insurance renewal",
        OTHER,
        "Bảo hiểm xã hội",
        "Luật Bảo hiểm y tế 2008 (sửa đổi 2014) Điều 12, 13; Nghị định 146/2018/NĐ-CP Điều 7",
        0,
        0,
        items=(
            *_APPLICANT,
            HOUSEHOLD,
            _c(
                "months",
                "Số tháng gia hạn",
                "Months to renew",
                "choice",
                choices=(("3", "3"), ("6", "6"), ("12", "12")),
            ),
            _s("hi_cards", "Thẻ BHYT của hộ", "Household health-insurance cards"),
        ),
        implemented=True,
        pay_first=True,
    ),
    Service(
        "land-credit",
        18,
        "Đăng ký biến động đất đai để vay vốn",
        "Land/house change registration for credit",
        DEPARTMENT,
        "Văn phòng đăng ký đất đai",
        "Luật Đất đai 2024",
        10,
        0,
        level=2,
        items=_APPLICANT,
    ),
    Service(
        "land-holder-change",
        19,
        "Đăng ký biến động do thay đổi thông tin người sử dụng đất",
        "Land registration after the holder's identity or address changes",
        DEPARTMENT,
        "Văn phòng đăng ký đất đai",
        "Luật Đất đai 2024",
        10,
        0,
        level=2,
        items=_APPLICANT,
    ),
    Service(
        "driving-licence",
        20,
        "Cấp đổi, cấp lại giấy phép lái xe",
        "Driving-licence replacement or re-issue",
        DEPARTMENT,
        "Sở Xây dựng",
        "Luật Trật tự, an toàn giao thông đường bộ 2024 Điều 57, 62; Thông tư 35/2024/TT-BGTVT; "
        "Thông tư 37/2023/TT-BTC",
        5,
        135000,
        level=2,
        items=(
            *_APPLICANT,
            _c("licence_number", "Số giấy phép lái xe", "Licence number", max_length=12),
            _c("reason", "Lý do", "Reason", "choice", choices=LICENCE_REASONS),
            _c(
                "health_certificate",
                "Số giấy khám sức khỏe điện tử (trừ hạng A1, A, B1)",
                "E-health certificate number (except A1, A, B1)",
                required=False,
                max_length=30,
            ),
            _s("licence_class", "Hạng giấy phép", "Licence class"),
            _s("licence_expires_on", "Giấy phép hết hạn", "Licence expires"),
        ),
        implemented=True,
        agency="construction",
    ),
    Service(
        "exam-registration",
        21,
        "Đăng ký thi tốt nghiệp THPT và xét tuyển đại học",
        "High-school exam and university admission registration",
        OTHER,
        "Sở Giáo dục và Đào tạo",
        "Quy chế thi của Bộ GD&ĐT",
        0,
        0,
        items=_APPLICANT,
    ),
    Service(
        "criminal-record",
        22,
        "Cấp phiếu lý lịch tư pháp",
        "Criminal record certificate",
        DEPARTMENT,
        "Sở Tư pháp",
        "Luật Lý lịch tư pháp 2009 Điều 41–48; Thông tư 244/2016/TT-BTC",
        10,
        200000,
        level=2,
        items=(
            *_APPLICANT,
            NATIONALITY,
            _c(
                "form",
                "Loại phiếu",
                "Certificate form",
                "choice",
                choices=(("1", "Phiếu số 1"), ("2", "Phiếu số 2")),
            ),
            _c("purpose", "Mục đích sử dụng", "Purpose of use"),
        ),
        implemented=True,
        agency="justice",
        steps=(
            Step(POLICE_CITY, "Công an thành phố xác minh (Luật LLTP Điều 47)"),
            Step(DEPARTMENT, "Sở Tư pháp cấp phiếu", "justice"),
        ),
    ),
    Service(
        "unemployment-benefit",
        23,
        "Giải quyết hưởng trợ cấp thất nghiệp",
        "Unemployment benefit",
        DEPARTMENT,
        "Sở Nội vụ (Trung tâm dịch vụ việc làm)",
        "Luật Việc làm 2013 Điều 46, 49, 50; Nghị định 28/2015/NĐ-CP; Nghị định 74/2024/NĐ-CP",
        20,
        0,
        level=2,
        items=(
            *_APPLICANT,
            _c("employer", "Đơn vị sử dụng lao động cuối cùng", "Last employer"),
            _c("contract_end", "Ngày chấm dứt hợp đồng lao động", "Contract end date", "date"),
            _c("termination", "Lý do chấm dứt", "Reason the contract ended", "choice", choices=TERMINATIONS),
            _s("ui_months", "Số tháng đóng BHTN trong 24 tháng", "Months of unemployment insurance in 24"),
        ),
        implemented=True,
        agency="home_affairs",
        steps=(
            Step(DEPARTMENT, "Trung tâm dịch vụ việc làm thẩm định", "home_affairs"),
            Step(DEPARTMENT, "Giám đốc Sở Nội vụ quyết định (Luật Việc làm Điều 46 khoản 3)", "home_affairs"),
        ),
    ),
    Service(
        "electricity-new",
        24,
        "Cấp điện mới từ lưới điện hạ áp",
        "New low-voltage electricity connection",
        OTHER,
        "Công ty điện lực",
        "Thông tư 25/2016/TT-BCT",
        3,
        0,
        items=(*_APPLICANT, _c("supply_address", "Địa chỉ cấp điện", "Supply address", "address")),
    ),
    Service(
        "electricity-change",
        25,
        "Thay đổi chủ thể hợp đồng mua bán điện",
        "Change of electricity contract party",
        OTHER,
        "Công ty điện lực",
        "Thông tư 16/2014/TT-BCT",
        3,
        0,
        items=(*_APPLICANT, _c("contract_number", "Số hợp đồng", "Contract number")),
    ),
    Service(
        "eid-level2",
        26,
        "Đề nghị cấp tài khoản định danh điện tử mức độ 2",
        "Request for a level-2 electronic identification account",
        POLICE,
        "Công an cấp xã nơi thường trú",
        "Nghị định 69/2024/NĐ-CP Điều 12, 13, 16",
        3,
        0,
        items=(
            *_APPLICANT,
            CARDS,
            PHONE,
            _c("appointment", "Ngày hẹn đến Công an xã, phường", "Appointment at the ward police", "date"),
        ),
        implemented=True,
    ),
    Service(
        "civil-status-change",
        27,
        "Thay đổi, cải chính thông tin hộ tịch",
        "Change or correction of civil-status details",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã",
        "Luật Hộ tịch 2014 Điều 26–28; Bộ luật Dân sự 2015 Điều 28, 29; Nghị định 123/2015/NĐ-CP Điều 7",
        3,
        0,
        level=2,
        items=(
            *_APPLICANT,
            ETHNICITY,
            _c(
                "field",
                "Thông tin cần thay đổi, cải chính",
                "Detail to change",
                "choice",
                choices=CIVIL_FIELDS,
            ),
            _c("new_value", "Nội dung mới", "New value", max_length=100),
            _c("grounds", "Căn cứ (sai sót khi đăng ký, quyết định của cơ quan…)", "Grounds"),
        ),
        implemented=True,
    ),
    Service(
        "household-separation",
        28,
        "Tách hộ",
        "Household separation",
        POLICE,
        "Công an cấp xã nơi thường trú",
        "Luật Cư trú 2020 Điều 25; Nghị định 154/2024/NĐ-CP",
        5,
        10000,
        level=2,
        items=(
            *_APPLICANT,
            HOUSEHOLD,
            _c("head_id_number", "Số định danh của chủ hộ hiện tại", "Current head's ID number", "id_number"),
            _c("grounds", "Lý do tách hộ", "Reason for the separation"),
        ),
        implemented=True,
        counterpart="head_id_number",
    ),
    Service(
        "temporary-residence-extension",
        29,
        "Gia hạn tạm trú",
        "Extension of temporary residence",
        POLICE,
        "Công an cấp xã nơi tạm trú",
        "Luật Cư trú 2020 Điều 27, 28 khoản 3; Thông tư 55/2021/TT-BCA Điều 16",
        3,
        0,
        items=(*_APPLICANT, TEMPORARY, PHONE, _c("stay_until", "Gia hạn đến ngày", "Extended until", "date")),
        implemented=True,
    ),
)

BY_CODE: dict[str, Service] = {s.code: s for s in SERVICES}


def get(code: str) -> Service | None:
    return BY_CODE.get(code)


def implemented() -> list[Service]:
    return [s for s in SERVICES if s.implemented]
