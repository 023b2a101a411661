"""A tenant admin registers a webhook endpoint in real Chromium and sees the signing secret
exactly once."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_customer_journey import sign_in
from vector_crm.models import WebhookEndpoint
from vector_crm.tenancy import tenant_context

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_registers_an_endpoint_and_sees_the_secret_once(page, org_a):
    from playwright.sync_api import expect

    sign_in(page, "a_tenant_admin")
    # the settings navigation leads to the webhooks page, next to the API keys
    page.get_by_test_id("nav-webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")

    form = page.get_by_test_id("webhook-form")
    form.get_by_label("URL").fill("https://erp.bancoandino.example/hooks")
    form.get_by_label("Descripción").fill("ERP central")
    form.get_by_role("checkbox", name=re.compile(r"customer\.created")).check()
    form.get_by_role("button", name="Registrar endpoint").click()

    # the secret is on the answer, once
    shown = page.get_by_test_id("webhook-secret")
    expect(shown).to_have_value(re.compile(r"^[0-9a-f]{64}$"))
    secret = shown.input_value()
    with tenant_context(org_a.tenant.pk):
        endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.url, endpoint.event_types) == (
        secret,
        "https://erp.bancoandino.example/hooks",
        ["customer.created"],
    )

    # and never again: neither on the endpoint's page nor after going back to the list
    page.get_by_role("link", name="Listo, ya lo copié").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("https://erp.bancoandino.example/hooks")
    expect(page.get_by_test_id("no-deliveries")).to_be_visible()
    assert secret not in page.content()
    page.goto("/settings/webhooks/")
    expect(page.get_by_test_id("webhook-endpoints")).to_contain_text("ERP central")
    assert secret not in page.content()
    assert page.external_requests == []
