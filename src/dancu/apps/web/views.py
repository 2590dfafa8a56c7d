"""Public pages: the home page (the platform's modules and their status) and the health check."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Link:
    """A link shown on a module's card."""

    text: Promise
    url_name: str
    args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The link's address, resolved when the page is rendered."""
        return reverse(self.url_name, args=self.args)


@dataclass(frozen=True)
class Module:
    """One building block or application of the platform, as presented on the home page.

    ``pilot_models`` are the numbers of the Project 06 pilot models the module serves (see the
    mission's list of pilot models).
    """

    key: str
    name: Promise
    description: Promise
    available: bool
    pilot_models: str = ""
    links: tuple[Link, ...] = field(default_factory=tuple)


_API_DOCS = Link(_("API documentation"), "api-v1:openapi-view")

BUILDING_BLOCKS: tuple[Module, ...] = (
    Module(
        "registry",
        _("Population registry"),
        _("Citizens, households, residence and identity cards; every read names a purpose and is audited."),
        available=True,
        links=(Link(_("Search citizens"), "console:search"), _API_DOCS),
    ),
    Module(
        "adminunits",
        _("Administrative units"),
        _("Provinces and wards before and after the 2025 reorganisation, and address resolution."),
        available=True,
        links=(_API_DOCS,),
    ),
    Module(
        "audit",
        _("Access log"),
        _("Who read or changed whose data, for what purpose; tamper-evident and visible to the citizen."),
        available=True,
        links=(Link(_("Look up a record's access history"), "console:search"), _API_DOCS),
    ),
    Module(
        "organisations",
        _("Organisations"),
        _("Agencies and establishments, their staff and the purposes each role may use."),
        available=True,
        links=(Link(_("Administration"), "admin:index"),),
    ),
)

APPLICATIONS: tuple[Module, ...] = (
    Module(
        "identity",
        _("Identity verification"),
        _("Verify a person in front of you from their chip card or VNeID QR code."),
        available=True,
        pilot_models="6–8, 16–17",
        links=(
            Link(_("Clinic check-in"), "desks:clinic"),
            Link(_("Notary"), "desks:notary"),
            Link(_("Pawn shop, security firm"), "desks:business"),
            Link(_("Driving school"), "driving:index"),
            _API_DOCS,
        ),
    ),
    Module(
        "sso",
        _("Single sign-on (SSO)"),
        _("One log-in for the city's online services, through OpenID Connect."),
        available=True,
        pilot_models="24",
        links=(
            Link(_("Log in"), "citizen:login"),
            Link(_("Register an e-identification account"), "citizen:register"),
            Link(_("My account"), "citizen:me"),
            Link(_("Demo: city public-service portal"), "sso_demo:home", ("portal",)),
            Link(_("Demo: city app"), "sso_demo:home", ("app",)),
        ),
    ),
    Module(
        "eid_desk",
        _("e-Identification desk"),
        _("Commune police approve level-1 accounts and activate level 2 with the chip card."),
        available=True,
        pilot_models="24",
        links=(
            Link(_("Registrations to approve"), "eiddesk:pending"),
            Link(_("Activate level 2"), "eiddesk:activate"),
        ),
    ),
    Module(
        "guardianship",
        _("Guardianship and parental rights"),
        _(
            "The commune's civil-status officer registers guardianships of minors and records court "
            "decisions restricting a parent's rights, and their lifting."
        ),
        available=True,
        links=(Link(_("Guardianship desk"), "guardianship:child"), _API_DOCS),
    ),
    Module(
        "lgsp",
        _("LGSP data exchange"),
        _("The city's data-sharing gateway between agencies' systems."),
        available=True,
        pilot_models="25",
        links=(
            Link(_("Exchange administration"), "exchange_admin:overview"),
            Link(_("Members"), "exchange_admin:members"),
            Link(_("Service catalogue"), "exchange_admin:catalogue"),
            Link(_("Access grants"), "exchange_admin:grants"),
            Link(_("Message log"), "exchange_admin:log"),
            Link(_("Flags raised by citizens"), "exchange_admin:flags"),
        ),
    ),
    Module(
        "residence",
        _("Residence notification"),
        _("Hotels, landlords and hospitals notify the police of their guests' stays."),
        available=True,
        pilot_models="9–12",
        links=(
            Link(_("Front desk check-in"), "residence:desk"),
            Link(_("Police view"), "residence:police"),
        ),
    ),
    Module(
        "public_services",
        _("Public services and kiosks"),
        _("Online public services and self-service kiosks with data filled from the registry."),
        available=True,
        pilot_models="1–3",
        links=(
            Link(_("Service catalogue"), "public_services:catalogue"),
            Link(_("My dossiers"), "public_services:mine"),
            Link(_("Officials' work queue"), "public_services:queue"),
        ),
    ),
    Module(
        "cleaning",
        _("Data cleaning"),
        _("Match sector databases against the population registry and fix their records."),
        available=True,
        pilot_models="20, 34, 35",
        links=(Link(_("Cleaning jobs"), "cleaning:index"),),
    ),
)


def home(request: HttpRequest) -> HttpResponse:
    """The platform's modules: building blocks (available now) and the applications to come."""
    return render(
        request, "web/home.html", {"building_blocks": BUILDING_BLOCKS, "applications": APPLICATIONS}
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, no personal data."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        db = "ok"
    except Exception:
        db = "unavailable"
    status = 200 if db == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "degraded", "database": db}, status=status)
