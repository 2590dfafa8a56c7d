"""Settings for the test suite: the production settings with a throw-away secret key.

The database comes from ``DATABASE_URL`` exactly as in production (SQLite by default, PostgreSQL
in CI), so the suite runs on both.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from dancu.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True  # serve static files from the apps in tests, no collectstatic
# Look-ups run on the test's own connection (inside its transaction, or alone); the coalescer's
# connections would outlive a test and keep the test database from being dropped. The tests of
# the coalescer turn it on and close its connections themselves.
DANCU_LOOKUP_LANES = 0
DANCU_VERIFY_LANES = 0  # the same for the verification hot route (ADR 0020)
# The same for the gateway's group commits (ADR 0010 §13); the crash test's server turns them on.
DANCU_EXCHANGE_LANES = int(os.environ.get("DANCU_EXCHANGE_LANES", "0"))
# The live server of the browser tests answers each request in a thread of its own: close the
# connection at the end of each request, or finished threads leave sessions open and the test
# database cannot be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Staff pages accept a session without the platform's SSO sign-in (ADR 0011), so that tests may
# use ``client.force_login``; the tests of the staff sign-in and the browser tests turn it on.
DANCU_STAFF_SSO_REQUIRED = False
# The test suite is a development setting: the development payment gateway (ADR 0016).
DANCU_PAYMENT_DEV_ALLOWED = True
DANCU_PAYMENT_DRIVER = "dev"
# Fault injection (``dancu.apps.public_services.faults``): the crash test's server process dies at
# the points this file names. Test settings only — ``dancu.settings`` never defines it: off in production.
DANCU_TEST_FAULTS_FILE = os.environ.get("DANCU_TEST_FAULTS_FILE", "")
# Where the crash test's server process stores the documents (the test reads the same folder).
DANCU_PUBLIC_SERVICES_UPLOAD_DIR = os.environ.get("DANCU_PUBLIC_SERVICES_UPLOAD_DIR", "")
