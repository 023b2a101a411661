"""Webhooks never reach internal addresses (SSRF guard): at registration and at every
delivery, through DNS answers that change, and never by following a redirect."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading

import pytest

from tests.platform.test_webhooks import Receiver, _create_customer, _endpoint
from vector_crm import jobs, netguard
from vector_crm.errors import DomainError
from vector_crm.models import WebhookDelivery, WebhookEndpoint
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private or reserved"),
        ("172.16.5.4", "private or reserved"),
        ("192.168.1.1", "private or reserved"),
        ("100.64.0.1", "private or reserved"),  # carrier-grade NAT (shared address space)
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),  # cloud metadata service
        ("0.0.0.0", "unspecified"),  # noqa: S104 - the address under test
        ("224.0.0.1", "multicast"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private or reserved"),
        ("::ffff:10.0.0.1", "private or reserved"),  # IPv4-mapped
        ("::ffff:127.0.0.1", "loopback"),
        ("8.8.8.8", None),
        ("200.1.2.3", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_blocked_reason(address, reason):
    assert netguard.blocked_reason(ipaddress.ip_address(address)) == reason


def test_loopback_only_with_the_local_setting_and_listed_networks_only():
    loopback = ipaddress.ip_address("127.0.0.1")
    assert netguard.blocked_reason(loopback, allow_loopback=True) is None
    assert netguard.blocked_reason(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) == "private or reserved"
    networks = netguard.parse_networks(["10.20.0.0/16", " fd00:1::/64 ", ""])
    assert netguard.blocked_reason(ipaddress.ip_address("10.20.3.4"), allowed_networks=networks) is None
    assert netguard.blocked_reason(ipaddress.ip_address("fd00:1::5"), allowed_networks=networks) is None
    assert netguard.blocked_reason(ipaddress.ip_address("10.21.0.1"), allowed_networks=networks) == (
        "private or reserved"
    )
    with pytest.raises(ValueError, match="'10.0.0.300/8' is not a network"):
        netguard.parse_networks(["10.0.0.300/8"])


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: host name → addresses; unknown names fail as a real lookup does."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_name_with_any_internal_address_is_refused(dns):
    dns["mixed.example"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(netguard.UnsafeDestination) as caught:
        netguard.resolve_safe("mixed.example", 443)
    assert (caught.value.address, caught.value.reason) == ("10.0.0.7", "private or reserved")
    dns["public.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert [str(a) for a in netguard.resolve_safe("public.example", 443)] == dns["public.example"]


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://127.0.0.1:8443/hook",
        "https://erp.internal.example/hook",  # resolves to a private address
    ],
)
def test_registration_refuses_internal_destinations(org_a, dns, settings, url):
    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = False
    dns["erp.internal.example"] = ["192.168.10.20"]
    with pytest.raises(DomainError) as caught:
        _endpoint(org_a, url)
    assert caught.value.field == "url"
    assert "dirección interna" in str(caught.value)
    with tenant_context(org_a.tenant.pk):
        assert not WebhookEndpoint.objects.exists()


def test_registration_accepts_public_unresolved_and_allowed_network_hosts(org_a, dns, settings):
    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = False
    dns["erp.bank.example"] = ["200.1.2.3"]
    dns["erp.internal.example"] = ["192.168.10.20"]
    assert _endpoint(org_a, "https://erp.bank.example/hook")[0].pk
    assert _endpoint(org_a, "https://not-yet-in-dns.example/hook")[0].pk  # each delivery checks again
    settings.VECTOR_WEBHOOKS_ALLOWED_NETWORKS = ["192.168.10.0/24"]
    assert _endpoint(org_a, "https://erp.internal.example/hook")[0].pk


def test_delivery_rechecks_the_address_a_rebinding_name_cannot_reach_loopback(org_a, dns, settings):
    # given an endpoint registered while its name resolved to a public address
    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = False
    dns["hooks.rebind.example"] = ["200.1.2.3"]
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        _endpoint(org_a, f"https://hooks.rebind.example:{port}/hook")
        _create_customer(org_a)
        # when the name now resolves to the loopback where something listens
        dns["hooks.rebind.example"] = ["127.0.0.1"]
        counts = jobs.deliver_webhooks_now(org_a.tenant.pk)
    # then nothing is sent and the attempt records why
    assert receiver.requests == []
    assert counts == {"delivered": 0, "failed": 1, "claimed": 1}
    with tenant_context(org_a.tenant.pk):
        delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert "destination refused" in delivery.last_error and "127.0.0.1 (loopback)" in delivery.last_error


class Redirector:
    """A local server answering every POST with a redirect to ``location``."""

    def __init__(self, location: str):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(307)
                self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_redirects_are_not_followed(org_a, settings):
    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = True  # both local servers listen on 127.0.0.1
    with Receiver() as target, Redirector(target.url) as redirector:
        _endpoint(org_a, redirector.url)
        _create_customer(org_a)
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["failed"] == 1
    assert target.requests == []
    with tenant_context(org_a.tenant.pk):
        delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 307
    assert "redirects are not followed" in delivery.last_error
