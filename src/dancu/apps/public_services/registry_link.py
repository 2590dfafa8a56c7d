"""The portal reads the applicant's own record through the data-exchange gateway (issue 7 item 2;
ADR 0016 §"Prefill through the gateway").

The public-service portal (and the one-stop office kiosks, which submit through it) is a member
system of the gateway, like any agency's: it holds a client credential of its organisation
(``DANCU_PUBLIC_SERVICES_PORTAL_ORG``, by default Trung tâm Phục vụ hành chính công Hà Nội), stored
by ``gateway_client.connect`` under the system name :data:`SYSTEM`, and a grant on the registry's
``applicant`` service for purpose ``public_service.processing`` (the field set of the catalogue:
``exchange.providers.APPLICANT_FIELDS``). Each read is therefore authenticated, checked against the
grant, signed, written to the gateway's message log with the form or dossier as case reference
(``DVC <service>`` before submission, the tracking code after), and recorded by the registry on the
citizen's own access history. The end user is the citizen (``citizen:<ID number>``), and the
registry's service returns only that person's record. The portal is the platform's own code and
acts for the citizen signed in to it (the ID number comes from the session's eID account, never
from a form): it vouches for the citizen with a ``VerifiedEndUser`` of evidence
``platform_session``, passed in-process — what a system outside the platform proves with the
citizen's access token (``X-End-User-Token``, ADR 0010 §22).

Faults are the citizen's "registry unavailable" page with a draft (issue 7, "Bad input and
faults"): no connection configured, the gateway refusing the portal (credential revoked, grant
expired), a provider error or a garbled answer raise :class:`RegistryUnavailable`; a database
error from the registry propagates as it is (the same page). The log line names the status and the
rule only, never the citizen.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.conf import settings

from dancu.apps.gateway_client import client as gateway_client
from dancu.blocks.audit.context import CITIZEN_PREFIX, VerifiedEndUser
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.registry.dto import Address, CardView, CitizenView
from dancu.errors import NotFound

logger = logging.getLogger(__name__)

SYSTEM = "public_services"  # the portal's gateway connection (``ExchangeConnection.system``)
SERVICE = "applicant"  # the registry's service (``exchange.providers.applicant``)
PURPOSE = "public_service.processing"
SELF_PREFIX = CITIZEN_PREFIX


class RegistryUnavailable(Exception):
    """The applicant's record could not be read through the gateway (not connected, refused,
    provider failure, garbled answer). ``rule``: the gateway's rule or a local one."""

    def __init__(self, message: str, *, status: int = 0, rule: str = "") -> None:
        self.status = status
        self.rule = rule
        super().__init__(message)


def portal_organisation_id() -> int | None:
    """The organisation whose gateway connection the portal uses (``DANCU_PUBLIC_SERVICES_PORTAL_ORG``)."""
    return (
        Organisation.objects.filter(code=settings.DANCU_PUBLIC_SERVICES_PORTAL_ORG)
        .values_list("pk", flat=True)
        .first()
    )


def signed_in(id_number: str) -> VerifiedEndUser:
    """The citizen signed in to the portal, as the platform vouches for them to the gateway. Only
    for the ID number of the session's own eID account (``services._applicant_id``, or the record
    read for it): the trust is the platform's, so nothing a user typed may reach here."""
    return VerifiedEndUser(id_number, "platform_session")


def read_own_record(id_number: str, case_reference: str) -> CitizenView:
    """The citizen's own record, read through the gateway for ``case_reference`` (a form being
    filled, ``DVC <service>``, or a dossier's tracking code). ``id_number``: the signed-in
    citizen's (see :func:`signed_in`). ``NotFound`` when the registry has no
    such person; :class:`RegistryUnavailable` for every other failure."""
    org_id = portal_organisation_id()
    if org_id is None:
        raise RegistryUnavailable(
            "the portal's organisation is not set up (DANCU_PUBLIC_SERVICES_PORTAL_ORG)", rule="not_connected"
        )
    try:
        reply = gateway_client.call(
            org_id,
            SYSTEM,
            SERVICE,
            id_number,
            purpose=PURPOSE,
            end_user=f"{SELF_PREFIX}{id_number}",
            case_reference=case_reference[:100],
            verified_end_user=signed_in(id_number),
        )
    except NotFound:
        raise RegistryUnavailable(
            "the portal has no data-exchange connection (dancu gateway_client connect)", rule="not_connected"
        ) from None
    if reply.status == 200:
        try:
            view = view_from_data(reply.body["data"])
            if view.id_number != id_number:  # an answer about someone else is no answer
                raise ValueError("the answer names another person")
            return view
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning("registry answer through the gateway is malformed (message %s)", reply.message_id)
            raise RegistryUnavailable(
                "the registry's answer is malformed", status=502, rule="garbled"
            ) from None
    rule = answer_rule(reply.body)
    if reply.status == 404 and rule == "not_found":
        raise NotFound("no citizen with that number in the registry", field="id_number")
    logger.warning(
        "registry read through the gateway refused: status %s rule %s (message %s)",
        reply.status,
        rule,
        reply.message_id,
    )
    raise RegistryUnavailable(
        "the registry could not be read through the gateway", status=reply.status, rule=rule
    )


def answer_rule(body: Any) -> str:
    """The rule a refusal of the gateway or provider names (empty when none)."""
    try:
        return str(body["detail"][0]["rule"])[:64]
    except (KeyError, IndexError, TypeError):
        return ""


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _address(value: Any) -> Address | None:
    if not value:
        return None
    return Address(
        text=str(value["text"]),
        legacy_ward_code=str(value.get("legacy_ward_code", "")),
        ward_code=str(value.get("ward_code", "")),
        province_code=str(value.get("province_code", "")),
    )


def _card(value: dict[str, Any]) -> CardView:
    issued = _date(value["issued_on"])
    if issued is None:
        raise ValueError("a card without an issue date")
    return CardView(
        kind=str(value["kind"]),
        card_number=str(value["card_number"]),
        issued_on=issued,
        expires_on=_date(value.get("expires_on")),
        status=str(value["status"]),
    )


def view_from_data(data: dict[str, Any]) -> CitizenView:
    """The registry's answer (JSON: ISO dates, addresses and cards as objects) as the
    ``CitizenView`` the forms and the eligibility rules read. ``citizen_id`` and ``version`` are
    the registry's internals and do not cross the gateway (0 here); fields the grant did not give
    are None."""

    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    olds = data.get("old_id_numbers")
    cards = data.get("cards")
    return CitizenView(
        citizen_id=0,
        id_number=str(data["id_number"]),
        full_name=str(data["full_name"]),
        version=0,
        date_of_birth=_date(data.get("date_of_birth")),
        origin=_address(data.get("origin")),
        permanent_address=_address(data.get("permanent_address")),
        temporary_address=_address(data.get("temporary_address")),
        relationship_to_head=text("relationship_to_head"),
        life_status=text("life_status"),
        old_id_numbers=[str(x) for x in olds] if olds is not None else None,
        cards=[_card(c) for c in cards] if cards is not None else None,
        dob_precision=text("dob_precision"),
        sex=text("sex"),
        nationality=text("nationality"),
        ethnicity=text("ethnicity"),
        household_number=text("household_number"),
    )
