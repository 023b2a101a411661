"""The shared customer model every VECTOR stage builds on: customers (persons and
companies), branches, the product catalogue, holdings/accounts, monthly account
summaries, payments and the interaction timeline (customer 360)."""

from __future__ import annotations

import re
import unicodedata

from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from customers import identification
from customers.choices import (
    COMPANY_IDENTIFICATIONS,
    FAMILY_CATEGORY,
    Channel,
    ChurnReason,
    CivilStatus,
    ConsentSource,
    CustomerKind,
    Direction,
    EconomicSector,
    Education,
    HoldingStatus,
    IdentificationType,
    IncomeBand,
    InteractionOutcome,
    InteractionType,
    LifecycleStatus,
    ProductCategory,
    ProductFamily,
    RelatedKind,
)
from vector_crm.tenancy import TenantModel

_CURRENCIES = frozenset(list_currencies())


def validate_currency(value: str) -> None:
    if value not in _CURRENCIES:
        raise ValidationError(_("%(value)s is not an ISO 4217 currency code."), params={"value": value})


# Every combining mark of the Basic Multilingual Plane, removed in one regex pass (in C).
_BMP_COMBINING = re.compile(
    "[" + "".join(re.escape(chr(cp)) for cp in range(0x10000) if unicodedata.combining(chr(cp))) + "]"
)


def search_key(text: str) -> str:
    """Lower-case, accent-free text for indexed prefix search ("Peña" -> "pena")."""
    text = text or ""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii() or max(decomposed) < "\U00010000":
        stripped = _BMP_COMBINING.sub("", decomposed)
    else:  # marks beyond the BMP: the slow, general path
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


def money_field(label, **kwargs):
    return models.DecimalField(label, max_digits=18, decimal_places=2, **kwargs)


class Branch(TenantModel):
    """An agencia: a physical branch or business centre of the institution."""

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=120)
    city = models.CharField(_("city"), max_length=80, blank=True)
    region = models.CharField(_("region"), max_length=80, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="branch_unique_code")]

    def __str__(self) -> str:
        return self.name


class Product(TenantModel):
    """An entry of the tenant's product catalogue (category is derived from the family)."""

    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=120)
    family = models.CharField(_("family"), max_length=32, choices=ProductFamily.choices)
    category = models.CharField(_("category"), max_length=16, choices=ProductCategory.choices)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="product_unique_code")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.category = FAMILY_CATEGORY.get(self.family, self.category)
        super().save(*args, **kwargs)


class Customer(TenantModel):
    """A person or company the institution serves or prospects.

    Identification (type + number) is unique per tenant, as is the core-banking
    ``external_id`` when present. ``search_name`` is the normalised display name used for
    indexed prefix search.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    identification_type = models.CharField(_("identification type"), max_length=10, choices=IdentificationType.choices)
    identification_number = models.CharField(_("identification number"), max_length=20)
    external_id = models.CharField(_("core-banking id"), max_length=64, blank=True, default="")

    first_name = models.CharField(_("first names"), max_length=100, blank=True)
    last_name = models.CharField(_("last names"), max_length=100, blank=True)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    search_name = models.CharField(max_length=200, editable=False, db_index=False)

    mobile = PhoneNumberField(_("mobile"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)

    birth_date = models.DateField(_("birth / incorporation date"), null=True, blank=True)
    civil_status = models.CharField(_("civil status"), max_length=12, choices=CivilStatus.choices, blank=True)
    stratum = models.PositiveSmallIntegerField(
        _("socio-economic stratum"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    children = models.PositiveSmallIntegerField(
        _("children"), null=True, blank=True, validators=[MaxValueValidator(30)]
    )
    education = models.CharField(_("education"), max_length=16, choices=Education.choices, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    income_band = models.CharField(_("income band"), max_length=8, choices=IncomeBand.choices, blank=True)

    economic_sector = models.CharField(_("economic sector"), max_length=20, choices=EconomicSector.choices, blank=True)
    equity = money_field(_("equity"), null=True, blank=True, validators=[MinValueValidator(0)])
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)

    lifecycle_status = models.CharField(
        _("lifecycle status"), max_length=12, choices=LifecycleStatus.choices, default=LifecycleStatus.PROSPECT
    )
    churn_reason = models.CharField(_("churn reason"), max_length=24, choices=ChurnReason.choices, blank=True)
    churned_at = models.DateField(_("churned on"), null=True, blank=True)

    # No single-column index on the tenant, owner and branch keys: the tenant-leading
    # composites below serve every lookup by them (row-level security adds the tenant to
    # each query), and each extra index costs every insert of a bulk feed or import.
    tenant = models.ForeignKey("vector_crm.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner advisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        db_index=False,
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        db_index=False,
    )
    preferred_channel = models.CharField(_("preferred channel"), max_length=10, choices=Channel.choices, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "identification_type", "identification_number"],
                name="customer_unique_identification",
            ),
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(churn_reason="") | Q(lifecycle_status="churned"),
                name="customer_churn_reason_only_when_churned",
            ),
        ]
        # The id columns ascend although lists read newest first (a backward index scan
        # costs the same): new rows then land at the right end of their key range, where a
        # page split leaves the left page full, instead of the left end, where every split
        # is half-and-half. Descending, these four indexes were 45% larger and took 35-50%
        # longer per inserted row (bench/README.md, "CSV import").
        indexes = [
            models.Index(fields=["tenant", "branch", "lifecycle_status", "id"], name="cust_tenant_branch_status_idx"),
            models.Index(fields=["tenant", "owner", "id"], name="cust_tenant_owner_idx"),
            # Newest first inside a tenant (the API's cursor order): without it the planner walks
            # the global primary key through other tenants' rows (1.8 s at 1M customers).
            models.Index(fields=["tenant", "id"], name="cust_tenant_newest_idx"),
            models.Index(fields=["tenant", "lifecycle_status", "id"], name="cust_tenant_status_idx"),
            models.Index(
                fields=["tenant", "search_name"],
                name="cust_tenant_search_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            # The list's usual question: a branch's customers in one status, by name prefix
            # (prefix matched with ^@, see customers/lookups.py; bench/README.md has the numbers).
            models.Index(
                fields=["tenant", "branch", "lifecycle_status", "search_name"],
                name="cust_branch_status_search_idx",
                opclasses=["int8_ops", "int8_ops", "text_ops", "varchar_pattern_ops"],
            ),
            # No index on the mobile number: the search matches its last digits (a suffix,
            # which a B-tree cannot answer), and one would cost every new row about 5 %.
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.kind == CustomerKind.COMPANY:
            return self.legal_name
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        self.identification_number = identification.normalize(self.identification_type, self.identification_number)
        reason = identification.problem(self.identification_type, self.identification_number)
        if reason:
            errors.setdefault("identification_number", []).append(_(reason))
        if self.kind == CustomerKind.COMPANY:
            if not self.legal_name:
                errors.setdefault("legal_name", []).append(_("A company needs its legal name."))
            if self.identification_type not in COMPANY_IDENTIFICATIONS | {IdentificationType.PASSPORT}:
                errors.setdefault("identification_type", []).append(_("A company is identified by NIT or RUC."))
        elif not (self.first_name and self.last_name):
            errors.setdefault("first_name" if not self.first_name else "last_name", []).append(
                _("A person needs first and last names.")
            )
        if self.churn_reason and self.lifecycle_status != LifecycleStatus.CHURNED:
            errors.setdefault("churn_reason", []).append(_("Only a churned customer has a churn reason."))
        if self.lifecycle_status == LifecycleStatus.CHURNED and not self.churn_reason:
            errors.setdefault("churn_reason", []).append(_("A churned customer needs a churn reason."))
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.search_name = search_key(self.display_name)[:200]
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_name", "updated_at"}
        super().save(*args, **kwargs)


class ChannelConsent(TenantModel):
    """Per-channel contact permission (habeas data): opted in or out, when and how."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    opted_in = models.BooleanField(_("opted in"))
    recorded_at = models.DateTimeField(_("recorded at"))
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)

    class Meta:
        verbose_name = _("channel consent")
        verbose_name_plural = _("channel consents")
        constraints = [models.UniqueConstraint(fields=["tenant", "customer", "channel"], name="consent_unique_channel")]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.channel}={'in' if self.opted_in else 'out'}"


class Holding(TenantModel):
    """A customer's account or contract for one product (loan, card, deposit, policy...)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="holdings")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="holdings")
    account_number = models.CharField(_("account number"), max_length=40)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    opened_on = models.DateField(_("opened on"))
    maturity_date = models.DateField(_("maturity"), null=True, blank=True)
    balance = money_field(_("balance"), default=0)
    credit_limit = money_field(_("credit limit"), null=True, blank=True, validators=[MinValueValidator(0)])
    interest_rate = models.DecimalField(
        _("annual rate %"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(200)],
    )
    status = models.CharField(_("status"), max_length=12, choices=HoldingStatus.choices, default=HoldingStatus.ACTIVE)
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    next_due_date = models.DateField(_("next due date"), null=True, blank=True)
    next_due_amount = money_field(_("next due amount"), null=True, blank=True, validators=[MinValueValidator(0)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id", "opened_on"]
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "account_number"], name="holding_unique_account_number"),
        ]
        indexes = [
            models.Index(fields=["tenant", "id"], name="holding_tenant_newest_idx"),  # see Customer
            models.Index(fields=["tenant", "customer"], name="holding_tenant_customer_idx"),
            models.Index(fields=["tenant", "product"], name="holding_tenant_product_idx"),
            models.Index(fields=["tenant", "days_past_due"], name="holding_tenant_dpd_idx"),
            models.Index(fields=["tenant", "maturity_date"], name="holding_tenant_maturity_idx"),
        ]

    def __str__(self) -> str:
        return self.account_number

    def clean(self) -> None:
        if self.maturity_date and self.opened_on and self.maturity_date < self.opened_on:
            raise ValidationError({"maturity_date": _("Maturity cannot precede the opening date.")})


class MonthlyAccountSummary(TenantModel):
    """One month of an account: average balance, transactions, fees and revenue."""

    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="monthly_summaries")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="monthly_summaries")
    month = models.DateField(_("month"), help_text=_("First day of the month"))
    average_balance = money_field(_("average balance"), default=0)
    transactions = models.PositiveIntegerField(_("transactions"), default=0)
    fees = money_field(_("fees"), default=0)
    revenue = money_field(_("revenue"), default=0, help_text=_("Spread and fee income"))

    class Meta:
        ordering = ["holding_id", "month"]
        verbose_name = _("monthly account summary")
        verbose_name_plural = _("monthly account summaries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "holding", "month"], name="summary_unique_month"),
        ]
        indexes = [models.Index(fields=["tenant", "customer", "month"], name="summary_tenant_customer_idx")]

    def __str__(self) -> str:
        return f"{self.holding_id} {self.month:%Y-%m}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("Use the first day of the month.")})


class Payment(TenantModel):
    """An instalment due on an account and what was paid against it (and when)."""

    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="payments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payments")
    due_date = models.DateField(_("due date"))
    amount_due = money_field(_("amount due"), validators=[MinValueValidator(0)])
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    amount_paid = money_field(_("amount paid"), default=0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["holding_id", "-due_date"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        # One instalment per account and due date: the bulk feed upserts on this key (its
        # index also serves the account's payment history, so no separate index).
        constraints = [
            models.UniqueConstraint(fields=["tenant", "holding", "due_date"], name="payment_unique_due_date"),
        ]
        indexes = [
            models.Index(fields=["tenant", "customer", "due_date"], name="payment_tenant_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.holding_id} {self.due_date}"

    @property
    def days_late(self) -> int | None:
        if self.paid_on is None:
            return None
        return max(0, (self.paid_on - self.due_date).days)


class Interaction(TenantModel):
    """One touchpoint on the customer 360 timeline, optionally part of a case, opportunity,
    campaign or task (``related_kind`` + ``related_id``: the stage apps own those rows)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    interaction_type = models.CharField(_("type"), max_length=12, choices=InteractionType.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=InteractionOutcome.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="interactions"
    )
    occurred_at = models.DateTimeField(_("when"))
    notes = models.TextField(_("notes"), blank=True)
    related_kind = models.CharField(_("belongs to"), max_length=12, choices=RelatedKind.choices, blank=True)
    related_id = models.BigIntegerField(_("related id"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["tenant", "customer", "-occurred_at"], name="interaction_timeline_idx"),
            models.Index(fields=["tenant", "related_kind", "related_id"], name="interaction_related_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(related_kind="") & Q(related_id__isnull=True))
                | (~Q(related_kind="") & Q(related_id__isnull=False)),
                name="interaction_related_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_interaction_type_display()} {self.occurred_at:%Y-%m-%d}"
