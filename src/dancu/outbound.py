"""Outgoing HTTP requests to URLs that users register (webhooks), guarded against server-side
request forgery.

The rules follow the OWASP Server-Side Request Forgery Prevention Cheat Sheet ("Case 2:
application can send requests to any external IP address or domain name"):

* :func:`url_problem`, when the URL is registered: ``https`` only (plain ``http`` only to hosts an
  operator lists for tests and development), no credentials in the URL, a sane port, a syntactically
  valid host; an IPv4 address only in its dotted-decimal form (``127.1``, ``0x7f000001``,
  ``2130706433``, ``169.254.43518`` are refused: the cheat sheet's "alternative IP encodings"); no
  ``localhost`` name (RFC 6761 §6.3); an address literal, or a name that resolves now, must be public.
* :func:`post`, at every delivery: the host is resolved with :func:`socket.getaddrinfo` *then*,
  every address it resolves to must be public, and the connection is made to that checked address
  (the ``Host`` header and the TLS SNI and certificate check still use the name), so that DNS
  rebinding between the check and the connection cannot redirect the request. Redirects are never
  followed: a 3xx answer is returned as is, and the caller counts it a failed delivery.

"Public" means the address is globally reachable under the IANA special-purpose address registries
that RFC 6890 established (``ipaddress``'s ``is_global``) and is none of private, loopback,
link-local, multicast, reserved or unspecified; an IPv4-mapped (``::ffff:a.b.c.d``), 6to4, Teredo or
NAT64 (``64:ff9b::/96``) IPv6 address is judged by the IPv4 address it carries.

Hosts listed in the caller's ``allow_http_hosts`` (``DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS``,
``DANCU_EXCHANGE_WEBHOOK_HTTP_HOSTS``; empty in production) skip the address check: they are the
test and development receivers on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Special-purpose blocks not globally reachable (RFC 6890 §2.2.2 IETF protocol assignments,
# RFC 8215 local-use NAT64) that older ``ipaddress`` versions still call global.
_NOT_GLOBAL = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# How much of an answer is read (the status is what counts; the body is discarded).
_MAX_ANSWER = 64 * 1024


class Refused(ValueError):
    """The URL or the address it resolves to is not allowed (nothing was sent)."""


class DeliveryFailed(OSError):
    """The receiver's answer was not HTTP (a malformed status line, headers …)."""


def forbidden_address(address: IPAddress) -> bool:
    """Whether requests must not go to ``address``: anything not globally reachable under RFC 6890's
    special-purpose registries, or private, loopback, link-local, multicast, reserved, unspecified
    (OWASP SSRF cheat sheet); IPv6 addresses that embed an IPv4 address are judged by it too."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo is not None:
            embedded.append(address.teredo[1])
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(e is not None and forbidden_address(e) for e in embedded):
            return True
    return (
        not address.is_global
        or any(address in block for block in _NOT_GLOBAL if block.version == address.version)
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``host`` denotes under the lenient C ``inet_aton`` parser (which
    ``getaddrinfo`` uses: ``127.1``, ``0x7f000001``, ``2130706433``, ``0177.0.0.1``), or None."""
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _host_of(url: str) -> tuple[str, str, int]:
    """(scheme, ASCII host without brackets, port) of ``url``, or :class:`Refused`."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        raise Refused("not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise Refused("must be an https:// URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("no credentials in the URL")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if not 0 < port < 65536:
        raise Refused("not a valid port")
    if ":" in host:  # an IPv6 literal (urlsplit took it out of its brackets)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise Refused("not a valid host") from None
        return parts.scheme, host, port
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("not a valid host") from None
    labels = ascii_host[:-1].split(".") if ascii_host.endswith(".") else ascii_host.split(".")
    if len(ascii_host) > 254 or not all(_LABEL.match(label) for label in labels):
        raise Refused("not a valid host")
    return parts.scheme, ascii_host, port


def _literal(host: str) -> IPAddress | None:
    """The address ``host`` is written as, or None for a name; :class:`Refused` for an IPv4
    address written other than in dotted-decimal (the alternative encodings of the cheat sheet)."""
    if ":" in host:
        return ipaddress.IPv6Address(host)
    numeric = _numeric_ipv4(host.rstrip("."))
    if numeric is not None and str(numeric) != host:
        raise Refused("an IP address must be written in dotted-decimal form")
    return numeric


def _is_localhost(host: str) -> bool:
    name = host.rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _normalise(hosts: Iterable[str]) -> set[str]:
    return {h.strip().lower().strip("[]").rstrip(".") for h in hosts if h.strip()}


def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    found: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def url_problem(url: str, *, allow_http_hosts: Iterable[str], resolve: bool = True) -> str:
    """Why ``url`` cannot receive webhooks ("" if it can), when it is registered (OWASP SSRF
    cheat sheet; RFC 6890 special-purpose addresses): see the module's rules. With ``resolve``, a
    name is looked up now and refused if any address is not public; a name that does not resolve
    (yet) is accepted, since :func:`post` checks again, and refuses, at every delivery."""
    try:
        scheme, host, port = _host_of(url)
        if host in _normalise(allow_http_hosts):
            return ""
        if scheme != "https":
            return "must be an https:// URL"
        if _is_localhost(host):
            return "must not be a local address"
        literal = _literal(host)
    except Refused as exc:
        return str(exc)
    if literal is not None:
        return "must not be a private or local address" if forbidden_address(literal) else ""
    if resolve:
        try:
            addresses = _resolve(host, port)
        except (OSError, UnicodeError, ValueError):
            return ""
        if any(forbidden_address(a) for a in addresses):
            return "must not resolve to a private or local address"
    return ""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an already checked address, with SNI and the certificate checked against the
    name of the URL (``ssl`` context ``server_hostname``), not the address."""

    def __init__(
        self, address: str, port: int, *, server_hostname: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self._pinned_context = context
        self._server_hostname = server_hostname

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._pinned_context.wrap_socket(self.sock, server_hostname=self._server_hostname)


@dataclass(frozen=True)
class Answer:
    """What :func:`send` got back: the status, and at most ``max_bytes + 1`` bytes of the body (so
    that the caller can tell an answer that is too large)."""

    status: int
    body: bytes


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    *,
    allow_http_hosts: Iterable[str] = (),
    context: ssl.SSLContext | None = None,
) -> int:
    """POST ``body`` to ``url`` once and return the HTTP status (:func:`send`'s rules; the answer's
    body is read up to 64 KiB and discarded)."""
    answer = send("POST", url, body, headers, timeout, allow_http_hosts=allow_http_hosts, context=context)
    return answer.status


def send(
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    *,
    allow_http_hosts: Iterable[str] = (),
    context: ssl.SSLContext | None = None,
    max_bytes: int = _MAX_ANSWER,
) -> Answer:
    """Send one request to ``url`` and return its status and body (a 3xx is returned, never
    followed). The host is resolved now; :class:`Refused` (nothing sent) if the URL breaks a rule
    of :func:`url_problem` or any address it resolves to is not public (OWASP SSRF cheat sheet;
    RFC 6890) unless the host is in ``allow_http_hosts``. The connection goes to the checked
    address, so DNS rebinding cannot change it. Network failures raise :class:`OSError` (a
    timeout: :class:`TimeoutError`)."""
    allowed = _normalise(allow_http_hosts)
    problem = url_problem(url, allow_http_hosts=allowed, resolve=False)
    if problem:
        raise Refused(problem)
    scheme, host, port = _host_of(url)
    addresses = _resolve(host, port)
    if not addresses:
        raise Refused("the host has no address")
    if host not in allowed and any(forbidden_address(a) for a in addresses):
        raise Refused("the host resolves to a private or local address")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = f"[{host}]" if ":" in host else host
    if port != (443 if scheme == "https" else 80):
        host_header += f":{port}"
    sent = {k: v for k, v in headers.items() if k.lower() != "host"} | {"Host": host_header}
    last_error: OSError = OSError("no address could be reached")
    for address in addresses:
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = _PinnedHTTPSConnection(
                str(address),
                port,
                server_hostname=host.rstrip("."),
                timeout=timeout,
                context=context or ssl.create_default_context(),
            )
        else:
            conn = http.client.HTTPConnection(str(address), port, timeout=timeout)
        try:
            try:
                conn.connect()
            except OSError as exc:
                last_error = exc
                continue
            conn.request(method, target, body=body, headers=sent)
            response = conn.getresponse()
            return Answer(int(response.status), response.read(max_bytes + 1))
        except http.client.HTTPException as exc:
            raise DeliveryFailed(f"{exc.__class__.__name__}: {exc}") from exc
        finally:
            conn.close()
    raise last_error
