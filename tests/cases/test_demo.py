"""``seed_demo`` gives every demo institution cases of the four families (``cases.demo``):
open, at risk, breached, closed with ratings, a restricted security case; "my cases", the
escalation board and the triage suggestion have something to show; a rerun adds nothing."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases import selectors
from cases.choices import OPEN_STATUSES
from cases.models import Case, CaseEvent, TriageModel
from cases.permissions import Viewer
from customers.demo.profiles import BANCO_ANDINO, COOPERATIVA_DEL_PACIFICO
from vector_crm.models import Membership, Tenant
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--per-institution", "60", stdout=out, verbosity=0)
    return out.getvalue()


def test_demo_institutions_get_cases_of_every_family_in_every_state():
    output = _seed()
    assert "cases.Case" in output
    for profile in (BANCO_ANDINO, COOPERATIVA_DEL_PACIFICO):
        tenant = Tenant.objects.get(slug=profile.slug)
        with tenant_context(tenant.pk):
            now = timezone.now()
            cases = list(Case.objects.all())
            kinds = Counter(c.kind for c in cases)
            open_cases = [c for c in cases if c.status in OPEN_STATUSES]
            breached = [c for c in open_cases if c.resolution_due_at <= now and not c.paused_at]
            at_risk = [c for c in open_cases if c.warn_at <= now < c.resolution_due_at and not c.paused_at]
            closed = [c for c in cases if c.status == "closed"]
            security = [c for c in cases if c.kind == "security"]
            assert set(kinds) == {"request", "complaint", "exception", "security"}
            assert len(breached) >= 4 and len(at_risk) >= 4
            assert len(closed) >= 30 and all(1 <= c.satisfaction <= 5 and c.customer_confirmed for c in closed)
            assert all(c.resolution and c.closed_at >= c.resolved_at >= c.opened_at for c in closed)
            assert security and all(c.restricted and c.priority == "critical" for c in security)
            # breached cases wait for the sweep: their next SLA step is already due
            assert all(c.next_deadline_at is not None and c.next_deadline_at <= now for c in breached)
            assert CaseEvent.objects.filter(kind="created").count() == len(cases)
            # the advisor's "my cases" and the supervisor's board show them
            advisor = Membership.objects.get(user__username=f"{profile.key}.asesor")
            supervisor = Membership.objects.get(user__username=f"{profile.key}.supervisor")
            assert selectors.my_cases(Viewer.of(advisor), advisor.user_id).count() >= 3
            board = selectors.escalation_board(Viewer.of(supervisor), team_id=supervisor.team_id)
            states = Counter(row["board_state"] for row in board["rows"])
            assert states["breached"] >= 1 and states["at_risk"] >= 1
            # the triage classifier was trained on the closed complaints
            model = TriageModel.objects.get()
            assert model.n_samples == 30 and len(model.classes) == 5
            assert selectors.case_triage("me cobraron dos veces la compra con la tarjeta de crédito")["category"] == (
                "Tarjeta de crédito"
            )


def test_a_rerun_adds_no_cases():
    _seed()
    tenant = Tenant.objects.get(slug=BANCO_ANDINO.slug)
    with tenant_context(tenant.pk):
        before = (Case.objects.count(), CaseEvent.objects.count(), TriageModel.objects.count())
    _seed()
    with tenant_context(tenant.pk):
        assert (Case.objects.count(), CaseEvent.objects.count(), TriageModel.objects.count()) == before
