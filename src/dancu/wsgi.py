"""WSGI entry point (``gunicorn dancu.wsgi`` or ``dancu runserver``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
application = get_wsgi_application()
