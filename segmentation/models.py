"""VALOR data: the tenant's value formula, survey responses, scoring runs with their
per-customer snapshot, and segments (rule-based and learned) with materialised members.

A ``ScoringRun`` owns its snapshot (``CustomerScore`` rows and ``SegmentMembership`` rows
of rule segments, plus the learned ``Segment`` rows of its clusters). Readers only ever
look at the latest *succeeded* run, so a run still writing (or one that died half-way)
is never seen. At most one queued or running run exists per tenant: a partial unique
index enforces it in the database (PostgreSQL and SQLite alike).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, money_field
from segmentation.choices import ACTIVE_RUN_STATUSES, RunStatus, SegmentKind, SurveyAttribute, Tier
from vector_crm.models import Job
from vector_crm.tenancy import TenantModel


def _share(label, default: str):
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=4,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )


def _weight(label, default: str):
    return models.DecimalField(
        label,
        max_digits=12,
        decimal_places=6,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0"))],
    )


class ValueConfig(TenantModel):
    """The tenant's value formula and tiering parameters (defaults apply without a row).

    See ``segmentation.scoring`` for the formulas these parameters feed.
    """

    revenue_weight = _weight(_("peso del ingreso (margen y comisiones)"), "1")
    fee_weight = _weight(_("peso adicional de comisiones"), "0")
    balance_weight = _weight(_("peso del saldo promedio"), "0")
    window_months = models.PositiveSmallIntegerField(
        _("meses de la ventana"), default=12, validators=[MinValueValidator(1), MaxValueValidator(36)]
    )
    potential_percentile = models.DecimalField(
        _("percentil del potencial"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.750"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("1"))],
    )
    peer_min_size = models.PositiveIntegerField(_("tamaño mínimo del grupo par"), default=5)
    gap_weight = _weight(_("peso de la brecha en la prioridad"), "0.5")
    tier_a_share = _share(_("proporción del nivel A"), "0.2")
    tier_b_share = _share(_("proporción acumulada A+B"), "0.5")
    key_account_share = _share(_("proporción de cuentas clave"), "0.01")
    clusters = models.PositiveSmallIntegerField(
        _("clústeres"), default=5, validators=[MinValueValidator(2), MaxValueValidator(12)]
    )
    random_seed = models.PositiveIntegerField(_("semilla"), default=42)
    keep_runs = models.PositiveSmallIntegerField(
        _("instantáneas conservadas"), default=24, validators=[MinValueValidator(2)]
    )

    class Meta:
        verbose_name = _("fórmula de valor")
        verbose_name_plural = _("fórmulas de valor")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="valueconfig_one_per_tenant")]

    def __str__(self) -> str:
        return f"ValueConfig({self.tenant_id})"


class SurveyResponse(TenantModel):
    """One customer's rating of one attribute on one date: satisfaction and importance 1-5."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_responses")
    responded_on = models.DateField(_("fecha"))
    attribute = models.CharField(_("atributo"), max_length=16, choices=SurveyAttribute.choices)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfacción"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    importance = models.PositiveSmallIntegerField(
        _("importancia"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        ordering = ["customer_id", "-responded_on", "attribute"]
        verbose_name = _("respuesta de encuesta")
        verbose_name_plural = _("respuestas de encuesta")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer", "responded_on", "attribute"], name="survey_unique_answer"
            ),
            models.CheckConstraint(condition=Q(satisfaction__gte=1, satisfaction__lte=5), name="survey_satisfaction"),
            models.CheckConstraint(condition=Q(importance__gte=1, importance__lte=5), name="survey_importance"),
        ]
        indexes = [models.Index(fields=["tenant", "responded_on"], name="survey_tenant_date_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.responded_on} {self.attribute}"


class ScoringRun(TenantModel):
    """One scoring of the whole portfolio and the snapshot it produced."""

    status = models.CharField(_("estado"), max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    as_of = models.DateField(_("fecha de corte"))
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    params = models.JSONField(_("parámetros"), default=dict, blank=True)
    result = models.JSONField(_("resultado"), default=dict, blank=True)
    customers = models.PositiveIntegerField(_("clientes"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("cálculo de valor")
        verbose_name_plural = _("cálculos de valor")
        constraints = [
            # Two runs of one tenant never overlap: the database refuses a second active one.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status__in=ACTIVE_RUN_STATUSES),
                name="scoringrun_one_active_per_tenant",
            )
        ]
        indexes = [models.Index(fields=["tenant", "status", "-id"], name="scoringrun_tenant_status_idx")]

    def __str__(self) -> str:
        return f"ScoringRun #{self.pk} ({self.status})"


class Segment(TenantModel):
    """A group of customers: a saved rule set, or a cluster learned by one scoring run."""

    kind = models.CharField(_("tipo"), max_length=8, choices=SegmentKind.choices, default=SegmentKind.RULE)
    name = models.CharField(_("nombre"), max_length=120)
    description = models.TextField(_("descripción"), blank=True)
    rules = models.JSONField(_("reglas"), default=list, blank=True)
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, null=True, blank=True, related_name="clusters")
    cluster_number = models.PositiveSmallIntegerField(null=True, blank=True)
    traits = models.JSONField(_("rasgos"), default=list, blank=True)
    size = models.PositiveIntegerField(_("clientes"), default=0)
    is_active = models.BooleanField(_("activo"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("segmento")
        verbose_name_plural = _("segmentos")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], condition=Q(kind="rule"), name="segment_unique_rule_name"
            ),
            models.UniqueConstraint(
                fields=["tenant", "run", "cluster_number"], condition=Q(kind="learned"), name="segment_unique_cluster"
            ),
            models.CheckConstraint(
                condition=Q(kind="rule", run__isnull=True) | Q(kind="learned", run__isnull=False),
                name="segment_learned_has_run",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "kind", "run"], name="segment_tenant_kind_idx")]

    def __str__(self) -> str:
        return self.name


# Foreign keys of the per-run snapshot tables: no per-column index, no database constraint.
SNAPSHOT_FK = {"db_index": False, "db_constraint": False}


class CustomerScore(TenantModel):
    """One customer in one run's snapshot: value, potential, gap, priority tier, cluster."""

    # One snapshot row per customer and run (a million a night at scale): the composite
    # indexes below cover every lookup, so the per-column FK indexes are left out to keep
    # the bulk write cheap. For the same reason the foreign keys have no database
    # constraint (``SNAPSHOT_FK``): PostgreSQL checks a constraint with one trigger and
    # one locking lookup per row and key, two thirds of the write at a million rows.
    # Integrity holds by construction instead: the only writer (``segmentation.pipeline``)
    # inserts with a join to the tenant's customers and the run's own segments, and
    # deletes cascade through Django's collector (``on_delete`` is unchanged).
    tenant = models.ForeignKey("vector_crm.Tenant", on_delete=models.PROTECT, related_name="+", **SNAPSHOT_FK)
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores", **SNAPSHOT_FK)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="valor_scores", **SNAPSHOT_FK)
    current_value = money_field(_("valor actual"))
    potential_value = money_field(_("valor potencial"))
    gap = money_field(_("brecha"))
    priority = money_field(_("prioridad"))
    tier = models.CharField(_("nivel"), max_length=1, choices=Tier.choices)
    key_account = models.BooleanField(_("cuenta clave"), default=False)
    cluster = models.ForeignKey(
        Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", **SNAPSHOT_FK
    )
    peer_group = models.CharField(_("grupo par"), max_length=80)
    age = models.PositiveSmallIntegerField(_("edad"), null=True, blank=True)
    average_balance = money_field(_("saldo promedio"), default=0)
    products = models.PositiveSmallIntegerField(_("productos"), default=0)

    class Meta:
        ordering = ["-priority", "customer_id"]
        verbose_name = _("puntaje de cliente")
        verbose_name_plural = _("puntajes de clientes")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "run", "customer"], name="score_unique_customer_per_run")
        ]
        # A customer's history is read run by run through the unique (tenant, run, customer)
        # index (``selectors.customer_value``), so no per-customer index slows the write.
        indexes = [models.Index(fields=["tenant", "run", "cluster"], name="score_tenant_run_cluster_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.run_id}: {self.tier}"


class SegmentMembership(TenantModel):
    """A customer in a rule segment as materialised by one run (history of membership)."""

    # Written in bulk per run like the scores, so no database constraints either (see
    # ``CustomerScore``); the segment keeps its index for the member lists.
    tenant = models.ForeignKey("vector_crm.Tenant", on_delete=models.PROTECT, related_name="+", **SNAPSHOT_FK)
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="memberships", **SNAPSHOT_FK)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships", db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="valor_memberships", **SNAPSHOT_FK)

    class Meta:
        verbose_name = _("miembro de segmento")
        verbose_name_plural = _("miembros de segmento")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "run", "segment", "customer"], name="membership_unique_per_run")
        ]
        indexes = [models.Index(fields=["tenant", "customer", "run"], name="membership_tenant_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}@{self.run_id}"
