"""Where the CRM may send outgoing requests (webhook deliveries): public addresses only.

A tenant admin types the webhook URL, so without a guard any tenant could make the
server POST to its own private network (the database, Redis, a cloud metadata service at
169.254.169.254): server-side request forgery. The rules:

* every address a host name resolves to must be globally routable (not private, loopback,
  link-local, shared, reserved, multicast or unspecified); IPv4-mapped IPv6 addresses are
  judged as the IPv4 address they carry;
* addresses inside ``VECTOR_WEBHOOKS_ALLOWED_NETWORKS`` (CIDRs the operator lists, such as a
  bank's internal integration network) are allowed;
* loopback is allowed only with ``VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP`` (development, tests).

The delivery connects to the very address that was checked (``resolve_safe`` then a pinned
connection in ``post_pinned``), so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot redirect it, and redirects are never followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(Exception):
    """The URL's host is, or resolves to, an address outgoing requests may not reach."""

    def __init__(self, host: str, address: str, reason: str):
        super().__init__(f"{host} resolves to {address} ({reason})")
        self.host, self.address, self.reason = host, address, reason


def _plain(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def blocked_reason(
    address: Address, *, allow_loopback: bool = False, allowed_networks: Iterable[ipaddress._BaseNetwork] = ()
) -> str | None:
    """Why outgoing requests may not reach ``address``, or None when they may."""
    address = _plain(address)
    if any(address.version == net.version and address in net for net in allowed_networks):
        return None
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if not address.is_global:
        return "private or reserved"
    return None


def parse_networks(values: Iterable[str]) -> tuple[ipaddress._BaseNetwork, ...]:
    """CIDR strings (``10.20.0.0/16``) as networks; a bad entry raises ValueError naming it."""
    networks = []
    for value in values:
        value = value.strip()
        if value:
            try:
                networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError as exc:
                raise ValueError(f"VECTOR_WEBHOOKS_ALLOWED_NETWORKS: {value!r} is not a network") from exc
    return tuple(networks)


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))


def check_addresses(host: str, addresses: Iterable[Address], **rules) -> list[Address]:
    """``addresses`` when all are allowed; otherwise UnsafeDestination for the first refused."""
    addresses = list(addresses)
    for address in addresses:
        reason = blocked_reason(address, **rules)
        if reason:
            raise UnsafeDestination(host, str(address), reason)
    return addresses


def resolve_safe(host: str, port: int, **rules) -> list[Address]:
    """Resolve ``host`` and refuse it if any of its addresses is not allowed (a name with
    one public and one private address is refused: the resolver may hand out either)."""
    return check_addresses(host, resolve(host, port), **rules)


def settings_rules() -> dict:
    """The guard's rules from the Django settings."""
    from django.conf import settings

    return {
        "allow_loopback": settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP,
        "allowed_networks": parse_networks(settings.VECTOR_WEBHOOKS_ALLOWED_NETWORKS),
    }


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address while the request keeps the URL's host name."""

    def __init__(self, host, port, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the URL's host name (SNI and certificate)."""

    def __init__(self, host, port, address: str, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post_pinned(url: str, body: bytes, headers: dict[str, str], *, timeout: float, rules: dict) -> tuple[int, bytes]:
    """POST ``body`` to ``url`` over a connection to an allowed address of its host.

    Returns (status, first 1,000 bytes of the response). Raises UnsafeDestination, OSError
    (connection, TLS, timeout) or ValueError (a malformed URL). A redirect is returned as
    its status, never followed.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("unsupported URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = str(resolve_safe(parts.hostname, port, **rules)[0])
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(1000)
    finally:
        connection.close()
