"""The supervisor's escalation board at size: one page of the most urgent cases, totals
counted in SQL, the same queries whatever the number of cases, and visibility kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import selectors
from cases.permissions import Viewer
from tests import factories as f
from tests.cases.factories import CaseFactory
from tests.ui.helpers import page_text
from vector_crm.models import Team
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def _breached(org, count, *, team=None, **extra):
    now = timezone.now()
    with tenant_context(org.tenant.pk):
        return [
            CaseFactory(
                tenant=org.tenant,
                team=team or org.team,
                subject=f"Caso {n}",
                resolution_due_at=now - dt.timedelta(minutes=count - n),
                **extra,
            )
            for n in range(count)
        ]


def test_the_board_shows_one_page_of_the_most_urgent_cases_and_counts_them_all(org_a, client_for):
    # given 130 breached cases in the supervisor's queue, the oldest deadline first
    cases = _breached(org_a, 130)
    client = client_for(org_a["supervisor"])
    first = client.get(reverse("cases:board"))
    ids = [int(v) for v in first.content.decode().split('name="case_ids" value="')[1:] for v in [v.split('"')[0]]]
    assert ids == [c.pk for c in cases[:100]]
    text = page_text(first)
    assert f"{org_a.team.name} 0 130" in text  # totals: at risk 0, breached 130
    assert "Casos 1 a 100 de 130" in text and "Siguientes" in text and "Anteriores" not in text
    second = client.get(reverse("cases:board"), {"team": "", "page": 2})
    assert second.content.decode().count('name="case_ids"') == 30
    assert "Casos 101 a 130 de 130" in page_text(second)
    # a page past the end shows the last one
    assert "Casos 101 a 130 de 130" in page_text(client.get(reverse("cases:board"), {"page": 9}))


def test_the_board_runs_the_same_queries_for_5_or_150_cases(org_a, client_for, django_assert_num_queries):
    client = client_for(org_a["supervisor"])
    _breached(org_a, 5)
    client.get(reverse("cases:board"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("cases:board"))
    _breached(org_a, 145)
    with django_assert_num_queries(len(few)):
        assert client.get(reverse("cases:board")).content.decode().count('name="case_ids"') == 100


def test_the_own_queue_shortcut_still_hides_security_cases_and_other_queues(org_a, types_a, client_for):
    # given a breached security case in the supervisor's queue, and a breached case of a
    # queue the supervisor does not belong to, for a customer of another team's advisor
    mine = _breached(org_a, 1)[0]
    (secret,) = _breached(org_a, 1, case_type=types_a["seguridad"], restricted=True)
    with tenant_context(org_a.tenant.pk):
        other = Team.objects.create(name="Otra cola", branch=org_a.branches[1])
        south = org_a.extra["south_advisor"]
        customer = f.CustomerFactory(tenant=org_a.tenant, branch=org_a.branches[1], owner=south.user)
    assert south.team_id != org_a["supervisor"].team_id
    theirs = _breached(org_a, 1, team=other, customer=customer, branch=org_a.branches[1])[0]
    supervisor = org_a["supervisor"]

    def board_ids(viewer, team_id):
        with tenant_context(org_a.tenant.pk):
            return {row["id"] for row in selectors.escalation_board(viewer, team_id=team_id)["rows"]}

    # then the own queue shows its cases, security ones only to a viewer allowed to see them
    assert board_ids(Viewer(supervisor, True), supervisor.team_id) == {mine.pk, secret.pk}
    assert board_ids(Viewer(supervisor, False), supervisor.team_id) == {mine.pk}
    # and another queue is filtered by the usual visibility rules
    assert theirs.pk not in board_ids(Viewer(supervisor, True), other.pk)
    assert theirs.pk not in board_ids(Viewer(supervisor, True), None)
