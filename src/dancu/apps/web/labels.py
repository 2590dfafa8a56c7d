"""Display labels for the codes that blocks return (sex, life status, card kind, audit action …).

Source strings are English and translated through the catalogue in ``dancu/locale``, so that a
Vietnamese page says "Nam"/"Nữ" and an English page "Male"/"Female". Codes that are not listed
are shown as they are, never hidden.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dancu.blocks.audit.purposes import PURPOSES

SEX: dict[str, Promise] = {"M": _("Male"), "F": _("Female")}

LIFE_STATUS: dict[str, Promise] = {
    "alive": _("Alive"),
    "deceased": _("Deceased"),
    "missing": _("Missing"),
}

RELATIONSHIP: dict[str, Promise] = {
    "head": _("Head of household"),
    "spouse": _("Spouse"),
    "child": _("Child"),
    "parent": _("Parent"),
    "grandchild": _("Grandchild"),
    "sibling": _("Sibling"),
    "other": _("Other"),
}

CARD_KIND: dict[str, Promise] = {
    "cccd_chip": _("Chip-based citizen ID card (2021)"),
    "can_cuoc": _("Identity card (2024)"),
    "cmnd": _("Old identity card (CMND)"),
}

CARD_STATUS: dict[str, Promise] = {
    "valid": _("Valid"),
    "replaced": _("Replaced"),
    "lost": _("Reported lost"),
    "revoked": _("Revoked"),
}

REVISION_ACTION: dict[str, Promise] = {
    "register": _("Registration"),
    "correct": _("Correction of details"),
    "move": _("Change of permanent residence"),
    "death": _("Death registration"),
    "id_change": _("Change of ID number"),
}

AUDIT_ACTION: dict[str, Promise] = {
    "registry.read": _("Opened the record"),
    "registry.search_hit": _("Shown in search results"),
    "registry.history": _("Read the revision history"),
    "registry.register": _("Registered"),
    "registry.correct": _("Corrected details"),
    "registry.move": _("Changed permanent residence"),
    "registry.death": _("Recorded a death"),
    "registry.id_change": _("Changed the ID number"),
    "registry.household": _("Listed the household"),
    "registry.household_member": _("Shown as a household member"),
    "identity.verify": _("Verified your identity"),
    "sso.claims_release": _("Received your data at sign-in"),
    "registry.temporary": _("Registered temporary residence"),
    "registry.cleaning_extract": _("Read for data cleaning"),
    "registry.cleaning_match": _("Matched a sector record to you"),
    "registry.cleaning_candidate": _("Shown as a possible match in data cleaning"),
    "registry.cleaning_address_check": _("Checked whether you lived at an address in a sector file"),
    "eid.registration.submit": _("Applied for an e-identification account"),
    "eid.registration.duplicate": _("Applied again for an existing account"),
    "eid.registration.list": _("Shown in the list of applications"),
    "eid.registration.decide": _("Opened your application"),
    "eid.registration.approve": _("Approved your account"),
    "eid.registration.reject": _("Rejected your application"),
    "eid.activate": _("Activated level 2"),
    "eid.login": _("Log-in"),
    "eid.step_up": _("Confirmed with a second factor"),
    "eid.account.locked": _("Account locked after failed log-ins"),
    "eid.recovery.start": _("Started account recovery"),
    "eid.recovery.done": _("Recovered the account"),
    "eid.session.revoke": _("Ended a session"),
    "eid.qr.approve": _("Approved a QR log-in"),
    "eid.qr.deny": _("Refused a QR log-in"),
    "eid.factor.totp_added": _("Added an authenticator app"),
    "eid.factor.totp_removed": _("Removed the authenticator app"),
    "residence.check_in": _("Notified your stay"),
    "residence.search": _("Searched residence notifications"),
    "citizen.access_log": _("You viewed your access history"),
    "eid.possession.sent": _("Sent a kiosk confirmation code to your phone"),
    "eid.possession": _("Checked a kiosk confirmation code"),
    "eid.possession.locked": _("Kiosk session locked after wrong codes"),
    "registry.parental_authority": _("Checked who may act for the child"),
    "registry.guardianship.record": _("Recorded a guardianship"),
    "registry.guardianship.end": _("Ended a guardianship"),
    "registry.parental_restriction.record": _("Recorded a restriction of parental rights"),
    "registry.parental_restriction.lift": _("Recorded a court's lifting of a restriction of parental rights"),
    "registry.guardianship.read": _("Viewed the child's guardianships and restrictions of parental rights"),
    "eid.registration.guardian": _("A parent or guardian registered the child's account"),
    "eid.child.claim": _("Applied to take over the account at 14"),
    "eid.child.verify": _("Presented the child's account"),
    "eid.registration.foreigner": _("Applied for a foreigner's e-identification account"),
    "eid.activate.foreigner": _("Activated level 2 (foreigner)"),
    "social_loans.eligibility_answer": _("Answered a lender's eligibility question"),
}

AUDIT_RESULT: dict[str, Promise] = {
    "ok": _("Allowed"),
    "denied": _("Denied"),
    "not_found": _("Not found"),
    "invalid": _("Invalid request"),
}

# The citizen fields of ``registry.dto.CitizenView``, for the record page and error messages.
FIELD: dict[str, Promise] = {
    "id_number": _("ID number"),
    "old_id_number": _("Old ID number (CMND)"),
    "full_name": _("Full name"),
    "name": _("Name"),
    "family_name": _("Family name"),
    "middle_name": _("Middle name"),
    "given_name": _("Given name"),
    "date_of_birth": _("Date of birth"),
    "dob_precision": _("Precision of the date of birth"),
    "sex": _("Sex"),
    "nationality": _("Nationality"),
    "ethnicity": _("Ethnicity"),
    "religion": _("Religion"),
    "birth_registration_code": _("Place of birth registration (code)"),
    "origin": _("Place of origin"),
    "permanent_address": _("Permanent residence"),
    "temporary_address": _("Temporary residence"),
    "household_number": _("Household number"),
    "relationship_to_head": _("Relationship to the head of household"),
    "life_status": _("Status"),
    "date_of_death": _("Date of death"),
    "old_id_numbers": _("Old ID numbers (CMND)"),
    "previous_id_numbers": _("Previous ID numbers"),
    "cards": _("Identity cards"),
    "origin_text": _("Place of origin"),
    "permanent_address_text": _("Permanent residence"),
    "permanent_ward_code": _("Ward of permanent residence (code)"),
    "temporary_address_text": _("Temporary residence"),
    "household": _("Household number"),
    "purpose": _("Purpose"),
    "case_reference": _("Case reference"),
    "organisation": _("Organisation"),
    # the eID desk's level-2 activation (ADR 0017 §10, §14)
    "chip": _("Chip of the card"),
    "passport_chip": _("Passport chip"),
    "chip_aa": _("Active Authentication answer"),
    "live_photo": _("Live photo"),
}


# Values the registry derives from others (folded name, unit codes of an address): a change to
# them is shown through the field they derive from.
DERIVED_FIELDS = frozenset(
    {
        "name_folded",
        "family_name",
        "middle_name",
        "given_name",
        "birth_registration_code",
        "permanent_legacy_ward_code",
        "permanent_ward_code",
        "permanent_province_code",
        "temporary_ward_code",
        "origin_legacy_ward_code",
    }
)


# Data cleaning (``blocks/linkage``): a job's status and stage, an official's review, the fields
# of the model's per-field explanation.
CLEANING_STATUS: dict[str, Promise] = {
    "uploaded": pgettext_lazy("data cleaning", "Uploaded"),
    "queued": pgettext_lazy("data cleaning", "Waiting to run"),
    "running": pgettext_lazy("data cleaning", "Running"),
    "done": pgettext_lazy("data cleaning", "Done"),
    "failed": pgettext_lazy("data cleaning", "Failed"),
}
CLEANING_STAGE: dict[str, Promise] = {
    "queued": pgettext_lazy("data cleaning", "Waiting to run"),
    "reading the registry": pgettext_lazy("data cleaning", "Reading the population database"),
    "normalising": pgettext_lazy("data cleaning", "Normalising names, dates and addresses"),
    "id pass": pgettext_lazy("data cleaning", "Matching by ID and old CMND numbers"),
    "model": pgettext_lazy("data cleaning", "Training the matching model"),
    "scoring": pgettext_lazy("data cleaning", "Scoring candidate pairs"),
    "decisions": pgettext_lazy("data cleaning", "Deciding"),
    "duplicates and corrections": pgettext_lazy("data cleaning", "Finding duplicates and corrections"),
    "previous addresses": pgettext_lazy("data cleaning", "Checking previous and temporary residences"),
    "storing the outcomes": pgettext_lazy("data cleaning", "Storing the results"),
    "done": pgettext_lazy("data cleaning", "Done"),
    "failed": pgettext_lazy("data cleaning", "Failed"),
}
CLEANING_REVIEW: dict[str, Promise] = {
    "accepted": pgettext_lazy("data cleaning", "accepted"),
    "rejected": pgettext_lazy("data cleaning", "rejected"),
}
LINKAGE_FIELD: dict[str, Promise] = {
    "given": _("Given name"),
    "family": _("Surname"),
    "middle": _("Middle name"),
    "dob": _("Date of birth"),
    "sex": _("Sex"),
    "ward": _("Ward"),
    "street": _("Street address"),
}


def changed_fields(changes: dict[str, object]) -> list[str]:
    """Labels of the fields a revision changed, derived fields folded into their source."""
    out: list[str] = []
    for name in changes:
        if name in DERIVED_FIELDS:
            continue
        text = label(FIELD, name)
        if text not in out:
            out.append(text)
    return out


def label(table: dict[str, Promise], code: str | None) -> str:
    """The translated label of ``code`` in ``table``; unknown codes are returned unchanged."""
    if code is None:
        return ""
    found = table.get(code)
    return str(found) if found is not None else code


def purpose_name(code: str) -> str:
    """The purpose's name in the active language (Vietnamese unless the page is in English)."""
    purpose = PURPOSES.get(code)
    if purpose is None:
        return code
    return purpose.name_en if (get_language() or "vi").startswith("en") else purpose.name_vi
