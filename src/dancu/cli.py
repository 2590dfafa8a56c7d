"""The ``dancu`` command: Django's management commands with the platform's settings.

``dancu demo`` turns demo mode on (DEBUG, a generated secret key) before Django reads its
settings; every other command runs with the secure defaults.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "demo":
        os.environ["DANCU_DEMO"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(args)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"dancu: {exc}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
