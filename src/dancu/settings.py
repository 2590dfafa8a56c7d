"""Django settings, all from environment variables (see ``dancu.config`` and docs/configuration.md).

Secure by default: DEBUG is off and ``SECRET_KEY`` is required unless the demo command
(``dancu demo``, run by ``make run``) sets ``DANCU_DEMO=1``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

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
    "dancu.apps.sso_demo",
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
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dancu"}
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ConfigError("CACHE_URL", "must be empty, locmem:// or redis://host:port/db")


CACHES = {"default": _cache_config(env_str("CACHE_URL", ""))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
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
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Platform settings.
DANCU_CITY_PROVINCE_CODE = env_str("DANCU_CITY_PROVINCE_CODE", "01")
# Verification API (issue 3): requests per minute and burst per API key or staff member.
DANCU_API_RATE_PER_MINUTE = env_int("DANCU_API_RATE_PER_MINUTE", 120, minimum=1, maximum=100_000)
DANCU_API_BURST = env_int("DANCU_API_BURST", 30, minimum=1, maximum=100_000)
# Connections per process on which concurrent registry look-ups share statements (ADR 0006);
# 0: each look-up runs alone on its caller's connection.
DANCU_LOOKUP_LANES = env_int("DANCU_LOOKUP_LANES", 2, minimum=0, maximum=16)
DANCU_DEMO_CITIZENS = env_int("DANCU_DEMO_CITIZENS", 20_000, minimum=0, maximum=10_000_000)

# --- eID accounts (blocks/eid, apps/citizen, apps/eiddesk; issue 4) ---

# --- OpenID Connect provider (blocks/sso, apps/sso_demo; issue 4) ---
