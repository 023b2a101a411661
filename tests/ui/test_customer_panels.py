"""Stage apps add panels to the customer 360 through ``customers.panels``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers import panels
from tests.ui.helpers import page_text
from vector_crm.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def scratch_panels(monkeypatch):
    monkeypatch.setattr(panels, "_PANELS", {})
    return panels


def test_a_registered_panel_renders_with_its_context(scratch_panels, client_for, org_a, book_a, settings, tmp_path):
    (tmp_path / "panel.html").write_text('<section data-testid="p">{{ label }} {{ customer.display_name }}</section>')
    # Assigning TEMPLATES (not mutating it) resets the template engines a previous test built.
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    seen = []

    def context(request, customer):
        seen.append(customer.pk)
        return {"label": "Valor A"} if request.membership.role == Role.TENANT_ADMIN else None

    scratch_panels.register_panel("test.value", template="panel.html", context=context, column="aside")
    customer = next(iter(book_a.customers.values()))
    url = reverse("customers:detail", args=[customer.pk])

    admin_text = page_text(client_for(org_a[Role.TENANT_ADMIN]).get(url))
    assert f"Valor A {customer.display_name}" in admin_text
    # a context of None hides the panel
    supervisor = client_for(org_a[Role.SUPERVISOR]).get(url)
    assert supervisor.status_code == 200
    assert "Valor A" not in page_text(supervisor)
    assert seen == [customer.pk, customer.pk]


def test_an_unknown_column_is_refused(scratch_panels):
    with pytest.raises(ValueError, match="column"):
        scratch_panels.register_panel("x", template="x.html", context=lambda r, c: {}, column="footer")
