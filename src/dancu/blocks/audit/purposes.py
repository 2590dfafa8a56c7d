"""Purpose codes: every access to personal data names one (purpose limitation, Law 91/2025 Art. 3).

A purpose says why data is processed and on what legal basis. Which organisations and roles may
invoke a purpose is decided by ``dancu.blocks.organisations.policy``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dancu.errors import DomainValidationError


@dataclass(frozen=True)
class Purpose:
    code: str
    name_vi: str
    name_en: str
    legal_basis: str


_ALL = [
    Purpose(
        "registry.administration",
        "Quản lý cơ sở dữ liệu dân cư",
        "Population registry administration",
        "Luật Cư trú 2020; Luật Căn cước 2023 Điều 10",
    ),
    Purpose(
        "civil_status.guardianship",
        "Đăng ký giám hộ, ghi nhận quyết định của Tòa án hạn chế quyền của cha, mẹ đối với con "
        "chưa thành niên",
        "Registering guardianships and recording court decisions restricting a parent's rights over a minor",
        "Luật Hộ tịch 2014 Điều 20–23; Bộ luật Dân sự 2015 Điều 46–62; "
        "Luật Hôn nhân và gia đình 2014 Điều 85",
    ),
    Purpose(
        "registry.lookup",
        "Tra cứu thông tin công dân phục vụ công tác",
        "Look up a citizen for official duties",
        "Luật Căn cước 2023 Điều 11; Nghị định 70/2024/NĐ-CP",
    ),
    Purpose(
        "security.investigation",
        "Bảo đảm an ninh, trật tự",
        "Security and public order",
        "Luật Cư trú 2020 Điều 30; Thông tư 55/2021/TT-BCA",
    ),
    Purpose(
        "security.alert_screening",
        "Đối chiếu danh sách cảnh báo của cơ quan công an",
        "Screening verifications against a police alert list",
        "Luật Công an nhân dân 2014 Điều 16; Nghị định 96/2016/NĐ-CP Điều 25–26; "
        "Nghị định 13/2023/NĐ-CP Điều 17",
    ),
    Purpose(
        "identity.verification",
        "Xác thực danh tính người đến giao dịch",
        "Verify the identity of a person being served",
        "Nghị định 69/2024/NĐ-CP",
    ),
    Purpose(
        "residence.notification",
        "Thông báo lưu trú",
        "Residence notification",
        "Luật Cư trú 2020 Điều 30; Thông tư 55/2021/TT-BCA Điều 15",
    ),
    Purpose(
        "statistics.aggregate",
        "Thống kê tổng hợp ẩn danh (lưu trú: du lịch, y tế, khu công nghiệp)",
        "Anonymised aggregate statistics (residence: tourism, health, industrial zones)",
        "Luật Thống kê 2015 (sử dụng dữ liệu hành chính); Nghị định 13/2023/NĐ-CP (dữ liệu đã khử nhận dạng)",
    ),
    Purpose(
        "public_service.processing",
        "Giải quyết thủ tục hành chính",
        "Processing an administrative procedure",
        "Nghị định 45/2020/NĐ-CP; Nghị định 107/2021/NĐ-CP",
    ),
    Purpose(
        "social_policy.credit",
        "Xét điều kiện vay vốn tín dụng chính sách xã hội (chỉ trả lời có/không và mã lý do)",
        "Checking eligibility for a social-policy loan (a yes/no answer with reason codes only)",
        "Nghị định 78/2002/NĐ-CP Điều 2; Quyết định 06/QĐ-TTg 2022 (mô hình 20); "
        "Luật Bảo vệ dữ liệu cá nhân 2025 (Luật 91/2025/QH15) Điều 3 (tối thiểu hóa dữ liệu)",
    ),
    Purpose(
        "data.cleaning",
        "Làm sạch dữ liệu chuyên ngành",
        "Cleaning sector data against the population database",
        "Quyết định 06/QĐ-TTg 2022",
    ),
    Purpose(
        "citizen.self_access",
        "Công dân xem dữ liệu của mình",
        "Citizen viewing their own data",
        "Luật Bảo vệ dữ liệu cá nhân 2025 (Luật 91/2025/QH15)",
    ),
    Purpose(
        "eid.registration",
        "Đăng ký, phê duyệt tài khoản định danh điện tử mức độ 1",
        "Registering and approving a level-1 electronic identification account",
        "Nghị định 69/2024/NĐ-CP Điều 12, 14, 15",
    ),
    Purpose(
        "eid.activation",
        "Kích hoạt tài khoản định danh điện tử mức độ 2 tại cơ quan công an",
        "Activating a level-2 electronic identification account at a police desk",
        "Nghị định 69/2024/NĐ-CP Điều 13, 14, 16",
    ),
    Purpose(
        "eid.account",
        "Quản lý, bảo vệ tài khoản định danh điện tử (đăng nhập, khóa, khôi phục)",
        "Operating and protecting an electronic identification account (log-in, lockout, recovery)",
        "Nghị định 69/2024/NĐ-CP Điều 17, 18, 22",
    ),
    Purpose(
        "sso.claims_release",
        "Cung cấp thông tin cho dịch vụ mà công dân đăng nhập bằng tài khoản định danh điện tử",
        "Releasing a citizen's data to a service they sign in to with their e-identification account",
        "Nghị định 69/2024/NĐ-CP Điều 13–14, 17; Luật Bảo vệ dữ liệu cá nhân 2025 (Luật 91/2025/QH15) "
        "Điều 9 (sự đồng ý của chủ thể dữ liệu)",
    ),
    Purpose(
        "exchange.evidence",
        "Kiểm tra nhật ký, cung cấp chứng cứ trao đổi dữ liệu qua trục liên thông",
        "Reviewing the data exchange log and exporting evidence of an exchange",
        "Nghị định 47/2020/NĐ-CP Điều 18; Luật Bảo vệ dữ liệu cá nhân 2025 (Luật 91/2025/QH15)",
    ),
    Purpose(
        "system.import",
        "Nhập dữ liệu hàng loạt",
        "Bulk import of registry data",
        "Luật Căn cước 2023 Điều 10",
    ),
]

PURPOSES: dict[str, Purpose] = {p.code: p for p in _ALL}


def get_purpose(code: str) -> Purpose:
    """The purpose with this code, or a validation error naming the field ``purpose``."""
    try:
        return PURPOSES[code]
    except KeyError:
        raise DomainValidationError.single(
            "purpose",
            "unknown_purpose",
            f"unknown purpose code {code!r}; known: {', '.join(sorted(PURPOSES))}",
        ) from None
