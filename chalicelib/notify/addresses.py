"""Where a retailer's webhook may point, and a connection that goes exactly there.

A host is judged once at registration (the name as written) and again before each POST (its addresses),
and the POST connects to the address that was checked: resolving a second time to connect would let a
name point at a public address for the check and at the mall's own network for the connection (DNS
rebinding). The connection still speaks to the name: Host header, TLS SNI and certificate check.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import cache
from typing import Any

# Names that are never on the internet: the machine itself and link-local or private zones.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp")
# One part of an IPv4 address as inet_aton reads it: decimal, octal (leading 0) or hexadecimal (0x).
_AT_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def normalise_host(host: str) -> str:
    """Lower case, without the trailing dot of a fully qualified name ("localhost." is localhost)."""
    return host.lower().rstrip(".")


def parse_address(host: str) -> IpAddress | None:
    """The IP address ``host`` denotes, in any form a resolver accepts (``127.1``, ``0x7f.1``,
    ``0177.0.0.1``, ``2130706433``); None for a name. Raises ValueError for a numeric host that is no
    address (``1.2.3.999``): a resolver would refuse it too, and it is no name either."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not all(_AT_PART.match(part) for part in parts):
        if _AT_PART.match(parts[-1]) and not parts[-1].startswith("0x"):
            raise ValueError(f"{host} ends in a number but is not an address")
        return None  # a name (a top-level domain is never all digits)
    if len(parts) > 4:
        raise ValueError(f"{host} has too many parts")
    values = [_inet_aton_part(part) for part in parts]
    # inet_aton: every part but the last is one byte; the last fills the remaining bytes.
    last_bytes = 5 - len(values)
    if any(v > 0xFF for v in values[:-1]) or values[-1] >= 1 << (8 * last_bytes):
        raise ValueError(f"{host} is out of range")
    number = 0
    for value in values[:-1]:
        number = number << 8 | value
    number = number << (8 * last_bytes) | values[-1]
    return ipaddress.IPv4Address(number)


def _inet_aton_part(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # ValueError for 08 or 09, as inet_aton refuses them
    return int(part)


def is_public_address(address: IpAddress) -> bool:
    """Global, and not an IPv6 wrapping of an address that is not (::ffff:127.0.0.1, 64:ff9b::7f00:1)."""
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not embedded.is_global:
            return False
    return True


def is_public_host(host: str) -> bool:
    """Whether a URL's host may be registered: a public address, or a name outside the local zones (its
    addresses are checked again before each POST)."""
    host = normalise_host(host)
    if not host or host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return False
    try:
        address = parse_address(host)
    except ValueError:
        return False
    if address is not None:
        return is_public_address(address)
    return "." in host  # a bare name ("intranet") is resolved by the local search domains


class NotPublic(Exception):
    """The host has no address, or one of its addresses is not public."""


def checked_address(host: str, port: int, *, public_only: bool) -> str:
    """Resolves ``host`` once and returns the address to connect to. With ``public_only``, every address
    it resolves to must be public (a name with one internal address among public ones is refused, since
    which one a client picks is not ours to say)."""
    try:
        infos = socket.getaddrinfo(normalise_host(host), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise NotPublic(host) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise NotPublic(host)
    if public_only and not all(is_public_address(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
        raise NotPublic(host)
    return addresses[0]


@cache
def tls_context() -> Any:
    import ssl

    return ssl.create_default_context()


def pinned_connection(scheme: str, host: str, address: str, port: int, timeout: float) -> Any:
    """An http.client connection to ``address`` that presents itself as ``host`` (Host header, and for
    https the SNI name and the certificate's name). It never follows redirects (http.client does not)."""
    import http.client

    class PinnedHTTP(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.create_connection((address, self.port), self.timeout)

    class PinnedHTTPS(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection((address, self.port), self.timeout)
            self.sock = tls_context().wrap_socket(raw, server_hostname=self.host)

    if scheme == "https":
        return PinnedHTTPS(host, port, timeout=timeout, context=tls_context())
    return PinnedHTTP(host, port, timeout=timeout)
