"""The catalogue of essential online public services (Project 06, Decision 06/QĐ-TTg; domain-vn §9).

Kept as data in code, reviewed like code: each service names its competent authority (an
organisation kind — the one of the dossier's ward handles it), legal basis, statutory processing
time in working days, fee, the assurance level of the eID log-in it needs, and its data items, each
with **where it comes from**:

* ``registry`` — the population registry, read through its service function (once-only: the
  citizen never types it);
* ``eid`` — another block: the citizen's eID account (verified contacts);
* ``citizen`` — no registry holds it: the citizen supplies it.

``implemented`` marks the services whose dossiers run end to end without paper in this
application (``handlers.HANDLERS``); the rest are catalogued for the next increments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REGISTRY = "registry"
EID = "eid"
CITIZEN = "citizen"
SOURCES = (REGISTRY, EID, CITIZEN)

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
    kind: str = "text"  # text | date | choice | id_number | cmnd | address
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    max_length: int = 255


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

    @property
    def paperless(self) -> bool:
        """Runs online with no paper dossier: implemented here, every item from a registry or
        typed by the citizen (no upload)."""
        return self.implemented

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)

    def citizen_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.source == CITIZEN)


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
PHONE = Item("phone", "Số điện thoại", "Phone number", EID, registry_field="", required=False)
_APPLICANT = (NAME, ID, DOB, SEX, PERMANENT)

SEX_CHOICES = (("M", "Nam / Male"), ("F", "Nữ / Female"))


def _c(key: str, vi: str, en: str, kind: str = "text", **kw: object) -> Item:
    return Item(key, vi, en, CITIZEN, kind=kind, **kw)  # type: ignore[arg-type]


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
        "Cấp đổi, cấp lại thẻ Căn cước",
        "Re-issue or replacement of the identity card",
        POLICE,
        "Công an cấp xã",
        "Luật Căn cước 2023 Điều 24; Thông tư 59/2021/TT-BTC",
        7,
        30000,
        level=2,
        items=(*_APPLICANT, _c("reason", "Lý do cấp đổi, cấp lại", "Reason")),
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
        "Công an cấp xã",
        "Luật Cư trú 2020 Điều 30",
        0,
        0,
        items=(*_APPLICANT, _c("stay_address", "Nơi lưu trú", "Place of stay", "address")),
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
        "Công an thành phố",
        "Nghị định 135/2021/NĐ-CP",
        0,
        0,
        items=(*_APPLICANT, _c("decision_number", "Số quyết định xử phạt", "Penalty decision number")),
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
        items=(
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
        ),
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
        items=(
            *_APPLICANT,
            _c("deceased_id_number", "Số định danh của người chết", "The deceased's ID number", "id_number"),
            _c("deceased_full_name", "Họ tên người chết", "The deceased's full name"),
            _c("date_of_death", "Ngày chết", "Date of death", "date"),
            _c("death_notice", "Số giấy báo tử", "Death notice number"),
            _c("relationship", "Quan hệ với người chết", "Relationship to the deceased"),
        ),
        implemented=True,
    ),
    Service(
        "marriage-registration",
        11,
        "Đăng ký kết hôn",
        "Marriage registration",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã",
        "Luật Hộ tịch 2014 Điều 17–18",
        3,
        0,
        level=2,
        items=(
            *_APPLICANT,
            _c("partner_id_number", "Số định danh của bên kia", "Partner's ID number", "id_number"),
        ),
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
        "Nghị định 63/2024/NĐ-CP",
        5,
        0,
        items=_APPLICANT,
    ),
    Service(
        "death-joint",
        16,
        "Liên thông: khai tử, xóa đăng ký thường trú, hưởng mai táng phí",
        "Joint: death, residence removal, funeral allowance",
        COMMITTEE,
        "Ủy ban nhân dân cấp xã",
        "Nghị định 63/2024/NĐ-CP",
        5,
        0,
        items=_APPLICANT,
    ),
    Service(
        "health-insurance-renewal",
        17,
        "Gia hạn thẻ BHYT theo hộ gia đình",
        "Household health-insurance renewal",
        OTHER,
        "Bảo hiểm xã hội",
        "Luật Bảo hiểm y tế 2008",
        1,
        0,
        items=(*_APPLICANT, HOUSEHOLD),
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
        "Thông tư 12/2017/TT-BGTVT",
        5,
        135000,
        level=2,
        items=(*_APPLICANT, _c("licence_number", "Số giấy phép lái xe", "Licence number")),
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
        "Luật Lý lịch tư pháp 2009 Điều 45–48",
        10,
        200000,
        level=2,
        items=(*_APPLICANT, _c("purpose", "Mục đích sử dụng", "Purpose of use")),
    ),
    Service(
        "unemployment-benefit",
        23,
        "Giải quyết hưởng trợ cấp thất nghiệp",
        "Unemployment benefit",
        DEPARTMENT,
        "Sở Nội vụ (Trung tâm dịch vụ việc làm)",
        "Luật Việc làm 2013 Điều 46",
        20,
        0,
        level=2,
        items=_APPLICANT,
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
)

BY_CODE: dict[str, Service] = {s.code: s for s in SERVICES}


def get(code: str) -> Service | None:
    return BY_CODE.get(code)


def implemented() -> list[Service]:
    return [s for s in SERVICES if s.implemented]
