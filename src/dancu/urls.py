"""URL map: pages of the applications, the JSON API, admin and health."""

from django.contrib import admin
from django.urls import include, path

from dancu.api import api
from dancu.apps.web.sso import protect_admin_site

# Django's admin signs in through the platform's OpenID Connect provider too (ADR 0011).
protect_admin_site(admin.site)

urlpatterns = [
    # The OpenID Connect provider first: /.well-known/openid-configuration and /oidc/… (issuer =
    # site root). Its token and userinfo endpoints are called in loops by machines; matched here,
    # they skip the ~20 includes below (ADR 0009 §10). Its paths overlap no other prefix.
    path("", include("dancu.blocks.sso.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", include("dancu.apps.console.urls")),
    path("desks/", include("dancu.apps.desks.urls")),
    path("driving/", include("dancu.apps.driving.urls")),
    path("eid/", include("dancu.apps.citizen.urls")),
    path("eid-desk/", include("dancu.apps.eiddesk.urls")),
    path("giam-ho/", include("dancu.apps.guardianship.urls")),
    path("demo/", include("dancu.apps.sso_demo.urls")),
    path("exchange/", include("dancu.blocks.exchange.urls")),
    path("exchange-admin/", include("dancu.apps.exchange_admin.urls")),
    path("residence/", include("dancu.apps.residence.urls")),
    path("cleaning/", include("dancu.apps.cleaning.urls")),
    path("dich-vu-cong/", include("dancu.apps.public_services.urls")),
    path("kiosk/", include("dancu.apps.kiosk.urls")),
    path("danh-gia-dvc/", include("dancu.apps.kiosk.dashboard_urls")),
    path("vay-von/", include("dancu.apps.social_loans.urls")),
    path("dat-dai/", include("dancu.apps.land.urls")),
    path("so-hoa/", include("dancu.apps.sector.urls")),
    path("", include("dancu.apps.web.urls")),
]
