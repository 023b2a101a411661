"""Named customers of each fixture tenant, shared by the view tests and the browser tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from customers.choices import (
    Channel,
    ConsentSource,
    CustomerKind,
    IdentificationType,
    InteractionOutcome,
    InteractionType,
    LifecycleStatus,
    ProductFamily,
)
from tests import factories as f
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context


@dataclass
class Book:
    """Named customers of one tenant, to assert on by name in the tests."""

    customers: dict = field(default_factory=dict)
    holdings: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.customers[name]


def build_book_a(org) -> Book:
    """Banco Andino (COP, Bogotá): the advisor owns two customers, one of them delinquent;
    a teammate, the south branch and nobody own the others."""
    advisor = org[Role.ADVISOR].user
    north, south = org.branches
    book = Book()
    with tenant_context(org.tenant.pk):
        savings = f.ProductFactory(code="AHO", name="Cuenta de Ahorros Andina", family=ProductFamily.SAVINGS)
        card = f.ProductFactory(code="TC", name="Tarjeta Visa Andina", family=ProductFamily.CREDIT_CARD)
        dollars = f.ProductFactory(
            code="CDT-USD", name="CDT en dólares", family=ProductFamily.TERM_DEPOSIT, currency="USD"
        )
        book.customers["maria"] = f.CustomerFactory(
            first_name="María José",
            last_name="Peña Rojas",
            identification_number="52345678",
            mobile="+573001234567",
            owner=advisor,
            branch=north,
            lifecycle_status=LifecycleStatus.DELINQUENT,
            birth_date=dt.date(1985, 3, 14),
            occupation="Docente",
        )
        book.customers["carlos"] = f.CustomerFactory(
            first_name="Carlos", last_name="Gómez", identification_number="79111222", owner=advisor, branch=north
        )
        book.customers["teammate"] = f.CustomerFactory(
            first_name="Lucía",
            last_name="Teamo",
            identification_number="79333444",
            owner=org.extra["teammate"].user,
            branch=north,
        )
        book.customers["south"] = f.CustomerFactory(
            first_name="Sofía",
            last_name="Sureña",
            identification_number="79555666",
            owner=org.extra["south_advisor"].user,
            branch=south,
        )
        book.customers["unassigned"] = f.CustomerFactory(
            first_name="Ulises",
            last_name="Libre",
            identification_number="79777888",
            owner=None,
            branch=north,
            lifecycle_status=LifecycleStatus.PROSPECT,
        )
        book.customers["company"] = f.CustomerFactory(
            kind=CustomerKind.COMPANY,
            identification_type=IdentificationType.NIT,
            identification_number="9001234567",
            first_name="",
            last_name="",
            legal_name="Ferretería El Tornillo SAS",
            owner=advisor,
            branch=north,
        )
        maria = book.customers["maria"]
        book.holdings["maria_savings"] = f.HoldingFactory(
            customer=maria, product=savings, account_number="AHO-0001", balance=Decimal("2500000.50")
        )
        book.holdings["maria_card"] = f.HoldingFactory(
            customer=maria,
            product=card,
            account_number="TC-0001",
            balance=Decimal("1200000"),
            credit_limit=Decimal("5000000"),
            days_past_due=45,
            next_due_date=dt.date(2026, 5, 10),
            next_due_amount=Decimal("180000"),
        )
        book.holdings["maria_usd"] = f.HoldingFactory(
            customer=maria,
            product=dollars,
            account_number="CDT-USD-1",
            currency="USD",
            balance=Decimal("10000"),
            maturity_date=dt.date(2027, 1, 15),
        )
        f.ChannelConsentFactory(customer=maria, channel=Channel.EMAIL, opted_in=True, source=ConsentSource.BRANCH_FORM)
        f.ChannelConsentFactory(customer=maria, channel=Channel.WHATSAPP, opted_in=False, source=ConsentSource.APP)
        f.InteractionFactory(
            customer=maria,
            user=advisor,
            interaction_type=InteractionType.CALL,
            outcome=InteractionOutcome.PROMISE_TO_PAY,
            occurred_at=timezone.make_aware(dt.datetime(2026, 4, 2, 15, 30), dt.UTC),
            notes="Promete pagar la cuota de la tarjeta el viernes",
        )
    return book


def build_book_b(org) -> Book:
    """Cooperativa del Pacífico (USD, Guayaquil): one customer of its advisor."""
    book = Book()
    with tenant_context(org.tenant.pk):
        savings = f.ProductFactory(code="AHO", name="Ahorro Pacífico", family=ProductFamily.SAVINGS, currency="USD")
        book.customers["pedro"] = f.CustomerFactory(
            first_name="Pedro",
            last_name="Pacífico",
            identification_type=IdentificationType.CI_EC,
            identification_number="1710034065",
            mobile="+593991234567",
            owner=org[Role.ADVISOR].user,
            branch=org.branches[0],
        )
        book.holdings["pedro_savings"] = f.HoldingFactory(
            customer=book.customers["pedro"],
            product=savings,
            account_number="PAC-0001",
            currency="USD",
            balance=Decimal("1234.5"),
        )
    return book
