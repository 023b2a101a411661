"""Customer list (search, filters, keyset pages, query counts) and the customer 360."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.choices import LifecycleStatus
from customers.models import Interaction
from tests import factories as f
from tests.ui.helpers import element_html, fragment_text, page_text
from vector_crm.audit import audit_entries_for
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

LIST = reverse("customers:list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(customer):
    return reverse("customers:detail", args=[customer.pk])


def log_url(customer):
    return reverse("customers:interaction_log", args=[customer.pk])


# --- List -----------------------------------------------------------------------------


def test_advisor_list_shows_own_and_branch_unassigned_customers(client_for, org_a, org_b, book_a, book_b):
    text = page_text(client_for(org_a[Role.ADVISOR]).get(LIST))
    for visible in ("María José Peña Rojas", "Carlos Gómez", "Ferretería El Tornillo SAS", "Ulises Libre"):
        assert visible in text
    for hidden in ("Lucía Teamo", "Sofía Sureña", "Pedro Pacífico"):
        assert hidden not in text


def test_list_rows_show_identification_branch_owner_and_status(client_for, org_a, book_a):
    response = client_for(org_a[Role.TENANT_ADMIN]).get(LIST, {"q": "María"})
    text = page_text(response)
    assert "María José Peña Rojas · Persona CC 52345678 a Norte a_advisor En mora" in text


def test_admin_sees_the_whole_institution_and_nothing_else(client_for, org_a, org_b, book_a, book_b):
    text = page_text(client_for(org_a[Role.TENANT_ADMIN]).get(LIST))
    for name in ("María José Peña Rojas", "Lucía Teamo", "Sofía Sureña", "Ulises Libre"):
        assert name in text
    assert "Pedro Pacífico" not in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mari", "María José Peña Rojas"),  # accent-insensitive name prefix
        ("FERRETERÍA", "Ferretería El Tornillo SAS"),
        ("5234", "María José Peña Rojas"),  # identification number prefix
        ("300 123 4567", "María José Peña Rojas"),  # mobile, typed with spaces
    ],
)
def test_search_by_name_identification_or_phone(client_for, org_a, book_a, query, expected):
    response = client_for(org_a[Role.TENANT_ADMIN]).get(LIST, {"q": query})
    text = page_text(response)
    assert expected in text
    assert "Carlos Gómez" not in text


def test_search_without_match_says_so(client_for, org_a, book_a):
    response = client_for(org_a[Role.ADVISOR]).get(LIST, {"q": "zzz"})
    assert "Ningún cliente coincide con la búsqueda." in page_text(response)


def test_htmx_search_returns_only_the_results_fragment(client_for, org_a, book_a):
    response = client_for(org_a[Role.ADVISOR]).get(LIST, {"q": "car"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="customer-filters"' not in html
    assert "Carlos Gómez" in page_text(response)
    assert "María José Peña Rojas" not in page_text(response)
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_full_page(client_for, org_a, book_a):
    response = client_for(org_a[Role.ADVISOR]).get(
        LIST, {"q": "car"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_search_box_is_wired_for_live_search(client_for, org_a):
    html = client_for(org_a[Role.ADVISOR]).get(LIST).content.decode()
    box = element_html_by_name(html, "q")
    assert f'hx-get="{LIST}"' in box
    assert 'hx-trigger="keyup changed delay:300ms, search"' in box
    assert 'hx-target="#customer-results"' in box


def element_html_by_name(html: str, name: str) -> str:
    start = html.index(f'name="{name}"')
    return html[html.rindex("<", 0, start) : html.index(">", start)]


def test_filters_by_status_kind_and_branch(client_for, org_a, book_a):
    client = client_for(org_a[Role.TENANT_ADMIN])
    delinquent = page_text(client.get(LIST, {"lifecycle_status": LifecycleStatus.DELINQUENT}))
    assert "María José Peña Rojas" in delinquent and "Carlos Gómez" not in delinquent

    companies = page_text(client.get(LIST, {"kind": "company"}))
    assert "Ferretería El Tornillo SAS" in companies and "María José Peña Rojas" not in companies

    south = page_text(client.get(LIST, {"branch": org_a.branches[1].pk}))
    assert "Sofía Sureña" in south and "María José Peña Rojas" not in south


def test_another_tenants_branch_filter_finds_nothing(client_for, org_a, org_b, book_a):
    response = client_for(org_a[Role.TENANT_ADMIN]).get(LIST, {"branch": org_b.branches[0].pk})
    assert response.status_code == 200
    # an invalid choice filters nothing out, it never reaches tenant B
    assert "Pedro Pacífico" not in page_text(response)


def test_list_accepts_the_shared_filterset_parameters(client_for, org_a, book_a):
    # the list filters with customers.filters.CustomerFilterSet, like the API
    text = page_text(client_for(org_a[Role.TENANT_ADMIN]).get(LIST, {"unassigned": "true"}))
    assert "Ulises Libre" in text
    assert "María José Peña Rojas" not in text


def test_malformed_cursor_is_ignored(client_for, org_a, book_a):
    response = client_for(org_a[Role.ADVISOR]).get(LIST, {"after": "abc", "before": "-1"})
    assert response.status_code == 200
    assert "Carlos Gómez" in page_text(response)


def _many_customers(org, count, *, owner=None):
    with tenant_context(org.tenant.pk):
        return [
            f.CustomerFactory(first_name=f"Cliente{n:03d}", last_name="Serie", owner=owner, branch=org.branches[0])
            for n in range(count)
        ]


def test_keyset_pages_cover_every_customer_once(client_for, org_a):
    # given 30 customers (newest first, 25 per page)
    customers = _many_customers(org_a, 30)
    client = client_for(org_a[Role.TENANT_ADMIN])
    first = client.get(LIST)
    first_text = page_text(first)
    assert "Cliente029 Serie" in first_text and "Cliente005 Serie" in first_text
    assert "Cliente004 Serie" not in first_text
    assert "Anteriores" not in first_text
    assert first.context["next_query"] == f"after={customers[5].pk}"

    second = client.get(f"{LIST}?{first.context['next_query']}")
    second_text = page_text(second)
    assert [n for n in range(30) if f"Cliente{n:03d} Serie" in second_text] == [0, 1, 2, 3, 4]
    assert "Siguientes" not in second_text

    back = client.get(f"{LIST}?{second.context['previous_query']}")
    assert [r.pk for r in back.context["page"]["rows"]] == [c.pk for c in reversed(customers[5:])]


def test_pager_keeps_the_filters(client_for, org_a):
    _many_customers(org_a, 27)
    response = client_for(org_a[Role.TENANT_ADMIN]).get(LIST, {"q": "cliente", "lifecycle_status": "active"})
    assert response.context["next_query"].startswith("q=cliente&lifecycle_status=active&after=")


def test_list_query_count_does_not_grow_with_rows(client_for, org_a, django_assert_max_num_queries):
    # given an advisor owning 10 customers, then 50
    advisor = org_a[Role.ADVISOR]
    client = client_for(advisor)
    filtered = {"q": "cliente", "lifecycle_status": "active", "kind": "person", "branch": org_a.branches[0].pk}
    _many_customers(org_a, 10, owner=advisor.user)
    client.get(LIST)  # the first request of a session does one-off work
    with CaptureQueriesContext(connection) as plain_ten:
        assert len(client.get(LIST).context["page"]["rows"]) == 10
    with CaptureQueriesContext(connection) as filtered_ten:
        assert len(client.get(LIST, filtered).context["page"]["rows"]) == 10
    # when the portfolio grows to 50 rows, then the pages cost the same queries
    _many_customers(org_a, 40, owner=advisor.user)
    with django_assert_max_num_queries(len(plain_ten)):
        assert len(client.get(LIST).context["page"]["rows"]) == 25
    with django_assert_max_num_queries(len(filtered_ten)):
        assert len(client.get(LIST, filtered).context["page"]["rows"]) == 25
    # session, user, membership, customers, memberships (switcher), branches (filter)
    assert len(plain_ten) <= 6


# --- Customer 360 ---------------------------------------------------------------------


def test_360_shows_profile_holdings_and_money_in_cop(client_for, org_a, book_a):
    response = client_for(org_a[Role.ADVISOR]).get(detail_url(book_a["maria"]))
    assert response.status_code == 200
    text = page_text(response)
    assert "María José Peña Rojas" in text
    assert "Cédula de ciudadanía (CO) 52345678" in text
    assert "Docente" in text and "14/03/1985" in text
    # balances, credit limit and what is left of it, in pesos with Colombian separators
    card = fragment_text(element_html(response, "holding-TC-0001"))
    assert "$1.200.000,00 $5.000.000,00 Disponible $3.800.000,00" in card
    assert "$2.500.000,50" in text
    # an account in dollars keeps its own currency
    assert "US$10.000,00" in fragment_text(element_html(response, "holding-CDT-USD-1"))
    # totals per category and currency: never dollars added to pesos
    assert "Pasivo · COP $2.500.000,50" in text
    assert "Pasivo · USD US$10.000,00" in text
    assert "Activo · COP $1.200.000,00" in text


def test_360_highlights_days_past_due(client_for, org_a, book_a):
    response = client_for(org_a[Role.ADVISOR]).get(detail_url(book_a["maria"]))
    card = element_html(response, "holding-TC-0001")
    assert '<span class="dpd dpd--late" data-testid="dpd">45</span>' in card
    savings = element_html(response, "holding-AHO-0001")
    assert '<span class="dpd dpd--current" data-testid="dpd">0</span>' in savings
    assert "45 días de mora" in page_text(response)


def test_360_shows_consents_and_timeline_in_tenant_time(client_for, org_a, book_a):
    text = page_text(client_for(org_a[Role.ADVISOR]).get(detail_url(book_a["maria"])))
    assert "Correo electrónico Autoriza" in text
    assert "WhatsApp No autoriza" in text
    # 15:30 UTC is 10:30 in Bogotá
    assert "02/04/2026 10:30 · Teléfono · Saliente · a_advisor Llamada Promesa de pago" in text
    assert "Promete pagar la cuota de la tarjeta el viernes" in text


def test_360_of_an_ecuadorian_customer_in_dollars(client_for, org_b, book_b):
    text = page_text(client_for(org_b[Role.ADVISOR]).get(detail_url(book_b["pedro"])))
    assert "Pedro Pacífico" in text
    assert "Pasivo · USD $1.234,50" in text


def test_360_of_a_company_shows_its_company_profile(client_for, org_a, book_a):
    text = page_text(client_for(org_a[Role.ADVISOR]).get(detail_url(book_a["company"])))
    assert "Ferretería El Tornillo SAS" in text
    assert "Sector económico" in text and "Nacimiento" not in text


def test_another_tenants_customer_is_a_404(client_for, org_a, book_a, book_b):
    client = client_for(org_a[Role.TENANT_ADMIN])
    response = client.get(detail_url(book_b["pedro"]))
    assert response.status_code == 404
    assert "Pedro" not in response.content.decode()


def test_customer_outside_the_portfolio_is_a_404(client_for, org_a, book_a):
    client = client_for(org_a[Role.ADVISOR])
    assert client.get(detail_url(book_a["south"])).status_code == 404
    assert client.get(detail_url(book_a["teammate"])).status_code == 404
    assert client.get(reverse("customers:detail", args=[999_999])).status_code == 404


# --- Logging an interaction ----------------------------------------------------------


def _interaction_form(**overrides):
    data = {
        "interaction_type": "call",
        "channel": "phone",
        "direction": "outbound",
        "outcome": "interested",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_htmx_interaction_is_logged_through_the_service(client_for, org_a, book_a):
    advisor = org_a[Role.ADVISOR]
    customer = book_a["carlos"]
    response = client_for(advisor).post(
        log_url(customer), _interaction_form(notes="Interesado en CDT a 180 días"), **HTMX
    )
    assert response.status_code == 200
    text = page_text(response)
    assert "Interacción registrada." in text
    assert "Interesado en CDT a 180 días" in text
    assert "<html" not in response.content.decode()
    with tenant_context(org_a.tenant.pk):
        logged = Interaction.objects.get(customer=customer)
        assert (logged.user, logged.channel, logged.outcome) == (advisor.user, "phone", "interested")
        assert logged.tenant_id == org_a.tenant.pk
        # the service left an audit entry attributed to the advisor
        assert audit_entries_for(logged).get().actor == advisor.user


def test_interaction_time_is_read_in_the_tenant_time_zone(client_for, org_a, book_a):
    client_for(org_a[Role.ADVISOR]).post(
        log_url(book_a["carlos"]), _interaction_form(occurred_at="2026-03-01T09:15"), **HTMX
    )
    with tenant_context(org_a.tenant.pk):
        logged = Interaction.objects.get(customer=book_a["carlos"])
    assert logged.occurred_at == dt.datetime(2026, 3, 1, 14, 15, tzinfo=dt.UTC)


def test_plain_form_post_redirects_back_to_the_360(client_for, org_a, book_a):
    client = client_for(org_a[Role.ADVISOR])
    response = client.post(log_url(book_a["carlos"]), _interaction_form(notes="Visita en agencia"))
    assert response.status_code == 302
    assert response["Location"] == detail_url(book_a["carlos"])
    followed = page_text(client.get(response["Location"]))
    assert "Interacción registrada." in followed and "Visita en agencia" in followed


def test_invalid_interaction_shows_errors_and_writes_nothing(client_for, org_a, book_a):
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(org_a[Role.ADVISOR]).post(
        log_url(book_a["carlos"]), _interaction_form(interaction_type="", occurred_at=future), **HTMX
    )
    assert response.status_code == 422
    text = page_text(response)
    assert "Este campo es requerido." in text
    assert "La fecha no puede estar en el futuro." in text
    with tenant_context(org_a.tenant.pk):
        assert not Interaction.objects.filter(customer=book_a["carlos"]).exists()


def test_interaction_on_a_customer_out_of_reach_is_a_404(client_for, org_a, book_a, book_b):
    client = client_for(org_a[Role.ADVISOR])
    assert client.post(log_url(book_a["south"]), _interaction_form(), **HTMX).status_code == 404
    assert client.post(log_url(book_b["pedro"]), _interaction_form(), **HTMX).status_code == 404
    with tenant_context(org_a.tenant.pk):
        assert not Interaction.objects.filter(customer=book_a["south"]).exists()


def test_roles_without_the_capability_get_no_form(client_for, org_a, book_a):
    analyst = client_for(org_a[Role.ANALYST])
    response = analyst.get(detail_url(book_a["maria"]))
    assert response.status_code == 200
    assert 'data-testid="interaction-form"' not in response.content.decode()
    assert analyst.post(log_url(book_a["maria"]), _interaction_form(), **HTMX).status_code == 403


def test_360_query_count_does_not_grow_with_holdings_or_interactions(
    client_for, org_a, book_a, django_assert_max_num_queries
):
    client = client_for(org_a[Role.ADVISOR])
    maria = book_a["maria"]
    client.get(detail_url(maria))
    with CaptureQueriesContext(connection) as few:
        client.get(detail_url(maria))
    # given ten more accounts and twenty more interactions
    with tenant_context(org_a.tenant.pk):
        for n in range(10):
            f.HoldingFactory(customer=maria, account_number=f"EXTRA-{n}", days_past_due=n)
        for _n in range(20):
            f.InteractionFactory(customer=maria, user=org_a[Role.ADVISOR].user)
    with django_assert_max_num_queries(len(few)):
        response = client.get(detail_url(maria))
    assert len(response.context["holdings"]) == 13
    assert len(response.context["timeline"]) == 21


@pytest.mark.parametrize("page", ["home", "list", "detail", "jobs"])
def test_pages_reference_no_external_resources(client_for, org_a, book_a, page):
    urls = {
        "home": reverse("home"),
        "list": LIST,
        "detail": detail_url(book_a["maria"]),
        "jobs": reverse("job_list"),
    }
    html = client_for(org_a[Role.ADVISOR]).get(urls[page]).content.decode()
    assert re.findall(r'(?:src|href|hx-get|hx-post|action)="((?:https?:)?//[^"]*)"', html) == []
    assert "/static/vendor/htmx/htmx.min.js" in html
