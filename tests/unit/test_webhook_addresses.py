"""Where a retailer's webhook may point: every spelling of a private address is one, and a POST connects
to the address that was checked, presenting the name (DNS rebinding cannot swap the address in between)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from typing import Any

import pytest

from chalicelib.notify import addresses


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("8.8.8.8", "8.8.8.8"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
    ],
)
def test_every_form_a_resolver_reads_as_an_address_is_parsed(host, address):
    assert addresses.parse_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["1.2.3.999", "0x100.1.1.1", "08.0.0.1", "1.2.3.4.5", "shop.123"])
def test_numeric_hosts_that_are_no_address_are_refused(host):
    with pytest.raises(ValueError):
        addresses.parse_address(host)
    assert not addresses.is_public_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "127.1",
        "0x7f.1",
        "0177.0.0.1",
        "2130706433",
        "localhost.",
        "LOCALHOST",
        "api.localhost.",
        "printer.local.",
        "intranet",
        "10.0.0.7",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "fe80::1%eth0",
        "0.0.0.0",
        "0",
    ],
)
def test_private_loopback_and_local_hosts_are_not_public(host):
    assert not addresses.is_public_host(host)


@pytest.mark.parametrize("host", ["hooks.example.be", "hooks.example.be.", "8.8.8.8", "2a00:1450:4001::1"])
def test_public_names_and_addresses_are(host):
    assert addresses.is_public_host(host)


def _resolver(*answers: list[str]) -> Any:
    calls: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        found = answers[min(len(calls), len(answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in found]

    getaddrinfo.calls = calls  # type: ignore[attr-defined]
    return getaddrinfo


def test_a_name_with_any_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(["93.184.216.34", "10.0.0.5"]))
    with pytest.raises(addresses.NotPublic):
        addresses.checked_address("hooks.example.be", 443, public_only=True)


def test_a_post_resolves_once_and_connects_to_the_checked_address_as_the_name(monkeypatch):
    """The resolver answers a public address, then loopback (rebinding): the POST still goes to the
    public one, with the name as Host and as the TLS server name."""
    from dataclasses import replace

    from chalicelib.core.config import settings
    from chalicelib.notify import webhooks

    monkeypatch.setattr(webhooks, "settings", lambda: replace(settings(), stage="prod"))
    resolver = _resolver(["93.184.216.34"], ["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    connected: list[tuple[str, int]] = []
    wrapped: list[str | None] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        connected.append(address)
        return object()

    class Context(ssl.SSLContext):
        def wrap_socket(self, raw: Any, *args: Any, server_hostname: str | None = None, **kw: Any) -> Any:
            wrapped.append(server_hostname)
            raise ConnectionResetError("the test stops here")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(addresses, "tls_context", lambda: Context(ssl.PROTOCOL_TLS_CLIENT))

    attempt = webhooks.post("https://hooks.example.be/mall?shop=1", "whsec", "evt_1", b"{}")

    assert (attempt.ok, attempt.error) == (False, "ConnectionResetError")
    assert resolver.calls == ["hooks.example.be"]
    assert connected == [("93.184.216.34", 443)]
    assert wrapped == ["hooks.example.be"]


def test_a_post_to_a_name_that_now_points_inside_is_not_sent(monkeypatch):
    from dataclasses import replace

    from chalicelib.core.config import settings
    from chalicelib.notify import webhooks

    monkeypatch.setattr(webhooks, "settings", lambda: replace(settings(), stage="prod"))
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(["127.0.0.1"]))
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("connected"))

    attempt = webhooks.post("https://hooks.example.be/mall", "whsec", "evt_1", b"{}")

    assert (attempt.ok, attempt.error) == (False, "host does not resolve to a public address")
