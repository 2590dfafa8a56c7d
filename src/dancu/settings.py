"""Django settings, all from environment variables (see ``dancu.config`` and docs/configuration.md).

Secure by default: DEBUG is off and ``SECRET_KEY`` is required unless the demo command
(``dancu demo``, run by ``make run``) sets ``DANCU_DEMO=1``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit as _urlsplit

from django.utils.translation import gettext_lazy as _

from dancu.config import ConfigError, database_config, env_bool, env_int, env_list, env_str

BASE_DIR = Path(env_str("DANCU_HOME", str(Path(__file__).resolve().parents[2])))
VAR_DIR = BASE_DIR / "var"

DEMO = env_bool("DANCU_DEMO", False)
DEBUG = env_bool("DEBUG", DEMO)


def _demo_secret_key() -> str:
    """A per-checkout random key kept in var/ so that demo sessions survive restarts."""
    path = VAR_DIR / "demo-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if DEMO:
    SECRET_KEY = env_str("SECRET_KEY", "") or _demo_secret_key()
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 32:
        raise ConfigError("SECRET_KEY", "must be at least 32 characters long")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEMO or DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "oauth2_provider",
    # Building blocks
    "dancu.blocks.adminunits",
    "dancu.blocks.audit",
    "dancu.blocks.organisations",
    "dancu.blocks.registry",
    "dancu.blocks.identity",
    "dancu.blocks.alerts",
    "dancu.blocks.eid",
    "dancu.blocks.sso",
    "dancu.synthpop",
    # Applications
    "dancu.apps.web",
    "dancu.apps.console",
    "dancu.apps.desks",
    "dancu.apps.driving",
    "dancu.apps.citizen",
    "dancu.apps.eiddesk",
    "dancu.apps.guardianship",
    "dancu.apps.sso_demo",
    "dancu.blocks.exchange",
    "dancu.apps.exchange_admin",
    "dancu.apps.residence",
    "dancu.blocks.linkage",
    "dancu.apps.cleaning",
    "dancu.apps.public_services",
    "dancu.apps.kiosk",
    "dancu.apps.gateway_client",
    "dancu.apps.social_loans",
    "dancu.apps.land",
    "dancu.apps.sector",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dancu.urls"
WSGI_APPLICATION = "dancu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_config(BASE_DIR)}


def _cache_config(url: str) -> dict[str, object]:
    """``CACHE_URL``: empty or ``locmem://`` — memory of this process (development, tests, a single
    process); ``redis://host:port/db`` or ``rediss://…`` — shared by every process (production:
    the API rate limits must hold across processes)."""
    if url in ("", "locmem://"):
        return {"BACKEND": "dancu.ratelimit.ProcessCache", "LOCATION": "dancu"}  # LocMemCache
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ConfigError("CACHE_URL", "must be empty, locmem:// or redis://host:port/db")


CACHES = {"default": _cache_config(env_str("CACHE_URL", ""))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's ModelBackend with its look-ups compiled once (blocks/eid/backends.py); ModelBackend
# itself stays listed so that sessions it recorded remain valid.
AUTHENTICATION_BACKENDS = [
    "dancu.blocks.eid.backends.AccountBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "dancu.blocks.eid.hashers.BoundedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Argon2 hashes in flight per process (``dancu.blocks.eid.hashers``, ADR 0009 §16); 0 = no bound.
DANCU_PASSWORD_HASH_SLOTS = env_int("DANCU_PASSWORD_HASH_SLOTS", 1, minimum=0, maximum=64)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

# Vietnamese first, English second; times stored in UTC, shown in Asia/Ho_Chi_Minh.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Database sessions (a revoked session ends in every process at once), written with fewer
# statements: no look-up before a new key, the log-in's new key inserted once (ADR 0009 §11).
SESSION_ENGINE = "dancu.blocks.eid.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not (DEMO or DEBUG))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300, maximum=30 * 24 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None

# Logging: no personal data in logs. Loggers carry event names and internal ids only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # ID numbers and phone numbers masked in every line, whoever logs it (paths in django.request's
    # 4xx/5xx lines, exception texts): dancu.logredact.
    "formatters": {
        "plain": {
            "()": "dancu.logredact.RedactingFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own defaults (DEFAULT_LOGGING) print django.* to an unformatted console when DEBUG is
    # on, mail them to ADMINS otherwise, and print runserver's request lines: all three would carry
    # unmasked paths. Configured here without handlers, those loggers lose Django's (dictConfig
    # removes a configured logger's handlers) and their lines reach the root's masked console.
    "loggers": {
        "django": {"level": env_str("LOG_LEVEL", "INFO"), "propagate": True},
        "django.server": {"level": env_str("LOG_LEVEL", "INFO"), "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Platform settings.
DANCU_CITY_PROVINCE_CODE = env_str("DANCU_CITY_PROVINCE_CODE", "01")
# Verification API (issue 3): requests per minute and burst per API key or staff member.
DANCU_API_RATE_PER_MINUTE = env_int("DANCU_API_RATE_PER_MINUTE", 120, minimum=1, maximum=10_000_000)
DANCU_API_BURST = env_int("DANCU_API_BURST", 30, minimum=1, maximum=10_000_000)
# Connections per process on which concurrent registry look-ups share statements (ADR 0006);
# 0: each look-up runs alone on its caller's connection.
DANCU_LOOKUP_LANES = env_int("DANCU_LOOKUP_LANES", 2, minimum=0, maximum=16)
# Connections per process on which concurrent yes/no verifications by card QR share one statement
# (ADR 0020; PostgreSQL); 0: each runs alone on its caller's connection.
DANCU_VERIFY_LANES = env_int("DANCU_VERIFY_LANES", 1, minimum=0, maximum=16)
DANCU_DEMO_CITIZENS = env_int("DANCU_DEMO_CITIZENS", 20_000, minimum=0, maximum=10_000_000)

# --- eID accounts (blocks/eid, apps/citizen, apps/eiddesk; issue 4) ---
# The one log-in page of the platform (citizens and staff); /login/ redirects there.
LOGIN_URL = "citizen:login"
# Outgoing SMS and e-mail (blocks/messaging): "console" logs without the message body, "file"
# appends JSON lines to DANCU_OUTBOX_DIR (the demo's default: read the one-time codes there). A
# production gateway adds a driver.
DANCU_MESSAGING_DRIVER = env_str("DANCU_MESSAGING_DRIVER", "file" if DEMO else "console")
if DANCU_MESSAGING_DRIVER not in ("console", "file"):
    raise ConfigError("DANCU_MESSAGING_DRIVER", f"must be console or file, got {DANCU_MESSAGING_DRIVER!r}")
DANCU_OUTBOX_DIR = env_str("DANCU_OUTBOX_DIR", str(BASE_DIR / "var" / "outbox"))
# The payment gateway of fees and fines (apps/public_services/payments.py; ADR 0016). "dev" is
# the development gateway — its own page marks a payment paid — so it runs only in the demo or
# with DEBUG; "none" (the production default until a real gateway's driver is added) turns
# online payment off.
DANCU_PAYMENT_DEV_ALLOWED = DEMO or DEBUG
DANCU_PAYMENT_DRIVER = env_str("DANCU_PAYMENT_DRIVER", "dev" if DANCU_PAYMENT_DEV_ALLOWED else "none")
if DANCU_PAYMENT_DRIVER not in ("dev", "none"):
    raise ConfigError("DANCU_PAYMENT_DRIVER", f"must be dev or none, got {DANCU_PAYMENT_DRIVER!r}")
if DANCU_PAYMENT_DRIVER == "dev" and not DANCU_PAYMENT_DEV_ALLOWED:
    raise ConfigError(
        "DANCU_PAYMENT_DRIVER", "dev is the development gateway: only with DANCU_DEMO=1 or DEBUG=1"
    )
DANCU_PAYMENT_DEV_SECRET = env_str("DANCU_PAYMENT_DEV_SECRET", "")
# Sessions of eID log-ins: last seen, revocation (apps/citizen).
MIDDLEWARE = [*MIDDLEWARE, "dancu.apps.citizen.middleware.seen_sessions"]

# --- OpenID Connect provider (blocks/sso, apps/sso_demo; issue 4) ---
# django-oauth-toolkit with its OpenID Connect support, made strict (ADR 0009). The issuer is the
# site root as the relying parties see it (``DANCU_OIDC_ISSUER``, e.g. https://id.city.gov.vn).
from dancu.blocks.sso.hashers import ClientSecretHasher  # noqa: E402

DANCU_OIDC_ISSUER = env_str("DANCU_OIDC_ISSUER", "http://127.0.0.1:8000").rstrip("/")
# Keys superseded by a rotation stay in the JWKS this long (≥ the ID-token lifetime).
DANCU_OIDC_KEY_GRACE_SECONDS = env_int(
    "DANCU_OIDC_KEY_GRACE_SECONDS", 24 * 3600, minimum=3600, maximum=90 * 24 * 3600
)
# Key of the pairwise subject identifiers (empty: derived from SECRET_KEY). Changing it changes every
# ``sub`` seen by every relying party.
DANCU_OIDC_PAIRWISE_SECRET = env_str("DANCU_OIDC_PAIRWISE_SECRET", "")
# The token endpoint's one-statement path for client credentials and refresh on PostgreSQL
# (blocks/sso/fast.py, ADR 0009 §9); off: every token request takes django-oauth-toolkit's path.
DANCU_OIDC_TOKEN_FAST_PATH = env_bool("DANCU_OIDC_TOKEN_FAST_PATH", True)
# Dotted path of ``f(user_id) -> id_number | None`` linking an account to its citizen.
DANCU_OIDC_CITIZEN_RESOLVER = env_str(
    "DANCU_OIDC_CITIZEN_RESOLVER", "dancu.blocks.sso.subjects.id_number_via_eid"
)
# The demo relying parties (apps/sso_demo) call the provider back over HTTP at this address.
DANCU_SSO_DEMO_PROVIDER_URL = env_str("DANCU_SSO_DEMO_PROVIDER_URL", DANCU_OIDC_ISSUER).rstrip("/")
# Staff pages require a sign-in through the platform's own provider (client "dancu-platform",
# apps/web/sso.py, ADR 0011). Only the test settings turn this off, so that tests may log in with
# ``client.force_login``; a page's minimum acr still applies to any SSO sign-in there is.
DANCU_STAFF_SSO_REQUIRED = True  # not from the environment: no switch to turn it off in production
# The assurance Django's admin site asks of its sign-in (ADR 0011), e.g.
# ``urn:dancu:acr:level2:mfa``; empty: the staff applications' minimum (level 1).
DANCU_ADMIN_MIN_ACR = env_str("DANCU_ADMIN_MIN_ACR", "")
# DOT's models are swappable; named here so that migrations referring to them resolve.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model name)
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": DANCU_OIDC_ISSUER,
    "OAUTH2_VALIDATOR_CLASS": "dancu.blocks.sso.validator.Validator",
    # Keys are in the database (blocks/sso/keys.py); this marker only satisfies DOT's checks for
    # RS256 clients — the validator signs and verifies with the stored keys, never with this.
    "OIDC_RSA_PRIVATE_KEY": "dancu:signing-keys-in-database",
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if DEMO or DEBUG else ["https"],
    "ALLOWED_SCHEMES": ["https", "http"] if DEMO or DEBUG else ["https"],
    "SCOPES": {
        "openid": "Đăng nhập / Sign in",
        "profile": "Họ tên, ngày sinh, giới tính / Name, date of birth, gender",
        "address": "Nơi thường trú / Permanent address",
        "email": "Thư điện tử / E-mail",
        "phone": "Số điện thoại / Phone number",
        "id_number": "Số định danh cá nhân / Personal identification number",
    },
    "DEFAULT_SCOPES": [],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "CLIENT_SECRET_HASHER": ClientSecretHasher(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    # RP-Initiated Logout 1.0 §2: an expired ID token is still a valid hint (its signature is checked).
    "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# --- Data exchange (blocks/exchange; issue 5) ---
# The exchange's instance code: the first part of every member, subsystem and service identifier
# (X-Road instance identifier; GovStack IM ``instanceId``).
DANCU_EXCHANGE_INSTANCE = env_str("DANCU_EXCHANGE_INSTANCE", "VN-HN")
# Client subsystems allowed to hold grants on self-service services (the registry's ``applicant``:
# a citizen's own record, read for the citizen the client acts for): the citizen portals only —
# by default the public-service portal's ``CONG-DVC`` of ``DANCU_PUBLIC_SERVICES_PORTAL_ORG``.
DANCU_EXCHANGE_SELF_SERVICE_CLIENTS = env_list(
    "DANCU_EXCHANGE_SELF_SERVICE_CLIENTS",
    [f"{DANCU_EXCHANGE_INSTANCE}/GOV/{env_str('DANCU_PUBLIC_SERVICES_PORTAL_ORG', 'TTPVHCC-HN')}/CONG-DVC"],
)
# A client acting for a citizen about the citizen's own data (``X-End-User: citizen:<ID number>``)
# proves it with an access token of this platform's OpenID provider (``X-End-User-Token``, ADR 0010
# §22). The lowest assurance such a token's relying party must be registered for (its ``min_acr``:
# every token of it was issued at least at that level), e.g. ``urn:dancu:acr:level2``; empty: any
# citizen log-in.
DANCU_EXCHANGE_END_USER_MIN_ACR = env_str("DANCU_EXCHANGE_END_USER_MIN_ACR", "")
# The audience such a token must be bound to (RFC 8707 resource indicators, ADR 0010 §23): the
# relying party asks for it with ``resource=`` at the authorisation or token request, and the token
# counts only if one of its resources is a URL prefix of this base followed by the service's
# identifier — the gateway itself, or one service of it. A token without a resource (valid at any
# resource server of the provider) is refused. Default: the gateway's ``/exchange/`` under the issuer.
DANCU_EXCHANGE_END_USER_RESOURCE = (
    env_str("DANCU_EXCHANGE_END_USER_RESOURCE", f"{DANCU_OIDC_ISSUER}/exchange/").rstrip("/") + "/"
)
if (
    _urlsplit(DANCU_EXCHANGE_END_USER_RESOURCE).scheme not in ("http", "https")
    or not _urlsplit(DANCU_EXCHANGE_END_USER_RESOURCE).hostname
):
    raise ConfigError(
        "DANCU_EXCHANGE_END_USER_RESOURCE",
        "must be an absolute http(s) URL, e.g. https://id.example/exchange/",
    )
# The largest request body the gateway accepts (bytes); larger ones are refused with 413.
DANCU_EXCHANGE_MAX_BODY = env_int(
    "DANCU_EXCHANGE_MAX_BODY", 64 * 1024, minimum=1024, maximum=10 * 1024 * 1024
)
# Seconds the gateway waits for an external provider before answering 504 provider_timeout.
DANCU_EXCHANGE_PROVIDER_TIMEOUT = env_int("DANCU_EXCHANGE_PROVIDER_TIMEOUT", 10, minimum=1, maximum=120)
# Hosts a subscriber's webhook may reach by plain HTTP and at any address (dancu.outbound: tests
# and development only, e.g. 127.0.0.1); empty in production: https to public addresses only.
DANCU_EXCHANGE_WEBHOOK_HTTP_HOSTS = env_list("DANCU_EXCHANGE_WEBHOOK_HTTP_HOSTS", [])
# Whether each exchange's commit waits for its WAL flush on PostgreSQL (ADR 0010): on by default,
# so that an acknowledged exchange survives a crash of the database server too; off trades the
# last fraction of a second of the log on such a crash for throughput (as ADR 0005 does for reads).
DANCU_EXCHANGE_DURABLE_COMMIT = env_bool("DANCU_EXCHANGE_DURABLE_COMMIT", True)
# Connections per process on which concurrent gateway exchanges share one transaction (group commit,
# ADR 0010 §13; PostgreSQL); 0: each exchange runs alone on its caller's connection (the ORM path).
DANCU_EXCHANGE_LANES = env_int("DANCU_EXCHANGE_LANES", 4, minimum=0, maximum=16)
# External providers' hosts (names or address literals) the gateway may reach at a private address
# or over plain http (agencies on the government network); any other provider host must resolve to
# public addresses only and use https (dancu.outbound; OWASP SSRF cheat sheet). Empty by default.
DANCU_EXCHANGE_PROVIDER_HOSTS = env_list("DANCU_EXCHANGE_PROVIDER_HOSTS", [])
# Exchanges a minute per client subsystem at the gateway's HTTP edge (token bucket, dancu.ratelimit;
# 0: no limit) and the bucket's size; beyond it 429 rate_limited with Retry-After.
DANCU_EXCHANGE_RATE_PER_MINUTE = env_int("DANCU_EXCHANGE_RATE_PER_MINUTE", 6000, minimum=0, maximum=1_000_000)
DANCU_EXCHANGE_BURST = env_int("DANCU_EXCHANGE_BURST", 600, minimum=1, maximum=1_000_000)
# Refusals of unauthenticated callers, and rate-limit refusals, logged in full per minute (per rule
# and client); the rest are only counted (exchange.RefusalTally), so abuse cannot grow the log.
DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE = env_int(
    "DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE", 60, minimum=0, maximum=1_000_000
)

# --- Residence notification (apps/residence; issue 6) ---
# Hours within which an accommodation declares a foreign guest (Circular 53/2016/TT-BCA: 12, or 24
# in remote areas). Read by apps/residence/rules.py through this setting.
DANCU_RESIDENCE_FOREIGNER_HOURS = env_int("DANCU_RESIDENCE_FOREIGNER_HOURS", 12, minimum=1, maximum=24)
# Hosts an establishment's webhook may reach by plain HTTP and at any address (dancu.outbound:
# tests and development only); empty in production: https to public addresses only.
DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS = env_list("DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS", [])

# --- Data cleaning (blocks/linkage, apps/cleaning; issue 8) ---
# Where trained linkage models (Splink settings with EM-trained parameters, JSON) are kept, one
# versioned file per training run; and the largest sector file accepted by an upload.
DANCU_LINKAGE_MODEL_DIR = Path(env_str("DANCU_LINKAGE_MODEL_DIR", str(BASE_DIR / "var" / "linkage")))
DANCU_CLEANING_MAX_UPLOAD_MB = env_int("DANCU_CLEANING_MAX_UPLOAD_MB", 1024, minimum=1, maximum=4096)
# Rows a cleaning job uploaded through the web may hold: its rows are stored in one request and
# linked in memory (ADR 0012); bigger files go through the scale pipeline.
DANCU_CLEANING_WEB_MAX_ROWS = env_int("DANCU_CLEANING_WEB_MAX_ROWS", 500_000, minimum=1, maximum=10_000_000)
# Retention of cleaning jobs' working data (``dancu linkage sweep``, hourly): the staged sector file
# of a job failed or never run is deleted after this many hours idle; a queued or running job with
# no progress for this many minutes has lost its worker and is marked failed (``linkage.retention``).
DANCU_LINKAGE_STAGED_RETENTION_HOURS = env_int(
    "DANCU_LINKAGE_STAGED_RETENTION_HOURS", 72, minimum=1, maximum=24 * 90
)
DANCU_LINKAGE_STALE_MINUTES = env_int("DANCU_LINKAGE_STALE_MINUTES", 60, minimum=1, maximum=24 * 60)

# --- Public services (apps/public_services; issue 7) ---
# The working-day calendar of statutory deadlines (public holidays by year, JSON) is read from
# ``DANCU_PUBLIC_SERVICES_HOLIDAYS`` when set, else apps/public_services/holidays.json; results are
# signed with the platform's receipt key (``DANCU_RECEIPT_SIGNING_KEY``, as the notary receipts).
DANCU_PUBLIC_SERVICES_HOLIDAYS = env_str("DANCU_PUBLIC_SERVICES_HOLIDAYS", "")
# The organisation (by code) whose member system the portal is on the data-exchange gateway: the
# citizen's own record is read through the gateway with its credential (``registry_link``), stored by
# ``dancu gateway_client connect --organisation <code> --system public_services ...``.
DANCU_PUBLIC_SERVICES_PORTAL_ORG = env_str("DANCU_PUBLIC_SERVICES_PORTAL_ORG", "TTPVHCC-HN")
