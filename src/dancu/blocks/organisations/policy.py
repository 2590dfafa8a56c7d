"""Which purposes each (organisation kind, role) may invoke: least data per purpose.

Kept in code so that it is reviewed like code; a change here is a change of who may see whose
data. Police and committees read the registry within their jurisdiction; establishments (hotels,
clinics, notaries) never search the registry — they verify a person in front of them.
"""

from __future__ import annotations

from dancu.blocks.organisations.models import Membership, Organisation

K = Organisation.Kind
R = Membership.Role
# The role of an organisation's API key (``ApiKey``): a machine client, never a staff member.
INTEGRATION = "integration"

_OFFICIAL = {"registry.lookup", "security.investigation", "public_service.processing", "data.cleaning"}
# The police alert list (``blocks/alerts``): police units add, close and review entries with
# ``security.investigation``; the screening of verifications runs on behalf of the unit that owns
# the entry with ``security.alert_screening`` (ADR 0007). Police kinds only.
_POLICE = _OFFICIAL | {"registry.administration", "security.alert_screening"}

POLICY: dict[tuple[str, str], frozenset[str]] = {
    (K.POLICE_CITY, R.ADMIN): frozenset(_POLICE),
    (K.POLICE_CITY, R.OFFICER): frozenset(_POLICE),
    (K.POLICE_COMMUNE, R.ADMIN): frozenset(_POLICE),
    (K.POLICE_COMMUNE, R.OFFICER): frozenset(_POLICE),
    (K.PEOPLES_COMMITTEE, R.OFFICER): frozenset({"registry.lookup", "public_service.processing"}),
    (K.PEOPLES_COMMITTEE, R.ADMIN): frozenset({"registry.lookup", "public_service.processing"}),
    (K.DEPARTMENT, R.OFFICER): frozenset({"public_service.processing", "data.cleaning"}),
    (K.HOTEL, R.CLERK): frozenset({"identity.verification", "residence.notification"}),
    (K.HOTEL, R.ADMIN): frozenset({"identity.verification", "residence.notification"}),
    (K.CLINIC, R.CLERK): frozenset({"identity.verification", "residence.notification"}),
    (K.NOTARY, R.CLERK): frozenset({"identity.verification"}),
    (K.BUSINESS, R.CLERK): frozenset({"identity.verification"}),
    (K.PAWN_SHOP, R.CLERK): frozenset({"identity.verification"}),
    (K.SECURITY_FIRM, R.CLERK): frozenset({"identity.verification"}),
    (K.DRIVING_SCHOOL, R.CLERK): frozenset({"identity.verification"}),
    # Machine clients (API keys) of establishments: the same as their front desks.
    (K.HOTEL, INTEGRATION): frozenset({"identity.verification", "residence.notification"}),
    (K.CLINIC, INTEGRATION): frozenset({"identity.verification", "residence.notification"}),
    (K.NOTARY, INTEGRATION): frozenset({"identity.verification"}),
    (K.BUSINESS, INTEGRATION): frozenset({"identity.verification"}),
    (K.PAWN_SHOP, INTEGRATION): frozenset({"identity.verification"}),
    (K.SECURITY_FIRM, INTEGRATION): frozenset({"identity.verification"}),
    (K.DRIVING_SCHOOL, INTEGRATION): frozenset({"identity.verification"}),
    (K.PLATFORM, R.ADMIN): frozenset({"registry.administration", "registry.lookup"}),
}


def purposes_for(kind: str, role: str) -> frozenset[str]:
    """Purposes a member with ``role`` in an organisation of ``kind`` may invoke (empty: none)."""
    return POLICY.get((kind, role), frozenset())
