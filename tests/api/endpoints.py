"""The registry of API endpoints for the shared test classes (NetBox's APIViewTestCases idea).

Each ``Endpoint`` says how to make one object of its model in an org, what a valid
create and partial-update body look like there, which actions the viewset offers and
which input fields reference other tenant-owned rows. ``test_isolation.py`` and
``test_crud.py`` run every check against every registered endpoint; an endpoint added to
the router without an entry here fails ``test_every_api_endpoint_is_registered``.

Builders run inside the org's tenant context (see ``build``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model

from cases.models import Case, CaseAttachment, CaseEvent, CaseType, SlaPolicy
from customers.models import Branch, Customer, Holding, Interaction, MonthlyAccountSummary, Payment, Product
from segmentation.models import CustomerScore, ScoringRun, Segment
from tests import factories as f
from tests.cases import factories as cf
from vector_crm.models import FileImport, Job, WebhookDelivery, WebhookEndpoint
from vector_crm.tenancy import tenant_context

_serial = itertools.count(1)

ALL_ACTIONS = frozenset({"list", "retrieve", "create", "update", "partial_update", "destroy"})


def unique_number() -> int:
    return next(_serial)


def make_customer(org) -> Customer:
    return f.CustomerFactory(tenant=org.tenant, branch=org.branches[0], owner=org["advisor"].user)


def make_branch(org) -> Branch:
    return f.BranchFactory(tenant=org.tenant)


def make_product(org) -> Product:
    return f.ProductFactory(tenant=org.tenant, currency=org.tenant.currency)


def make_holding(org) -> Holding:
    return f.HoldingFactory(
        tenant=org.tenant, customer=make_customer(org), product=make_product(org), currency=org.tenant.currency
    )


def make_summary(org) -> MonthlyAccountSummary:
    holding = make_holding(org)
    return f.MonthlyAccountSummaryFactory(tenant=org.tenant, holding=holding, customer=holding.customer)


def make_payment(org) -> Payment:
    holding = make_holding(org)
    return f.PaymentFactory(tenant=org.tenant, holding=holding, customer=holding.customer)


def make_interaction(org) -> Interaction:
    return f.InteractionFactory(tenant=org.tenant, customer=make_customer(org), user=org["advisor"].user)


def make_file_import(org) -> FileImport:
    return f.FileImportFactory(tenant=org.tenant)


def make_job(org) -> Job:
    return f.JobFactory(tenant=org.tenant, kind="customers.import")


def make_webhook_endpoint(org) -> WebhookEndpoint:
    return f.WebhookEndpointFactory(tenant=org.tenant)


def make_webhook_delivery(org) -> WebhookDelivery:
    endpoint = make_webhook_endpoint(org)
    return f.WebhookDeliveryFactory(tenant=org.tenant, endpoint=endpoint, event=f.OutboxEventFactory(tenant=org.tenant))


def webhook_endpoint_body(org) -> dict:
    return {
        "url": f"https://erp.example.com/hooks/{unique_number()}",
        "description": "ERP del banco",
        "event_types": ["customer.created", "customer.updated"],
        "is_active": True,
    }


def customer_body(org) -> dict:
    return {
        "identification_type": "cc",
        "identification_number": str(60_000_000 + unique_number()),
        "first_name": "Ana",
        "last_name": "Pérez",
        "mobile": "+573001112233",
        "email": "ana.perez@example.com",
        "city": "Bogotá",
        "branch": org.branches[0].pk,
        "owner": org["advisor"].user_id,
        "lifecycle_status": "prospect",
    }


def branch_body(org) -> dict:
    return {"code": f"T{unique_number():04d}", "name": "Agencia Centro", "city": "Quito", "region": "Sierra"}


def product_body(org) -> dict:
    return {
        "code": f"PX{unique_number():04d}",
        "name": "CDT 90 días",
        "family": "term_deposit",
        "currency": org.tenant.currency,
    }


def holding_body(org) -> dict:
    return {
        "customer": make_customer(org).pk,
        "product": make_product(org).pk,
        "account_number": f"NEW{unique_number():08d}",
        "currency": org.tenant.currency,
        "opened_on": "2024-03-01",
        "balance": "2500000.00",
    }


def summary_body(org) -> dict:
    return {
        "holding": make_holding(org).pk,
        "month": "2026-02-01",
        "average_balance": "1000.00",
        "transactions": 3,
        "fees": "10.00",
        "revenue": "25.00",
    }


def payment_body(org) -> dict:
    return {"holding": make_holding(org).pk, "due_date": "2026-11-05", "amount_due": "350000.00"}


def interaction_body(org) -> dict:
    return {
        "customer": make_customer(org).pk,
        "channel": "phone",
        "direction": "outbound",
        "interaction_type": "call",
        "notes": "Ofrecimos el CDT",
    }


def make_case_type(org) -> CaseType:
    return cf.CaseTypeFactory(tenant=org.tenant)


def make_case(org) -> Case:
    return cf.CaseFactory(tenant=org.tenant, case_type=make_case_type(org), customer=make_customer(org))


def make_case_comment(org) -> CaseEvent:
    return cf.CaseEventFactory(tenant=org.tenant, case=make_case(org), kind="comment", body="Llamó el cliente")


def make_case_attachment(org) -> CaseAttachment:
    return cf.CaseAttachmentFactory(tenant=org.tenant, case=make_case(org))


def make_sla_policy(org) -> SlaPolicy:
    return cf.SlaPolicyFactory(tenant=org.tenant, case_type=make_case_type(org))


def case_body(org) -> dict:
    return {
        "case_type": make_case_type(org).pk,
        "subject": "Certificado de saldos",
        "channel": "phone",
        "customer": make_customer(org).pk,
        "priority": "high",
        "category": "Certificados",
    }


def case_comment_body(org) -> dict:
    return {"case": make_case(org).pk, "body": "El cliente envió el documento", "is_internal": False}


def case_type_body(org) -> dict:
    return {"code": f"tipo-{unique_number()}", "name": "Reclamo de tarjeta", "kind": "complaint"}


def sla_policy_body(org) -> dict:
    return {
        "case_type": make_case_type(org).pk,
        "priority": "high",
        "tier": "",
        "first_response_minutes": 30,
        "resolution_minutes": 240,
    }


def make_segment(org) -> Segment:
    return f.SegmentFactory(tenant=org.tenant)


def make_run(org) -> ScoringRun:
    return f.ScoringRunFactory(tenant=org.tenant)


def make_score(org) -> CustomerScore:
    """A score in a new (hence latest) succeeded run, of a customer the admin sees."""
    return f.CustomerScoreFactory(tenant=org.tenant, run=make_run(org), customer=make_customer(org))


def segment_body(org) -> dict:
    return {
        "name": f"Alto valor {unique_number()}",
        "description": "Clientes A y B",
        "rules": [{"field": "tier", "op": "in", "value": ["A", "B"]}],
    }


def run_body(org) -> dict:
    return {"as_of": "2026-11-15"}


# Field of an input body -> how to get the id of such a row in an org.
REFERENCE_MAKERS: dict[str, Callable] = {
    "branch": lambda org: org.branches[0].pk,
    "owner": lambda org: org["advisor"].user_id,
    "product": lambda org: make_product(org).pk,
    "customer": lambda org: make_customer(org).pk,
    "holding": lambda org: make_holding(org).pk,
    "case_type": lambda org: make_case_type(org).pk,
    "case": lambda org: make_case(org).pk,
}


@dataclass(frozen=True)
class Endpoint:
    basename: str
    path: str
    model: type[Model]
    make: Callable
    actions: frozenset = ALL_ACTIONS
    create_body: Callable | None = None
    patch_body: dict = field(default_factory=dict)
    # Input fields naming other tenant-owned rows; the second tuple: those fixed after create.
    references: tuple[str, ...] = ()
    create_only_references: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.basename

    def list_url(self) -> str:
        return f"/api/v1/{self.path}/"

    def detail_url(self, pk: int) -> str:
        return f"/api/v1/{self.path}/{pk}/"


ENDPOINTS = [
    Endpoint(
        "customer",
        "customers",
        Customer,
        make_customer,
        create_body=customer_body,
        patch_body={"city": "Medellín", "income_band": "2to4"},
        references=("branch", "owner"),
    ),
    Endpoint(
        "branch", "branches", Branch, make_branch, create_body=branch_body, patch_body={"name": "Agencia Renombrada"}
    ),
    Endpoint(
        "product", "products", Product, make_product, create_body=product_body, patch_body={"name": "Ahorro Plus"}
    ),
    Endpoint(
        "holding",
        "holdings",
        Holding,
        make_holding,
        create_body=holding_body,
        patch_body={"balance": "999.00", "status": "blocked"},
        references=("customer", "product"),
        create_only_references=("customer",),
    ),
    Endpoint(
        "monthly-summary",
        "monthly-summaries",
        MonthlyAccountSummary,
        make_summary,
        actions=frozenset({"list", "retrieve", "create"}),
        create_body=summary_body,
        references=("holding",),
    ),
    Endpoint(
        "payment",
        "payments",
        Payment,
        make_payment,
        create_body=payment_body,
        patch_body={"paid_on": "2026-11-07", "amount_paid": "300000.00"},
        references=("holding",),
        create_only_references=("holding",),
    ),
    Endpoint(
        "interaction",
        "interactions",
        Interaction,
        make_interaction,
        create_body=interaction_body,
        patch_body={"outcome": "contacted", "notes": "Contestó y pidió llamada en la tarde"},
        references=("customer",),
        create_only_references=("customer",),
    ),
    Endpoint("job", "jobs", Job, make_job, actions=frozenset({"list", "retrieve"})),
    Endpoint(
        "webhook-endpoint",
        "webhooks",
        WebhookEndpoint,
        make_webhook_endpoint,
        create_body=webhook_endpoint_body,
        patch_body={"description": "ERP nuevo", "url": "https://erp.example.com/v2/hooks"},
    ),
    Endpoint(
        "webhook-delivery",
        "webhooks/deliveries",
        WebhookDelivery,
        make_webhook_delivery,
        actions=frozenset({"list", "retrieve"}),
    ),
    # Upload is multipart and the steps are actions: tests/imports/test_api.py covers them.
    Endpoint("file-import", "imports", FileImport, make_file_import, actions=frozenset({"list", "retrieve"})),
    Endpoint(
        "case",
        "cases",
        Case,
        make_case,
        actions=frozenset({"list", "retrieve", "create", "update", "partial_update"}),
        create_body=case_body,
        patch_body={"subject": "Certificado tributario", "category": "Tributario"},
        references=("case_type", "customer"),
        create_only_references=("case_type", "customer"),
    ),
    Endpoint(
        "case-comment",
        "case-comments",
        CaseEvent,
        make_case_comment,
        actions=frozenset({"list", "retrieve", "create"}),
        create_body=case_comment_body,
        references=("case",),
    ),
    Endpoint(
        "case-attachment",
        "case-attachments",
        CaseAttachment,
        make_case_attachment,
        actions=frozenset({"list", "retrieve"}),
    ),
    Endpoint(
        "case-type",
        "case-types",
        CaseType,
        make_case_type,
        create_body=case_type_body,
        patch_body={"name": "Reclamo de tarjeta débito"},
    ),
    Endpoint(
        "sla-policy",
        "sla-policies",
        SlaPolicy,
        make_sla_policy,
        create_body=sla_policy_body,
        patch_body={"tier": "oro"},
        references=("case_type",),
    ),
    Endpoint(
        "segment",
        "segments",
        Segment,
        make_segment,
        create_body=segment_body,
        patch_body={"name": "Segmento renombrado"},
    ),
    Endpoint("score", "scores", CustomerScore, make_score, actions=frozenset({"list", "retrieve"})),
    Endpoint(
        "scoring-run",
        "scoring-runs",
        ScoringRun,
        make_run,
        actions=frozenset({"list", "retrieve", "create"}),
        create_body=run_body,
    ),
]

# Routed endpoints the shared classes cannot express, with the reason. The bulk upserts
# are create-only batches keyed by the bank's ids with no list or detail; their CRUD,
# permission and cross-tenant checks live in tests/api/test_bulk.py.
EXCLUDED_ENDPOINTS: dict[str, str] = {
    "bulk-customer": "batch upsert, no list/detail: tests/api/test_bulk.py",
    "bulk-holding": "batch upsert, no list/detail: tests/api/test_bulk.py",
    "bulk-monthly-summary": "batch upsert, no list/detail: tests/api/test_bulk.py",
    "bulk-payment": "batch upsert, no list/detail: tests/api/test_bulk.py",
    "bulk-survey-response": "batch upsert, no list/detail: tests/segmentation/test_api.py",
}

WRITABLE_ENDPOINTS = [e for e in ENDPOINTS if "create" in e.actions]
UPDATABLE_ENDPOINTS = [e for e in ENDPOINTS if "partial_update" in e.actions]
DELETABLE_ENDPOINTS = [e for e in ENDPOINTS if "destroy" in e.actions]
REFERENCE_CASES = [(e, name) for e in ENDPOINTS for name in e.references]


def build(org, builder: Callable, *args):
    """Run a registry builder inside the org's tenant."""
    with tenant_context(org.tenant.pk):
        return builder(org, *args)
