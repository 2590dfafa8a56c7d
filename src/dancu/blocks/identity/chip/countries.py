"""ISO 3166-1 alpha-2 (a CSCA certificate's ``countryName``, RFC 5280) → the three-letter code
an MRZ writes for the issuing state (ICAO Doc 9303 part 3 §5: ISO 3166-1 alpha-3, except
Germany, written ``D``).

A CSCA certificate names its country with two letters; a passport's MRZ and DG1 with three. The
table covers the states whose residents Vietnam hosts most and the other large issuers; a country
not in it gets no MRZ code, so its CSCAs are stored but never match a passport (the chip check
then fails at ``csca.country`` rather than guessing). Extend the table, never guess a code.
"""

from __future__ import annotations

ALPHA2_TO_MRZ: dict[str, str] = {
    "AE": "ARE", "AR": "ARG", "AT": "AUT", "AU": "AUS", "BD": "BGD", "BE": "BEL", "BG": "BGR",
    "BN": "BRN", "BR": "BRA", "BY": "BLR", "CA": "CAN", "CH": "CHE", "CL": "CHL", "CN": "CHN",
    "CO": "COL", "CY": "CYP", "CZ": "CZE", "DE": "D", "DK": "DNK", "EE": "EST", "EG": "EGY",
    "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR", "GR": "GRC", "HR": "HRV",
    "HU": "HUN", "ID": "IDN", "IE": "IRL", "IL": "ISR", "IN": "IND", "IR": "IRN", "IS": "ISL",
    "IT": "ITA", "JP": "JPN", "KH": "KHM", "KR": "KOR", "KZ": "KAZ", "LA": "LAO", "LI": "LIE",
    "LK": "LKA", "LT": "LTU", "LU": "LUX", "LV": "LVA", "MA": "MAR", "MC": "MCO", "MM": "MMR",
    "MN": "MNG", "MT": "MLT", "MX": "MEX", "MY": "MYS", "NG": "NGA", "NL": "NLD",
    "NO": "NOR", "NP": "NPL", "NZ": "NZL", "PE": "PER", "PH": "PHL", "PK": "PAK", "PL": "POL",
    "PT": "PRT", "QA": "QAT", "RO": "ROU", "RS": "SRB", "RU": "RUS", "SA": "SAU", "SE": "SWE",
    "SG": "SGP", "SI": "SVN", "SK": "SVK", "TH": "THA", "TL": "TLS", "TR": "TUR", "TW": "TWN",
    "UA": "UKR", "US": "USA", "UZ": "UZB", "VN": "VNM", "ZA": "ZAF",
}  # fmt: skip


def mrz_state(alpha2: str) -> str:
    """The MRZ issuing-state code for a certificate's country, or ``""`` when unknown."""
    return ALPHA2_TO_MRZ.get(alpha2.upper(), "")
