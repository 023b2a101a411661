"""factory_boy factories for the platform and the shared customer model.

Factories create rows in the *current* tenant context (tests wrap them in
``tenant_context``); pass ``tenant=`` explicitly to build for another tenant.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from customers.choices import (
    Channel,
    CustomerKind,
    Direction,
    IdentificationType,
    InteractionType,
    LifecycleStatus,
    ProductFamily,
)
from customers.models import (
    Branch,
    ChannelConsent,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    Product,
)
from vector_crm.models import (
    ApiCredential,
    FileImport,
    FileImportIssue,
    IdempotencyRecord,
    Job,
    Membership,
    Notification,
    OutboxEvent,
    Team,
    Tenant,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Banco Prueba {n}")
    slug = factory.Sequence(lambda n: f"banco-{n}")
    country = "CO"
    currency = "COP"
    timezone = "America/Bogota"
    locale = "es-CO"
    holiday_country = "CO"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-Word-123")

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class TenantOwnedFactory(factory.django.DjangoModelFactory):
    """Fills ``tenant`` from the current context when not given."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from vector_crm.tenancy import get_current_tenant_id, tenant_context

        tenant = kwargs.get("tenant")
        tenant_id = tenant.pk if tenant is not None else kwargs.get("tenant_id") or get_current_tenant_id()
        with tenant_context(tenant_id):
            return super()._create(model_class, *args, **kwargs)


class BranchFactory(TenantOwnedFactory):
    class Meta:
        model = Branch

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"Agencia {n}")
    city = "Bogotá"


class TeamFactory(TenantOwnedFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Equipo {n}")


class MembershipFactory(TenantOwnedFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = "advisor"


class ProductFactory(TenantOwnedFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"Producto {n}")
    family = ProductFamily.SAVINGS
    currency = "COP"


def _cedula(n: int) -> str:
    return str(10_000_000 + n)


class CustomerFactory(TenantOwnedFactory):
    class Meta:
        model = Customer

    kind = CustomerKind.PERSON
    identification_type = IdentificationType.CC
    identification_number = factory.Sequence(_cedula)
    first_name = factory.Faker("first_name", locale="es_CO")
    last_name = factory.Faker("last_name", locale="es_CO")
    mobile = factory.Sequence(lambda n: f"+57300{n % 10_000_000:07d}")
    email = factory.Sequence(lambda n: f"cliente{n}@example.com")
    city = "Bogotá"
    lifecycle_status = LifecycleStatus.ACTIVE


class ChannelConsentFactory(TenantOwnedFactory):
    class Meta:
        model = ChannelConsent

    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.EMAIL
    opted_in = True
    recorded_at = factory.LazyFunction(timezone.now)
    source = "branch_form"


class HoldingFactory(TenantOwnedFactory):
    class Meta:
        model = Holding

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    account_number = factory.Sequence(lambda n: f"ACC{n:010d}")
    currency = "COP"
    opened_on = dt.date(2022, 1, 15)
    balance = Decimal("1500000.00")


class MonthlyAccountSummaryFactory(TenantOwnedFactory):
    class Meta:
        model = MonthlyAccountSummary

    holding = factory.SubFactory(HoldingFactory)
    customer = factory.SelfAttribute("holding.customer")
    month = dt.date(2026, 1, 1)
    average_balance = Decimal("1200000.00")
    transactions = 12
    fees = Decimal("15000.00")
    revenue = Decimal("42000.00")


class PaymentFactory(TenantOwnedFactory):
    class Meta:
        model = Payment

    holding = factory.SubFactory(HoldingFactory)
    customer = factory.SelfAttribute("holding.customer")
    due_date = dt.date(2026, 10, 5)
    amount_due = Decimal("350000.00")
    paid_on = dt.date(2026, 10, 5)
    amount_paid = Decimal("350000.00")


class InteractionFactory(TenantOwnedFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.PHONE
    direction = Direction.OUTBOUND
    interaction_type = InteractionType.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    notes = "Llamada de seguimiento"


class JobFactory(TenantOwnedFactory):
    class Meta:
        model = Job

    kind = "test.job"


class ApiCredentialFactory(TenantOwnedFactory):
    class Meta:
        model = ApiCredential

    name = factory.Sequence(lambda n: f"core-{n}")
    scopes = factory.LazyFunction(
        lambda: [
            "customers:write",
            "catalogue:write",
            "holdings:write",
            "payments:write",
            "interactions:write",
            "jobs:read",
        ]
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        key = obj.set_new_secret()
        from vector_crm.tenancy import tenant_context

        with tenant_context(obj.tenant_id or kwargs["tenant"].pk):
            obj.save()
        obj.raw_key = key
        return obj


class IdempotencyRecordFactory(TenantOwnedFactory):
    class Meta:
        model = IdempotencyRecord

    principal = "user:1"
    key = factory.Sequence(lambda n: f"key-{n}")
    method = "POST"
    path = "/api/v1/customers/"
    fingerprint = "0" * 64
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=24))


class WebhookEndpointFactory(TenantOwnedFactory):
    class Meta:
        model = WebhookEndpoint

    url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    event_types = factory.LazyFunction(lambda: ["customer.created", "customer.updated"])
    secret = factory.LazyFunction(lambda: __import__("secrets").token_hex(32))


class OutboxEventFactory(TenantOwnedFactory):
    class Meta:
        model = OutboxEvent

    event_id = factory.LazyFunction(lambda: __import__("uuid").uuid4())
    type = "customer.created"
    payload = factory.LazyFunction(lambda: {"id": 1})
    occurred_at = factory.LazyFunction(timezone.now)
    aggregate_type = "customers.customer"
    aggregate_id = "1"


class WebhookDeliveryFactory(TenantOwnedFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = factory.SubFactory(OutboxEventFactory)
    next_attempt_at = factory.LazyFunction(timezone.now)


class FileImportFactory(TenantOwnedFactory):
    class Meta:
        model = FileImport

    importable = "customers"
    original_name = "clientes.csv"
    stored_name = factory.Sequence(lambda n: f"stored-{n}.csv")
    size = 120
    file_format = "csv"
    encoding = "utf-8"
    delimiter = ";"
    headers = factory.LazyFunction(lambda: ["id_cliente", "documento"])


class FileImportIssueFactory(TenantOwnedFactory):
    class Meta:
        model = FileImportIssue

    file_import = factory.SubFactory(FileImportFactory)
    row = 2
    column = "documento"
    value = "abc"
    reason = "No es un número válido."


class NotificationFactory(TenantOwnedFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = "case.escalated"
    title = "C-000001 escalado"


# --- segmentation (VALOR) ----------------------------------------------------------------------


class ValueConfigFactory(TenantOwnedFactory):
    class Meta:
        model = "segmentation.ValueConfig"


class SurveyResponseFactory(TenantOwnedFactory):
    class Meta:
        model = "segmentation.SurveyResponse"

    customer = factory.SubFactory(CustomerFactory)
    responded_on = dt.date(2026, 6, 1)
    attribute = "advice"
    satisfaction = 4
    importance = 5


class ScoringRunFactory(TenantOwnedFactory):
    class Meta:
        model = "segmentation.ScoringRun"

    status = "succeeded"
    as_of = dt.date(2026, 11, 15)


class SegmentFactory(TenantOwnedFactory):
    class Meta:
        model = "segmentation.Segment"

    kind = "rule"
    name = factory.Sequence(lambda n: f"Segmento {n}")
    rules = factory.LazyFunction(lambda: [{"field": "kind", "op": "eq", "value": "person"}])


class CustomerScoreFactory(TenantOwnedFactory):
    class Meta:
        model = "segmentation.CustomerScore"

    run = factory.SubFactory(ScoringRunFactory, tenant=factory.SelfAttribute("..tenant"))
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..tenant"))
    current_value = Decimal("100.00")
    potential_value = Decimal("150.00")
    gap = Decimal("50.00")
    priority = Decimal("125.00")
    tier = "B"
    peer_group = "person|35-44|2to4"


class SegmentMembershipFactory(TenantOwnedFactory):
    class Meta:
        model = "segmentation.SegmentMembership"

    run = factory.SubFactory(ScoringRunFactory, tenant=factory.SelfAttribute("..tenant"))
    segment = factory.SubFactory(SegmentFactory, tenant=factory.SelfAttribute("..tenant"))
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..tenant"))
