"""Triage trained per tenant by a job: the job trains and stores a ``TriageModel``,
intake suggestions use the stored model (loaded once per version per process), the
nightly fan-out, the admin button with the Job's progress, and tenant isolation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import jobs, selectors
from cases.models import Case, TriageModel
from tests.cases.factories import CaseFactory
from tests.ui.helpers import page_text
from vector_crm.models import Job, JobStatus
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

CARD_TEXTS = [
    "my credit card was charged twice for the same purchase and the card issuer refuses the dispute",
    "unauthorized charge on my credit card statement, the card company did not reverse the fee",
    "the credit card interest rate went up and the card limit was reduced without notice",
    "late fee on my credit card even though I paid the card balance before the due date",
]
MORTGAGE_TEXTS = [
    "the mortgage servicer raised my escrow payment and will not explain the escrow shortage",
    "my home loan modification was denied and the mortgage company started foreclosure",
    "the mortgage lender lost my payment and reported my home loan as late",
    "escrow account for property taxes on my mortgage was mismanaged by the servicer",
]
SAVINGS_TEXTS = [
    "el banco cerró mi cuenta de ahorros sin aviso y retuvo el saldo de la cuenta",
    "no puedo retirar dinero de mi cuenta de ahorros en el cajero, la cuenta aparece bloqueada",
    "me cobraron una cuota de manejo en la cuenta de ahorros que no autoricé",
]


def _closed_complaints(org, types, spec: dict[str, list[str]], copies: int = 4, team=None) -> None:
    """``copies`` closed complaints per text, category = the dict key, queue = ``team``."""
    with tenant_context(org.tenant.pk):
        for category, texts in spec.items():
            for text in texts:
                for i in range(copies):
                    CaseFactory(
                        tenant=org.tenant,
                        case_type=types["pqrs"],
                        status="closed",
                        description=f"{text} ({i})",
                        category=category,
                        team=team or org.team,
                    )


def _train(org) -> Job:
    with tenant_context(org.tenant.pk):
        job = Job.objects.create(kind=jobs.TRAIN_TRIAGE)
    jobs.train_triage.apply(args=(org.tenant.pk, job.pk))
    with tenant_context(org.tenant.pk):
        job.refresh_from_db()
    return job


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    selectors._TRIAGE_MODELS.clear()
    yield
    selectors._TRIAGE_MODELS.clear()


def test_the_job_trains_and_stores_the_tenants_model(org_a, types_a):
    _closed_complaints(org_a, types_a, {"Credit card": CARD_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    job = _train(org_a)
    with tenant_context(org_a.tenant.pk):
        model = TriageModel.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.percent == 100
    assert job.result == {"model": model.pk, "samples": 32, "accuracy": round(model.accuracy, 4), "classes": 2}
    assert (model.n_samples, model.classes, model.folds, model.job_id) == (32, ["Credit card", "Mortgage"], 5, job.pk)
    assert 0.9 <= model.accuracy <= 1.0  # two well separated vocabularies
    assert len(bytes(model.pipeline)) > 1000
    # running the same Job again (a redelivered message) does not train twice
    jobs.train_triage.apply(args=(org_a.tenant.pk, job.pk))
    with tenant_context(org_a.tenant.pk):
        assert TriageModel.objects.count() == 1


def test_too_few_closed_complaints_fail_the_job_with_a_clear_error(org_a, types_a):
    _closed_complaints(org_a, types_a, {"Mortgage": MORTGAGE_TEXTS}, copies=2)
    job = _train(org_a)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Se necesitan al menos 20 casos de PQRS cerrados")
    with tenant_context(org_a.tenant.pk):
        assert not TriageModel.objects.exists()


def test_suggestions_use_the_stored_model_loaded_once_per_version(org_a, types_a, api_for, monkeypatch):
    import joblib

    _closed_complaints(org_a, types_a, {"Credit card": CARD_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    _train(org_a)
    loads = []
    real_load = joblib.load
    monkeypatch.setattr(joblib, "load", lambda f: loads.append(1) or real_load(f))
    # the training cases are gone: only the stored model can answer
    with tenant_context(org_a.tenant.pk):
        first_model = TriageModel.objects.get()
        Case.objects.all().delete()
    api = api_for(org_a["advisor"])
    narrative = "The servicer doubled my escrow payment on the mortgage of my home"
    answers = [api.post("/api/v1/cases/triage/", {"narrative": narrative}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["category"] == "Mortgage" and answers[0].json()["trained_on"] == 32
    assert answers[0].json()["queue"] == org_a.team.pk
    assert len(loads) == 1
    # a newer model replaces it once
    _closed_complaints(org_a, types_a, {"Cuenta de ahorros": SAVINGS_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    _train(org_a)
    answer = api.post("/api/v1/cases/triage/", {"narrative": "me bloquearon la cuenta de ahorros en el cajero"})
    assert answer.json()["category"] == "Cuenta de ahorros" and answer.json()["trained_on"] == 28
    api.post("/api/v1/cases/triage/", {"narrative": narrative})
    assert len(loads) == 2
    with tenant_context(org_a.tenant.pk):
        assert selectors.triage_model_current().pk != first_model.pk


def test_a_tenant_never_gets_another_tenants_model(org_a, org_b, types_a, api_for):
    _closed_complaints(org_a, types_a, {"Credit card": CARD_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    _train(org_a)
    narrative = "The servicer doubled my escrow payment on the mortgage of my home"
    refused = api_for(org_b["advisor"]).post("/api/v1/cases/triage/", {"narrative": narrative})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "narrative"
    # B trains its own on its own cases: its suggestions come from its categories only
    with tenant_context(org_b.tenant.pk):
        from cases import services

        types_b = {t.code: t for t in services.case_types_ensure_defaults()}
    _closed_complaints(org_b, types_b, {"Cuenta de ahorros": SAVINGS_TEXTS, "Tarjeta": CARD_TEXTS})
    _train(org_b)
    answer = api_for(org_b["advisor"]).post("/api/v1/cases/triage/", {"narrative": narrative})
    assert answer.status_code == 200 and answer.json()["category"] in {"Cuenta de ahorros", "Tarjeta"}
    assert answer.json()["queue"] == org_b.team.pk
    with tenant_context(org_b.tenant.pk):
        assert TriageModel.objects.count() == 1 and TriageModel.objects.get().classes == [
            "Cuenta de ahorros",
            "Tarjeta",
        ]


def test_nightly_fan_out_queues_one_job_per_tenant_with_enough_cases(
    org_a, org_b, types_a, django_capture_on_commit_callbacks
):
    _closed_complaints(org_a, types_a, {"Credit card": CARD_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    with django_capture_on_commit_callbacks() as queued:
        job_ids = jobs.train_triage_all_tenants()
    with tenant_context(org_a.tenant.pk):
        assert list(Job.objects.filter(kind=jobs.TRAIN_TRIAGE).values_list("pk", flat=True)) == job_ids
    assert len(job_ids) == 1 and len(queued) == 1  # B has no closed complaints
    # a second tick while A's training is queued adds nothing
    assert jobs.train_triage_all_tenants() == []


def test_beat_schedules_the_nightly_training():
    from vector_crm.celery import app

    assert app.conf.beat_schedule["cases-train-triage-nightly"]["task"] == "cases.train_triage_all_tenants"


def test_admin_trains_from_the_policies_page_and_sees_accuracy_and_date(
    org_a, types_a, client_for, django_capture_on_commit_callbacks
):
    _closed_complaints(org_a, types_a, {"Credit card": CARD_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    client = client_for(org_a["tenant_admin"])
    assert "Aún no hay un clasificador entrenado." in page_text(client.get(reverse("cases:policies")))
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("cases:triage_train"))
    assert response.status_code == 302 and len(queued) == 1
    with tenant_context(org_a.tenant.pk):
        job = Job.objects.get(kind=jobs.TRAIN_TRIAGE)
    assert job.created_by_id == org_a["tenant_admin"].user_id
    page = client.get(reverse("cases:policies"))
    assert f'id="job-progress-{job.pk}"' in page.content.decode()  # the progress bar polls the Job
    # a second click while it is queued is refused with a clear message
    again = client.post(reverse("cases:triage_train"), follow=True)
    assert "Ya hay un entrenamiento en curso." in page_text(again)
    jobs.train_triage.apply(args=(org_a.tenant.pk, job.pk))
    text = page_text(client.get(reverse("cases:policies")))
    with tenant_context(org_a.tenant.pk):
        model = TriageModel.objects.get()
    assert "con 32 casos cerrados" in text
    assert f"Exactitud (validación cruzada): {model.accuracy:.3f}".replace(".", ",") in text or (
        f"Exactitud (validación cruzada): {model.accuracy:.3f}" in text
    )


@pytest.mark.parametrize("role", ["advisor", "supervisor"])
def test_only_tenant_admins_start_a_training(org_a, client_for, role):
    assert client_for(org_a[role]).post(reverse("cases:triage_train")).status_code == 403
    with tenant_context(org_a.tenant.pk):
        assert not Job.objects.exists()


def test_intake_form_shows_the_suggestion_as_the_description_is_typed(org_a, types_a, client_for):
    _closed_complaints(org_a, types_a, {"Credit card": CARD_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    client = client_for(org_a["advisor"])
    form = client.get(reverse("cases:new")).content.decode()
    assert 'hx-post="/cases/triage/suggest/"' in form and 'id="triage-suggestion"' in form
    before = page_text(client.post(reverse("cases:triage_suggest"), {"description": "escrow shortage on my mortgage"}))
    assert "Aún no hay un clasificador entrenado" in before
    _train(org_a)
    text = page_text(client.post(reverse("cases:triage_suggest"), {"description": "escrow shortage on my mortgage"}))
    assert f"Sugerencia del clasificador: categoría Mortgage · cola {org_a.team.name}" in text
    assert "entrenado con 32 casos cerrados" in text
    # too short to suggest: an empty box
    assert page_text(client.post(reverse("cases:triage_suggest"), {"description": "hola"})) == ""
