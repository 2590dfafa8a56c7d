"""Personal identifiers kept out of the log (Law 91/2025/QH15 on personal data protection, in force
1 January 2026; domain-vn §8: no personal data in logs).

Django's ``django.request`` logger names the path of every 4xx and 5xx answer ("Not Found:
/api/v1/registry/citizens/001085000001"), and the registry's and the gateway's paths carry ID
numbers; an exception's text may quote a value the database refused. The platform's own log lines
never name a person, but those do. :class:`RedactingFormatter` formats a record as
``logging.Formatter`` does, then masks every run of 9 to 12 digits that stands alone — a citizen's
12-digit personal identification number, a 9-digit identity card (CMND) number, a 10- or 11-digit
phone number (domain-vn §1) — keeping the first three digits (the province code of an ID number,
the carrier prefix of a phone number), so a log still tells which province or kind of number was
involved without naming anyone. Longer runs (hashes, keys) and shorter ones (counts, ports, years)
are left as they are.
"""

from __future__ import annotations

import logging
import re

# Standalone: not inside a longer word or number — but right after a percent-escape (``%2F``,
# ``%3D`` of an encoded path or ``next=`` parameter), whose hex digits are not a word.
_IDENTIFIER = re.compile(r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9A-Za-z]))([0-9]{3})[0-9]{6,9}(?![0-9A-Za-z])")


def redact(text: str) -> str:
    """``text`` with each standalone run of 9–12 digits reduced to its first three and ``*``s."""
    return _IDENTIFIER.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 3), text)


class RedactingFormatter(logging.Formatter):
    """The configured format, with identifiers masked in the whole output (message, arguments,
    exception text and stack)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
