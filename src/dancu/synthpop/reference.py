"""Reference figures of the synthetic population, each with its source.

Shares marked "approximate" were read off published summaries, not taken from the census tables
cell by cell; "(verify)" marks a secondary source (design/domain-vn.md convention). They shape a
plausible population for tests and benchmarks; they are not statistics.
"""

from __future__ import annotations

from datetime import date

# --------------------------------------------------------------------------- age pyramid
# Viet Nam 2019 Population and Housing Census (GSO, completed results, December 2019): population
# by five-year age group, in percent of the total (approximate, read from the published pyramid;
# verify against the GSO table). The last band is 80+ (the generator caps ages at 100).
AGE_BANDS_2019: tuple[tuple[int, int, float], ...] = (
    (0, 5, 8.4), (5, 10, 8.8), (10, 15, 7.7), (15, 20, 6.9), (20, 25, 7.0), (25, 30, 8.1),
    (30, 35, 8.5), (35, 40, 7.9), (40, 45, 7.3), (45, 50, 6.6), (50, 55, 5.9), (55, 60, 5.3),
    (60, 65, 4.3), (65, 70, 3.0), (70, 75, 1.9), (75, 80, 1.2), (80, 101, 1.9),
)  # fmt: skip

# Average household size: 3.5 persons (2019 census, GSO press release of 19/12/2019).
TARGET_MEAN_HOUSEHOLD_SIZE = 3.5
# Sex ratio at birth 111.5 boys per 100 girls (2019 census) → share of boys among children.
BOY_SHARE = 111.5 / 211.5

# --------------------------------------------------------------------------- ethnicity, religion
# Ethnic groups, percent. Hà Nội: Kinh about 98.7 % (2019 census, Hà Nội results; the minority
# split is approximate). Elsewhere the national shares of the 2019 census: Kinh 85.3 %, Tày 1.9 %,
# Thái 1.9 %, Mường 1.5 %, H'Mông 1.5 %, Khmer 1.4 %, Nùng 1.1 %, Dao 0.9 %, Hoa 0.8 %.
ETHNICITY_HANOI: tuple[tuple[str, float], ...] = (
    ("Kinh", 98.7), ("Mường", 0.75), ("Tày", 0.2), ("Thái", 0.1), ("Nùng", 0.1), ("Dao", 0.05),
    ("Hoa", 0.05), ("Sán Dìu", 0.05),
)  # fmt: skip
ETHNICITY_NATIONAL: tuple[tuple[str, float], ...] = (
    ("Kinh", 85.3), ("Tày", 1.9), ("Thái", 1.9), ("Mường", 1.5), ("H'Mông", 1.5), ("Khmer", 1.4),
    ("Nùng", 1.1), ("Dao", 0.9), ("Hoa", 0.8), ("Gia Rai", 0.5), ("Ê Đê", 0.4), ("Ba Na", 0.3),
    ("Sán Chay", 0.2), ("Chăm", 0.2),
)  # fmt: skip

# Religion, percent ("Không" = none, as printed on cards). National, 2019 census: 13.7 % follow a
# religion — Catholicism 6.1 %, Buddhism 4.8 %, Protestantism 1.0 %, Hòa Hảo 1.0 %, Cao Đài 0.6 %.
# Hà Nội: approximate (few Hòa Hảo or Cao Đài followers in the north).
RELIGION_HANOI: tuple[tuple[str, float], ...] = (
    ("Không", 91.0), ("Phật giáo", 5.0), ("Công giáo", 3.5), ("Tin lành", 0.5),
)  # fmt: skip
RELIGION_NATIONAL: tuple[tuple[str, float], ...] = (
    ("Không", 86.3), ("Công giáo", 6.1), ("Phật giáo", 4.8), ("Tin lành", 1.0), ("Phật giáo Hòa Hảo", 1.0),
    ("Cao Đài", 0.6), ("Hồi giáo", 0.2),
)  # fmt: skip

# --------------------------------------------------------------------------- migration
# Where people living in Hà Nội had their birth registered, for those born outside the city:
# relative weights by legacy province code (Circular 07/2016/TT-BCA Appendix 1). Approximate,
# from the pattern of the 2019 census migration tables (neighbouring Red River Delta and North
# Central provinces send most migrants to Hà Nội); every other legacy province gets weight 1.
HANOI_MIGRANT_ORIGIN_WEIGHTS: dict[str, float] = {
    "036": 9, "034": 8, "038": 8, "040": 8, "035": 6, "030": 6, "033": 6, "027": 5, "024": 5,
    "025": 5, "026": 5, "037": 5, "042": 5, "017": 4, "019": 4, "022": 3, "031": 3, "020": 2,
    "008": 2, "015": 2, "014": 2, "010": 2, "044": 2, "045": 2, "046": 2,
}  # fmt: skip

# Share of people born outside the province, by age band (approximate, assumption): children are
# mostly born where their parents live, working-age adults most often moved in.
MIGRANT_SHARE_BY_AGE: tuple[tuple[int, float], ...] = ((15, 0.06), (25, 0.18), (60, 0.27), (101, 0.15))

# --------------------------------------------------------------------------- CMND
# The old 9-digit identity card (CMND): its first two digits name the province police that issued
# it. Hà Nội is "01". The other codes are from secondary sources (the numbering of Decision
# 998/2001/QĐ-BCA as commonly quoted) (verify). Keys: legacy province codes.
CMND_PREFIX_BY_LEGACY_PROVINCE: dict[str, str] = {
    "001": "01", "079": "02", "031": "03", "011": "04", "012": "04", "014": "05", "010": "06",
    "015": "06", "002": "07", "008": "07", "020": "08", "004": "08", "019": "09", "006": "09",
    "022": "10", "017": "11", "024": "12", "027": "12", "025": "13", "026": "13", "030": "14",
    "033": "14", "034": "15", "036": "16", "035": "16", "037": "16", "038": "17", "040": "18",
    "042": "18", "044": "19", "045": "19", "046": "19", "049": "20", "048": "20", "051": "21",
    "052": "21", "056": "22", "054": "22", "064": "23", "062": "23", "066": "24", "067": "24",
    "068": "25", "058": "26", "060": "26", "075": "27", "077": "27", "074": "28", "070": "28",
    "072": "29", "080": "30", "082": "31", "083": "32", "086": "33", "084": "33", "087": "34",
    "089": "35", "092": "36", "094": "36", "093": "36", "091": "37", "096": "38", "095": "38",
}  # fmt: skip
# CMND were issued from age 14; Hà Nội issued 12-digit citizen identity cards instead from 2016
# (Law on Citizen Identification 2014, in force 01/01/2016). People who turned 14 before this date
# had a CMND.
CMND_LAST_ISSUE = date(2015, 12, 31)
CMND_FIRST_ISSUE = date(1995, 1, 1)  # earliest "latest CMND" kept: CMND were renewed every 15 years
CMND_HOLDER_SHARE = 0.97

# --------------------------------------------------------------------------- identity cards
# Chip CCCD issued from 01/01/2021 (Circular 06/2021/TT-BCA); the Law on Identification 2023 took
# effect on 01/07/2024, from when new cards are "thẻ căn cước" (Circular 16/2024/TT-BCA).
CHIP_CCCD_FROM = date(2021, 1, 1)
CAN_CUOC_FROM = date(2024, 7, 1)
# Law on Identification 2023 Art. 21(1): the card must be renewed at 14, 25, 40 and 60.
CARD_RENEWAL_AGES: tuple[int, ...] = (14, 25, 40, 60)
# Art. 21(2): a card issued within 2 years before one of those ages stays valid until the next.
CARD_GRACE_YEARS = 2
CARD_MIN_AGE = 14

# --------------------------------------------------------------------------- addresses
# Street names (many Vietnamese cities name streets after the same historical figures and places;
# a street is not checked to lie in the generated ward). Inner Hà Nội calls streets "phố".
STREETS: tuple[str, ...] = (
    "Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
    "Lê Duẩn", "Hoàng Hoa Thám", "Nguyễn Chí Thanh", "Kim Mã", "Xuân Diệu", "Lạc Long Quân",
    "Âu Cơ", "Thụy Khuê", "Láng", "Giải Phóng", "Tôn Đức Thắng", "Cầu Giấy", "Xuân Thủy",
    "Trần Duy Hưng", "Nguyễn Văn Cừ", "Ngọc Lâm", "Minh Khai", "Bạch Mai", "Đội Cấn", "Văn Cao",
    "Nguyễn Khánh Toàn", "Hoàng Quốc Việt", "Phạm Văn Đồng", "Trường Chinh", "Tây Sơn",
    "Khâm Thiên", "Lê Thanh Nghị", "Đại La", "Kim Ngưu", "Lĩnh Nam", "Tam Trinh", "Nguyễn Tuân",
    "Khương Trung", "Vũ Trọng Phụng", "Quan Nhân", "Phùng Hưng", "Tô Hiệu", "Chiến Thắng",
    "Nguyễn Văn Linh", "Ngô Gia Tự", "Đức Giang", "Lạc Trung",
    "Hồng Hà", "Yên Phụ", "Trích Sài", "Võng Thị", "Đặng Thai Mai", "Tô Ngọc Vân", "Quảng An",
)  # fmt: skip
VILLAGE_NAMES: tuple[str, ...] = (
    "Đông", "Đoài", "Thượng", "Hạ", "Trung", "Nam", "Bắc", "Đình", "Chùa", "Mới", "Yên Lạc",
    "Phú Mỹ", "An Thái", "Văn Lâm", "Đồng Tâm", "Phú Đa", "Hòa Bình", "Tân Lập", "Đại Đồng",
    "Thạch Bích", "Phượng Dực", "Bình Minh", "Cổ Hiền", "Xuân Dục", "Liên Hiệp", "Vân Hà",
)  # fmt: skip
