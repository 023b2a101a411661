"""Triage: the classifier's cross-validated accuracy on the CFPB narratives, and per-tenant
suggestions trained on the tenant's own closed complaints."""

from __future__ import annotations

import csv

import pytest

from cases import jobs, triage
from cases.complaints import complaints_import
from cases.models import TriageModel
from tests.cases.test_complaints import SAMPLE
from vector_crm.models import Job
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="shared data set not available")


def _narratives():
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Consumer complaint narrative"].strip()]
    return [r["Consumer complaint narrative"] for r in rows], [r["Product"] for r in rows]


def test_five_fold_accuracy_for_product_category_is_at_least_078():
    texts, labels = _narratives()
    assert len(texts) == 1532
    accuracy = triage.cross_validated_accuracy(texts, labels, folds=5, seed=0)
    print(f"5-fold CV accuracy for product category: {accuracy:.4f}")  # noqa: T201
    assert accuracy >= 0.78


@pytest.mark.django_db
def test_suggestions_come_from_the_tenants_own_closed_complaints(org_a, org_b, api_for):
    with tenant_context(org_a.tenant.pk):
        complaints_import(source=str(SAMPLE))
        job = Job.objects.create(kind=jobs.TRAIN_TRIAGE)
    # the training job learns from tenant A's closed complaints and stores the model
    jobs.train_triage.apply(args=(org_a.tenant.pk, job.pk))
    with tenant_context(org_a.tenant.pk):
        model = TriageModel.objects.get()
    print(f"stored model: {model.n_samples} cases, 5-fold CV accuracy {model.accuracy:.4f}")  # noqa: T201
    assert (model.n_samples, model.folds) == (1527, 5)
    assert model.accuracy >= 0.78
    narrative = (
        "I have been trying to get my mortgage servicer to correct my escrow account. They raised my monthly "
        "payment and refuse to explain the escrow shortage on my home loan."
    )
    response = api_for(org_a["advisor"]).post("/api/v1/cases/triage/", {"narrative": narrative})
    assert response.status_code == 200, response.content
    assert response.json()["category"] == "Mortgage"
    assert response.json()["trained_on"] == 1527  # closed complaints with a narrative
    # tenant B has no model of its own: no suggestion, a clear error
    refused = api_for(org_b["advisor"]).post("/api/v1/cases/triage/", {"narrative": narrative})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "narrative"
