"""CASOS data: case types, SLA policies, business calendars, cases and their timeline.

A case's timers are database state: ``next_deadline_at`` is the moment of its next SLA
step (warning, first-response breach or escalation level), indexed, and swept every
minute by ``cases.jobs.sweep_sla_deadlines``. Nothing lives in memory or in ETA tasks.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    ApprovalStatus,
    Authority,
    CaseChannel,
    CaseKind,
    Clock,
    EventKind,
    ExceptionType,
    PqrsType,
    Priority,
    Status,
)
from vector_crm.tenancy import TenantModel


def default_escalation_minutes() -> list[int]:
    return [0, 240]


def default_authority_limits() -> dict[str, float]:
    return {"advisor": 1.0, "supervisor": 1.5}


class CaseType(TenantModel):
    """A kind of case a tenant handles (seeded with the source's four: requests, PQRS,
    threshold exceptions, security). ``restricted`` types are seen only by members with
    ``cases.view_security``; ``milestones`` are the "moments of truth" with their targets
    (``[{"code": ..., "name": ..., "target_minutes": ...}]``, business minutes)."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("family"), max_length=16, choices=CaseKind.choices)
    default_priority = models.CharField(
        _("default priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    restricted = models.BooleanField(_("restricted visibility"), default=False)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    milestones = models.JSONField(_("milestones"), default=list, blank=True)
    # Threshold exceptions: the highest amount/policy-limit ratio each level may approve;
    # above the supervisor's ratio only a manager may.
    authority_limits = models.JSONField(_("approval limits"), default=default_authority_limits, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="casetype_unique_code")]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(TenantModel):
    """Targets for one case type x priority x customer tier (blank: any), in business
    minutes, with the warning share and the escalation levels (business minutes after
    the resolution deadline at which levels 1, 2, ... fire)."""

    case_type = models.ForeignKey(CaseType, on_delete=models.CASCADE, related_name="policies")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, blank=True)
    tier = models.CharField(_("customer tier"), max_length=40, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response target (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution target (business minutes)"))
    warning_percent = models.PositiveSmallIntegerField(
        _("warning at % of the target"), default=75, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    escalation_minutes = models.JSONField(
        _("escalation levels (minutes after breach)"), default=default_escalation_minutes
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["case_type", "priority", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "case_type", "priority", "tier"], name="slapolicy_unique_scope")
        ]

    def __str__(self) -> str:
        return f"{self.case_type} / {self.priority or '*'} / {self.tier or '*'}"


class BusinessCalendar(TenantModel):
    """The tenant's working week (``hours``: weekday "0".."6" -> [["08:00", "17:00"], ...];
    a weekday left out is closed, several intervals are split hours) and its own holidays,
    on top of a country's public holidays. ``timezone`` and ``holiday_country`` override the
    tenant's (``Tenant.timezone`` / ``Tenant.holiday_country``) when set."""

    hours = models.JSONField(_("working hours"), default=dict)
    extra_holidays = models.JSONField(_("additional holidays"), default=list, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    holiday_country = models.CharField(_("holiday calendar country"), max_length=2, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="businesscalendar_one_per_tenant")]

    def __str__(self) -> str:
        return f"calendar of {self.tenant_id}"


class Case(TenantModel):
    """A request, complaint (PQRS), threshold exception or security case, its lifecycle
    (``cases.choices.ALLOWED_TRANSITIONS``), SLA clocks and escalation state."""

    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(_("family"), max_length=16, choices=CaseKind.choices, editable=False)
    restricted = models.BooleanField(_("restricted"), default=False, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    holding = models.ForeignKey(
        "customers.Holding", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    product_label = models.CharField(_("product concerned"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=12, choices=CaseChannel.choices)
    category = models.CharField(_("category"), max_length=200, blank=True)
    subcategory = models.CharField(_("subcategory"), max_length=200, blank=True)
    pqrs_type = models.CharField(_("PQRS type"), max_length=12, choices=PqrsType.choices, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    team = models.ForeignKey(
        "vector_crm.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("queue"),
        db_index=False,
    )
    branch = models.ForeignKey("customers.Branch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    external_id = models.CharField(_("external id"), max_length=64, blank=True, default="")

    # Threshold exceptions
    exception_type = models.CharField(_("exception"), max_length=20, choices=ExceptionType.choices, blank=True)
    amount = models.DecimalField(_("amount requested"), max_digits=18, decimal_places=2, null=True, blank=True)
    policy_limit = models.DecimalField(_("policy limit"), max_digits=18, decimal_places=2, null=True, blank=True)
    required_authority = models.PositiveSmallIntegerField(
        _("authority required"), choices=Authority.choices, null=True, blank=True, editable=False
    )
    approval_status = models.CharField(
        _("approval"), max_length=10, choices=ApprovalStatus.choices, blank=True, editable=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decision_reason = models.TextField(_("decision reasons"), blank=True, editable=False)

    # Outcome
    resolution = models.TextField(_("resolution"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction (1-5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    customer_confirmed = models.BooleanField(_("closure confirmed by the customer"), default=False, editable=False)

    # Lifecycle times
    opened_at = models.DateTimeField(_("opened at"), editable=False)
    responded_at = models.DateTimeField(_("first response at"), null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    # SLA clocks and the sweep's state
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, editable=False)
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False)
    warn_at = models.DateTimeField(_("warning at"), null=True, blank=True, editable=False)
    warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0, editable=False)
    escalation_offsets = models.JSONField(default=list, blank=True, editable=False)
    next_deadline_at = models.DateTimeField(_("next SLA step"), null=True, blank=True, editable=False)

    class Meta:
        # Every index is paid by each sweep update (``next_deadline_at`` moves, so none is a
        # HOT update). The assignee and the queue are searched through the tenant-first
        # composites below; the creator and the decider are never searched: their foreign
        # keys carry no index of their own (deleting a user or a team, a rare admin act,
        # scans). The customer, holding and policy keep theirs: their services delete rows.
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=~Q(external_id=""), name="case_unique_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "next_deadline_at"], name="case_tenant_deadline_idx"),
            models.Index(fields=["tenant", "status", "-opened_at"], name="case_tenant_status_idx"),
            models.Index(fields=["tenant", "assignee", "status"], name="case_tenant_assignee_idx"),
            models.Index(fields=["tenant", "team", "status"], name="case_tenant_team_idx"),
            # The escalation board: a queue's open cases, most urgent first.
            models.Index(fields=["tenant", "team", "resolution_due_at"], name="case_tenant_team_due_idx"),
            models.Index(fields=["tenant", "customer", "status"], name="case_tenant_customer_idx"),
            models.Index(fields=["tenant", "resolution_due_at"], name="case_tenant_resolution_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"C-{self.pk:06d}" if self.pk else "C-nuevo"

    @property
    def is_open(self) -> bool:
        from cases.choices import OPEN_STATUSES

        return self.status in OPEN_STATUSES


class CaseEvent(TenantModel):
    """One entry of a case's interaction log: creation, status change, comment,
    assignment, attachment, SLA warning, escalation, exception decision."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    is_internal = models.BooleanField(_("internal note"), default=False)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["tenant", "case", "occurred_at"], name="caseevent_tenant_case_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class Escalation(TenantModel):
    """One escalation of one case: the level reached on a clock, when, why and who was
    told. Unique per (case, clock, level), and per milestone for a missed milestone
    (``clock`` "milestone", level 1): a sweep that runs twice escalates once.

    The escalation is the timeline's record of itself: the sweep writes no duplicate
    ``CaseEvent``; ``cases.selectors.case_timeline`` merges escalations into the timeline."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations")
    milestone = models.ForeignKey(
        "cases.CaseMilestone",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalations",
        db_index=False,  # the (tenant, milestone) unique constraint is its index
    )
    clock = models.CharField(_("clock"), max_length=16, choices=Clock.choices)
    level = models.PositiveSmallIntegerField(_("level"))
    target_role = models.CharField(_("escalated to"), max_length=32)
    reason = models.CharField(_("reason"), max_length=300)
    escalated_at = models.DateTimeField(_("escalated at"))
    notified = models.JSONField(_("notified users"), default=list, blank=True)

    class Meta:
        ordering = ["escalated_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "case", "clock", "level"],
                condition=Q(milestone__isnull=True),
                name="escalation_once_per_level",
            ),
            models.UniqueConstraint(
                fields=["tenant", "milestone"],
                condition=Q(milestone__isnull=False),
                name="escalation_once_per_milestone",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "escalated_at"], name="escalation_tenant_time_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.clock} L{self.level}"


class CaseMilestone(TenantModel):
    """A "moment of truth" of one case with its own business-hours target.

    Swept like the SLA: a warning at ``warn_at`` (the policy's warning share of the
    target), then, unless reached, an escalation at ``due_at`` (``missed_at``); each once.
    The case's ``next_deadline_at`` includes its pending milestones' next steps."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="milestones")
    code = models.SlugField(max_length=40)
    name = models.CharField(_("name"), max_length=120)
    due_at = models.DateTimeField(_("due"))
    reached_at = models.DateTimeField(_("reached"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warning at"), null=True, blank=True, editable=False)
    warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    missed_at = models.DateTimeField(_("missed at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "case", "code"], name="casemilestone_unique_code")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.code}"


def attachment_path(instance: CaseAttachment, filename: str) -> str:
    return f"cases/{instance.tenant_id}/{instance.case_id}/{filename}"


class CaseAttachment(TenantModel):
    """A file attached to a case (a letter, an ID scan, a statement)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["tenant", "case"], name="caseattachment_tenant_case_idx")]

    def __str__(self) -> str:
        return self.name


class TriageModel(TenantModel):
    """A complaint-triage classifier trained on one tenant's own closed complaints by the
    ``cases.train_triage`` job: the fitted pipeline (``cases.triage.Triage``, pickled by
    joblib; written only by that job), when and on how many cases it was trained, its
    5-fold cross-validated accuracy for the category, and the categories it knows. The
    newest row of a tenant is the one intake suggestions use."""

    trained_at = models.DateTimeField(_("trained at"))
    n_samples = models.PositiveIntegerField(_("training cases"))
    accuracy = models.FloatField(_("cross-validated accuracy"), null=True, blank=True)
    folds = models.PositiveSmallIntegerField(_("folds"), default=5)
    classes = models.JSONField(_("categories"), default=list, blank=True)
    pipeline = models.BinaryField(_("serialized model"))
    job = models.ForeignKey("vector_crm.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-trained_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-trained_at"], name="triagemodel_tenant_trained_idx")]

    def __str__(self) -> str:
        return f"triage model {self.pk} of {self.tenant_id}"
