"""Scopes and the claims they stand for (OpenID Connect Core 1.0 §5.1, §5.4), with the names a
citizen reads on the consent screen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimInfo:
    name: str
    label_vi: str
    label_en: str


CLAIMS: dict[str, ClaimInfo] = {
    c.name: c
    for c in (
        ClaimInfo("name", "Họ và tên", "Full name"),
        ClaimInfo("family_name", "Họ", "Family name"),
        ClaimInfo("middle_name", "Tên đệm", "Middle name"),
        ClaimInfo("given_name", "Tên", "Given name"),
        ClaimInfo("birthdate", "Ngày sinh", "Date of birth"),
        ClaimInfo("gender", "Giới tính", "Gender"),
        ClaimInfo("address", "Nơi thường trú", "Permanent address"),
        ClaimInfo("id_number", "Số định danh cá nhân", "Personal identification number"),
        ClaimInfo("email", "Thư điện tử", "E-mail"),
        ClaimInfo("phone_number", "Số điện thoại", "Phone number"),
    )
}

# OpenID Connect Core 1.0 §5.4, and ``id_number`` (a claim of this provider, its own scope).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": (),
    "profile": ("name", "family_name", "middle_name", "given_name", "birthdate", "gender"),
    "address": ("address",),
    "email": ("email",),
    "phone": ("phone_number",),
    "id_number": ("id_number",),
}
SCOPES: dict[str, str] = {
    "openid": "Đăng nhập / Sign in (OpenID Connect)",
    "profile": "Họ tên, ngày sinh, giới tính / Name, date of birth, gender",
    "address": "Nơi thường trú / Permanent address",
    "email": "Thư điện tử / E-mail",
    "phone": "Số điện thoại / Phone number",
    "id_number": "Số định danh cá nhân / Personal identification number",
}
# Claims that come from the population registry (read with an audited purpose); the others come
# from the account.
REGISTRY_CLAIMS = frozenset(
    {"name", "family_name", "middle_name", "given_name", "birthdate", "gender", "address", "id_number"}
)


def claims_for(scopes: set[str] | frozenset[str] | list[str], allowed: frozenset[str]) -> list[str]:
    """The claims the ``scopes`` ask for that the relying party is registered for, in table order
    (a relying party receives only the claims it is registered for)."""
    wanted = {c for s in scopes for c in SCOPE_CLAIMS.get(s, ())}
    return [c for c in CLAIMS if c in wanted and c in allowed]
