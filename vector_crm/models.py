"""Platform models: institutions (tenants), users and memberships, API credentials, jobs,
and the audit trail."""

from __future__ import annotations

import hashlib
import secrets

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vector_crm.roles import Role, role_has, scopes_grant
from vector_crm.tenancy import (
    TenantModel,
    TenantScopedManager,
    UnscopedManager,
    get_current_tenant_id,
    require_tenant_id,
    tenant_context,
)

DEFAULT_IMPORT_MAX_BYTES = 200 * 1024 * 1024


class Tenant(models.Model):
    """A financial institution. Everything business-related hangs off exactly one tenant."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, help_text="ISO 3166-1 alpha-2")
    currency = models.CharField(_("currency"), max_length=3, help_text="ISO 4217")
    timezone = models.CharField(_("time zone"), max_length=64, default="America/Bogota")
    locale = models.CharField(_("locale"), max_length=10, default="es-CO")
    holiday_country = models.CharField(
        _("holiday calendar country"), max_length=2, help_text="ISO code for the holidays calendar"
    )
    is_active = models.BooleanField(_("active"), default=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    import_max_bytes = models.PositiveBigIntegerField(
        _("límite de archivos de importación (bytes)"),
        default=DEFAULT_IMPORT_MAX_BYTES,
        help_text=_("Tamaño máximo de un archivo CSV o XLSX que los usuarios pueden importar."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")

    def __str__(self) -> str:
        return self.name

    @property
    def language(self) -> str:
        return self.locale.split("-")[0]


class User(AbstractUser):
    """A person who signs in. Their rights come from memberships, one per tenant."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def membership_for(self, tenant_id: int) -> Membership | None:
        """The active membership in ``tenant_id`` (platform read: decides the tenant)."""
        from vector_crm.tenancy import platform_context

        with platform_context():
            return (
                Membership.unscoped.select_related("tenant", "branch", "team")
                .filter(user=self, tenant_id=tenant_id, is_active=True, tenant__is_active=True)
                .first()
            )


class Team(TenantModel):
    """A supervisor's team of advisors inside a tenant, usually within one branch."""

    name = models.CharField(_("name"), max_length=120)
    branch = models.ForeignKey(
        "customers.Branch", on_delete=models.SET_NULL, null=True, blank=True, related_name="teams"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="team_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """A user's role in one tenant, with the branch and team that bound what they see."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    branch = models.ForeignKey(
        "customers.Branch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="memberships")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user_per_tenant")]
        indexes = [models.Index(fields=["tenant", "team"], name="membership_tenant_team_idx")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant_id} ({self.role})"

    def has(self, capability: str) -> bool:
        return role_has(self.role, capability)


def _hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough; a slow KDF would only
    # cost every API request without adding protection against guessing.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiCredential(TenantModel):
    """A per-tenant API key for core-banking systems: ``<prefix>.<secret>``, stored hashed.

    Chosen over OAuth2 client credentials because banks' batch jobs send one header with
    no token round-trip, and the same scopes, rotation and revocation apply.
    """

    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="apicred_tenant_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def set_new_secret(self) -> str:
        """Generate prefix and secret; returns the full key, which is never stored."""
        self.prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self.secret_hash = _hash_secret(secret)
        return f"{self.prefix}.{secret}"

    def check_secret(self, secret: str) -> bool:
        return secrets.compare_digest(self.secret_hash, _hash_secret(secret))

    def has(self, capability: str) -> bool:
        return scopes_grant(self.scopes, capability)


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("En cola")
    RUNNING = "running", _("En ejecución")
    SUCCEEDED = "succeeded", _("Terminado")
    FAILED = "failed", _("Fallido")
    CANCELLED = "cancelled", _("Cancelado")


class Job(TenantModel):
    """A long background job (import, scoring run, sweep) with progress the UI can poll."""

    kind = models.CharField(_("kind"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="job_tenant_created_idx"),
            models.Index(fields=["tenant", "kind", "status"], name="job_tenant_kind_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()


class AuditLogEntryManager(TenantScopedManager, LogEntryManager):
    """django-auditlog's manager, scoped to the current tenant like every tenant table."""

    def log_create(self, instance, force_log: bool = False, **kwargs):
        # The entry belongs to the tenant of the changed row, even in platform work.
        tenant_id = instance.pk if isinstance(instance, Tenant) else getattr(instance, "tenant_id", None)
        if tenant_id is None:
            return super().log_create(instance, force_log=force_log, **kwargs)
        kwargs.setdefault("tenant_id", tenant_id)
        with tenant_context(tenant_id):  # so the row also passes RLS in platform work
            return super().log_create(instance, force_log=force_log, **kwargs)


class AuditLogEntry(AbstractLogEntry):
    """One create/update/delete of business data: who, tenant, when, before/after.

    django-auditlog writes it from model signals. It is append-only: the app cannot
    change or delete entries (and on PostgreSQL the runtime role lacks the privilege).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    api_credential = models.ForeignKey(
        ApiCredential, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AuditLogEntryManager()
    unscoped = UnscopedManager()

    class Meta(AbstractLogEntry.Meta):
        base_manager_name = "unscoped"
        indexes = [
            models.Index(fields=["tenant", "content_type", "object_pk"], name="audit_tenant_object_idx"),
            models.Index(fields=["tenant", "-timestamp"], name="audit_tenant_time_idx"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Audit entries are append-only.")
        if self.tenant_id is None:
            self.tenant_id = get_current_tenant_id() or require_tenant_id()
        from vector_crm.api.authentication import current_api_credential_id

        if self.api_credential_id is None:
            self.api_credential_id = current_api_credential_id()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are append-only.")


class IdempotencyStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("En curso")
    COMPLETED = "completed", _("Completada")


class IdempotencyRecord(TenantModel):
    """One ``Idempotency-Key`` of one principal (API credential or user) in one tenant.

    The first request reserves the key (``in_progress``), and its response is stored when
    it finishes (``completed``) so a retry gets the same status and bytes back. The body is
    kept as the rendered JSON text, not a JSON column: PostgreSQL's jsonb reorders keys and
    the replay must be byte-identical. Rows expire after 24 h (``vector_crm.idempotency``).
    """

    principal = models.CharField(_("principal"), max_length=64)
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=1024)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64, help_text="SHA-256 of the request body")
    status = models.CharField(
        _("status"), max_length=16, choices=IdempotencyStatus.choices, default=IdempotencyStatus.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(_("response status code"), null=True, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "principal", "key"], name="idempotency_unique_key_per_principal")
        ]
        indexes = [models.Index(fields=["tenant", "expires_at"], name="idempotency_tenant_expires_idx")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key} ({self.status})"


class WebhookEndpoint(TenantModel):
    """A tenant's HTTPS receiver for domain events of the chosen types.

    The signing secret is kept in clear (HMAC needs it) and shown to the admin once, at
    creation; deliveries are signed with it (``vector_crm.outbox.sign``).
    """

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhookep_tenant_active_idx")]

    def __str__(self) -> str:
        return self.url

    def set_new_secret(self) -> str:
        self.secret = secrets.token_hex(32)
        return self.secret

    def wants(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])


class OutboxEvent(TenantModel):
    """A domain event, written in the same transaction as the change it describes."""

    event_id = models.UUIDField(_("event id"), unique=True, editable=False)
    type = models.CharField(_("type"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    occurred_at = models.DateTimeField(_("occurred at"))
    aggregate_type = models.CharField(_("aggregate type"), max_length=64)
    aggregate_id = models.CharField(_("aggregate id"), max_length=64)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-occurred_at"], name="outbox_tenant_occurred_idx"),
            models.Index(fields=["tenant", "aggregate_type", "aggregate_id"], name="outbox_tenant_aggregate_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    SUCCEEDED = "succeeded", _("Entregado")
    FAILED = "failed", _("Fallido, se reintentará")
    DEAD = "dead", _("Abandonado")


class WebhookDelivery(TenantModel):
    """One event to one endpoint: the delivery log and the retry timer (``next_attempt_at``),
    swept by beat, so a worker that dies mid-delivery loses nothing."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "endpoint", "event"], name="webhookdelivery_unique_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["tenant", "next_attempt_at"], name="webhookdel_tenant_due_idx"),
            models.Index(fields=["tenant", "endpoint", "-created_at"], name="webhookdel_tenant_ep_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Cargado")
    MAPPED = "mapped", _("Columnas asignadas")
    VALIDATING = "validating", _("Validando")
    VALIDATED = "validated", _("Validado")
    IMPORTING = "importing", _("Importando")
    DONE = "done", _("Importado")
    FAILED = "failed", _("Fallido")


class FileImport(TenantModel):
    """One uploaded CSV/XLSX file on its way into the CRM (``vector_crm.imports``).

    uploaded -> mapped -> validating -> validated -> importing -> done, or failed. The file
    lives under ``MEDIA_ROOT/imports/<tenant>/``; ``issue_count`` counts every row-level
    problem of the last dry run or import, of which the first ``MAX_STORED_ISSUES`` are
    ``FileImportIssue`` rows and all are in the CSV report beside the file.
    """

    importable = models.CharField(_("tipo de datos"), max_length=64)
    preset = models.CharField(_("plantilla"), max_length=64, blank=True)
    original_name = models.CharField(_("nombre del archivo"), max_length=255)
    stored_name = models.CharField(max_length=255, editable=False)
    size = models.PositiveBigIntegerField(_("tamaño (bytes)"), default=0)
    file_format = models.CharField(_("formato"), max_length=8)
    encoding = models.CharField(_("codificación"), max_length=32, blank=True)
    delimiter = models.CharField(_("separador"), max_length=4, blank=True)
    headers = models.JSONField(_("encabezados"), default=list, blank=True)
    sample = models.JSONField(_("muestra"), default=list, blank=True)
    mapping = models.JSONField(_("asignación de columnas"), default=dict, blank=True)
    constants = models.JSONField(_("valores fijos"), default=dict, blank=True)
    options = models.JSONField(_("opciones"), default=dict, blank=True)
    status = models.CharField(_("estado"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(_("filas"), default=0)
    valid_rows = models.PositiveIntegerField(_("filas válidas"), default=0)
    issue_count = models.PositiveIntegerField(_("errores"), default=0)
    invalid_rows = models.PositiveIntegerField(_("filas con errores"), default=0)
    counts = models.JSONField(_("resultado"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    api_credential = models.ForeignKey(
        ApiCredential, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="fileimport_tenant_created_idx")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    @property
    def is_busy(self) -> bool:
        return self.status in {ImportStatus.VALIDATING, ImportStatus.IMPORTING}


class FileImportIssue(TenantModel):
    """One row-level problem of an import: file row (header = 1), column, value, reason."""

    file_import = models.ForeignKey(FileImport, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(_("fila"))
    column = models.CharField(_("columna"), max_length=255, blank=True)
    value = models.CharField(_("valor"), max_length=255, blank=True)
    reason = models.CharField(_("motivo"), max_length=500)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["tenant", "file_import", "row"], name="fileimportissue_tenant_row_idx")]

    def __str__(self) -> str:
        return f"{self.row} {self.column}: {self.reason}"


class Notification(TenantModel):
    """An in-app message to one member (SLA warnings, escalations...), also e-mailed.

    ``emailed_at`` is set once the e-mail left, so a redelivered e-mail job sends nothing twice.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "user", "read_at"], name="notification_tenant_user_idx"),
            models.Index(fields=["tenant", "emailed_at"], name="notification_tenant_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"
