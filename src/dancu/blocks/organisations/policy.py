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
# The role of a member's information system calling the data exchange gateway (``blocks/exchange``,
# issue 5; ADR 0010) on behalf of one of its officials. A grant may name only these purposes.
EXCHANGE = "exchange"
# The role of a relying party of the OpenID Connect provider (``blocks/sso``): it receives the claims
# a citizen consented to when signing in, for this purpose only (Decree 69/2024/NĐ-CP).
RELYING_PARTY = "relying_party"
_SSO = frozenset({"sso.claims_release"})
# The role of a self-service kiosk of a one-stop office (``apps/kiosk``, ADR 0013; model 2 of
# Decision 06/QĐ-TTg): a device, not a staff member. It verifies the card of the person in front of
# it and nothing else; the registry reads of a dossier are the citizen's own, on their eID account.
KIOSK = "kiosk"

_OFFICIAL = {"registry.lookup", "security.investigation", "public_service.processing", "data.cleaning"}
# The police alert list (``blocks/alerts``): police units add, close and review entries with
# ``security.investigation``; the screening of verifications runs on behalf of the unit that owns
# the entry with ``security.alert_screening`` (ADR 0007). Police kinds only.
_POLICE = _OFFICIAL | {"registry.administration", "security.alert_screening"}

# Electronic identification (Decree 69/2024/NĐ-CP Art. 14–16): the commune police approve level-1
# registrations and activate level-2 accounts in person, for residents of their ward.
_EID_DESK = {"eid.registration", "eid.activation"}

POLICY: dict[tuple[str, str], frozenset[str]] = {
    (K.POLICE_CITY, R.ADMIN): frozenset(_POLICE),
    (K.POLICE_CITY, R.OFFICER): frozenset(_POLICE),
    (K.POLICE_COMMUNE, R.ADMIN): frozenset(_POLICE | _EID_DESK),
    (K.POLICE_COMMUNE, R.OFFICER): frozenset(_POLICE | _EID_DESK),
    (K.PEOPLES_COMMITTEE, R.OFFICER): frozenset({"registry.lookup", "public_service.processing"}),
    (K.PEOPLES_COMMITTEE, R.ADMIN): frozenset({"registry.lookup", "public_service.processing"}),
    # The commune's judicial and civil-status officer: guardianships and restrictions of parental
    # rights of the ward's minors, nothing else of the registry (registry/guardianship.py, ADR 0017).
    # Keyed on the kind, not the level: a city's or province's committee (no ward code) holds the
    # purpose but is refused by the block (``guardianship._authorise_officer``: ward jurisdiction).
    (K.PEOPLES_COMMITTEE, R.CIVIL_STATUS): frozenset({"civil_status.guardianship"}),
    (K.DEPARTMENT, R.OFFICER): frozenset({"public_service.processing", "data.cleaning"}),
    (K.HOTEL, R.CLERK): frozenset({"identity.verification", "residence.notification"}),
    (K.HOTEL, R.ADMIN): frozenset({"identity.verification", "residence.notification"}),
    (K.CLINIC, R.CLERK): frozenset({"identity.verification", "residence.notification"}),
    (K.NOTARY, R.CLERK): frozenset({"identity.verification"}),
    (K.BUSINESS, R.CLERK): frozenset({"identity.verification"}),
    (K.PAWN_SHOP, R.CLERK): frozenset({"identity.verification"}),
    (K.SECURITY_FIRM, R.CLERK): frozenset({"identity.verification"}),
    (K.DRIVING_SCHOOL, R.CLERK): frozenset({"identity.verification"}),
    # Coach operators (model 12): verify passengers at boarding and notify the manifest.
    (K.TRANSPORT, R.CLERK): frozenset({"identity.verification", "residence.notification"}),
    (K.TRANSPORT, R.ADMIN): frozenset({"identity.verification", "residence.notification"}),
    # Departments' statistics officers (Tourism, Health, the industrial-zone authority):
    # anonymised aggregates of residence notifications, never a person's data.
    (K.DEPARTMENT, R.STATISTICS): frozenset({"statistics.aggregate"}),
    # Machine clients (API keys) of establishments: the same as their front desks.
    (K.HOTEL, INTEGRATION): frozenset({"identity.verification", "residence.notification"}),
    (K.CLINIC, INTEGRATION): frozenset({"identity.verification", "residence.notification"}),
    (K.NOTARY, INTEGRATION): frozenset({"identity.verification"}),
    (K.BUSINESS, INTEGRATION): frozenset({"identity.verification"}),
    (K.PAWN_SHOP, INTEGRATION): frozenset({"identity.verification"}),
    (K.SECURITY_FIRM, INTEGRATION): frozenset({"identity.verification"}),
    (K.DRIVING_SCHOOL, INTEGRATION): frozenset({"identity.verification"}),
    (K.TRANSPORT, INTEGRATION): frozenset({"identity.verification", "residence.notification"}),
    (K.PLATFORM, R.ADMIN): frozenset({"registry.administration", "registry.lookup"}),
    # The social-policy bank (model 20) asks one thing — is this person eligible for a loan
    # programme — under a purpose of its own (least data: household, residence and life status
    # facts, answered yes/no with reason codes). It is a gateway-only read
    # (``registry.GATEWAY_READ_PURPOSES``): the facts come through its gateway member; its credit
    # officers ask in the loans app (``apps/social_loans``, by their role) and hold no registry
    # purpose, so the staff console stays closed to them.
    (K.SOCIAL_POLICY_BANK, R.OFFICER): frozenset(),
    (K.SOCIAL_POLICY_BANK, INTEGRATION): frozenset({"social_policy.credit"}),
    # Systems of members of the data exchange gateway (blocks/exchange; Decree 47/2020/NĐ-CP).
    (K.POLICE_CITY, EXCHANGE): frozenset(_OFFICIAL | {"identity.verification"}),
    (K.POLICE_COMMUNE, EXCHANGE): frozenset(_OFFICIAL | {"identity.verification"}),
    (K.PEOPLES_COMMITTEE, EXCHANGE): frozenset(
        {"registry.lookup", "public_service.processing", "identity.verification"}
    ),
    (K.DEPARTMENT, EXCHANGE): frozenset(
        {"public_service.processing", "data.cleaning", "identity.verification"}
    ),
    (K.SOCIAL_POLICY_BANK, EXCHANGE): frozenset({"social_policy.credit"}),
    # Kiosks of one-stop offices: ward police stations and people's committees.
    (K.POLICE_COMMUNE, KIOSK): frozenset({"identity.verification"}),
    (K.PEOPLES_COMMITTEE, KIOSK): frozenset({"identity.verification"}),
    # Relying parties run by public bodies (the city's portal, its app, the one-stop system).
    (K.PLATFORM, RELYING_PARTY): _SSO,
    (K.DEPARTMENT, RELYING_PARTY): _SSO,
    (K.PEOPLES_COMMITTEE, RELYING_PARTY): _SSO,
    (K.POLICE_CITY, RELYING_PARTY): _SSO,
    (K.POLICE_COMMUNE, RELYING_PARTY): _SSO,
}


def purposes_for(kind: str, role: str) -> frozenset[str]:
    """Purposes a member with ``role`` in an organisation of ``kind`` may invoke (empty: none)."""
    return POLICY.get((kind, role), frozenset())
