"""Name tables of the synthetic population: surnames with their shares, middle and given names.

Vietnamese names are written family – middle – given (design/domain-vn.md §7). Text is NFC and
uses the platform's "old" tone placement (Hòa, Thủy), as ``dancu.blocks.registry.names`` does.

Sources:

* Surname shares: domain-vn §7, i.e. the figures commonly quoted from the surname survey in Lê
  Trung Hoa, *Họ và tên người Việt Nam* (2005) and reproduced in the Wikipedia article
  "Vietnamese name": Nguyễn ~38 %, Trần 11 %, Lê 9.5 %, Phạm 7 %, Hoàng/Huỳnh 5 %, Phan 4.5 %,
  Vũ/Võ 3.9 %, Đặng 2.1 %, Bùi 2 %, Đỗ 1.4 %, Hồ 1.3 %, Ngô 1.3 %, Dương 1 %, Lý 0.5 %; the 14
  names cover about 90 % of people. Hoàng/Huỳnh and Vũ/Võ are one name written the northern and
  the southern way; the split below favours the northern form (Hà Nội first) and is an
  assumption (verify per province).
* Middle and given names: common names in current use; their weights are a Zipf-like
  assumption, not survey data. "Văn" (male) and "Thị" (female) are the traditional middle names;
  their share falls in younger cohorts (see ``dancu.synthpop.generator._middle_names``).
"""

from __future__ import annotations

# (surname, percent). The 14 named shares above, then a tail that fills the remaining ~11.5 %.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0),
    ("Hoàng", 4.5), ("Huỳnh", 0.5),  # Hoàng/Huỳnh 5 % together
    ("Phan", 4.5),
    ("Vũ", 3.4), ("Võ", 0.5),  # Vũ/Võ 3.9 % together
    ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5),
)  # fmt: skip
NAMED_SURNAME_SHARE = sum(p for _, p in SURNAMES)  # 88.5

# The tail: less common surnames, weights relative to each other (scaled to 100 − 88.5 %).
SURNAME_TAIL: tuple[tuple[str, float], ...] = (
    ("Đinh", 1.0), ("Đào", 0.9), ("Trịnh", 0.8), ("Mai", 0.6), ("Lương", 0.6), ("Cao", 0.6),
    ("Đoàn", 0.6), ("Trương", 0.5), ("Lưu", 0.5), ("Hà", 0.5), ("Tạ", 0.4), ("Tô", 0.4), ("Chu", 0.4),
    ("Vương", 0.4), ("Lâm", 0.4), ("Kiều", 0.3), ("Tống", 0.3), ("Quách", 0.3), ("Thái", 0.3),
    ("Triệu", 0.3), ("Lại", 0.3), ("Phùng", 0.3), ("Nghiêm", 0.2), ("Khúc", 0.2), ("Nông", 0.2),
    ("Giang", 0.2), ("Thân", 0.2), ("Khổng", 0.1), ("Mạc", 0.1), ("Lục", 0.1), ("Hứa", 0.1),
    ("Ninh", 0.1), ("Âu", 0.1), ("La", 0.1), ("Văn", 0.1), ("Kim", 0.1),
)  # fmt: skip

# Middle names other than Văn/Thị, most common first.
MALE_MIDDLE: tuple[str, ...] = (
    "Đức", "Minh", "Hữu", "Quang", "Công", "Đình", "Xuân", "Thanh", "Ngọc", "Tuấn", "Quốc", "Anh",
    "Gia", "Hoàng", "Mạnh", "Trọng", "Việt", "Thành", "Duy", "Hải", "Trung", "Tiến", "Khắc", "Đăng",
    "Bảo", "Nhật", "Huy", "Phúc", "Thế", "Bá",
)  # fmt: skip
FEMALE_MIDDLE: tuple[str, ...] = (
    "Ngọc", "Thu", "Thanh", "Thùy", "Minh", "Phương", "Hồng", "Bảo", "Khánh", "Mai", "Hải", "Kim",
    "Hoài", "Diệu", "Lan", "Thảo", "Bích", "Tuyết", "Vân", "Mỹ", "Thúy", "Gia", "Như", "Cẩm", "Ánh",
    "Thị Thu", "Thị Thanh", "Thị Ngọc", "Thị Minh", "Thị Kim", "Thị Hồng",
)  # fmt: skip

# Given names, most common first. A few (An, Anh, Bình, Giang, Hà, Hải, Hòa, Khánh, Minh, Phương,
# Tâm, Thanh, Xuân) are given to both sexes and appear in both lists.
MALE_GIVEN: tuple[str, ...] = (
    "Minh", "Anh", "Dũng", "Hùng", "Tuấn", "Nam", "Hải", "Long", "Sơn", "Thắng", "Cường", "Đức",
    "Hiếu", "Huy", "Quang", "Trung", "Thành", "Tùng", "Khánh", "Phong", "Bình", "Hoàng", "Kiên",
    "Quân", "Việt", "Vinh", "Hưng", "Mạnh", "Tiến", "Toàn", "Dương", "Đạt", "Duy", "Phúc", "Khoa",
    "Lâm", "Tâm", "Trường", "Thái", "Hòa", "Lộc", "Nghĩa", "Bảo", "An", "Giang", "Thanh", "Phú",
    "Tài", "Tú", "Hà", "Chiến", "Công", "Hiệp", "Khải", "Khang", "Khôi", "Lợi", "Luân", "Nhân",
    "Phát", "Quý", "Thịnh", "Thiện", "Trí", "Trọng", "Vũ", "Xuân", "Chính", "Định", "Hậu", "Lực",
    "Ninh", "Tân", "Thông", "Bách", "Cảnh", "Danh", "Đại", "Hào", "Nguyên",
)  # fmt: skip
FEMALE_GIVEN: tuple[str, ...] = (
    "Linh", "Hương", "Trang", "Anh", "Hà", "Lan", "Mai", "Hằng", "Thảo", "Ngọc", "Phương", "Hoa",
    "Huyền", "Nga", "Thủy", "Hạnh", "Yến", "Dung", "Hiền", "Nhung", "Vân", "Giang", "Thu", "Quỳnh",
    "Oanh", "Loan", "Nhi", "Ly", "Chi", "My", "Tuyết", "Thúy", "Vy", "Hồng", "Ánh", "Bích", "Duyên",
    "Hoài", "Huệ", "Hường", "Liên", "Minh", "Ngân", "Nguyệt", "Nhàn", "Tâm", "Thanh", "Thư", "Trâm",
    "Uyên", "Xuân", "An", "Diệp", "Diệu", "Hảo", "Hòa", "Khánh", "Lệ", "Liễu", "Nhài", "Phượng",
    "Quyên", "Thắm", "Thoa", "Thơ", "Thương", "Trinh", "Châu", "Bình", "Hải",
)  # fmt: skip


def zipf_weights(count: int, offset: float = 4.0) -> list[float]:
    """Relative weights 1/(rank + offset): a few names common, a long tail (an assumption)."""
    return [1.0 / (rank + offset) for rank in range(count)]
