"""Case statuses, priorities, kinds and the lifecycle's allowed transitions, as data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    REQUEST = "request", _("Solicitud")
    COMPLAINT = "complaint", _("PQRS")
    EXCEPTION = "exception", _("Excepción de umbral")
    SECURITY = "security", _("Seguridad")


class Status(models.TextChoices):
    NEW = "new", _("Nuevo")
    ACKNOWLEDGED = "acknowledged", _("Recibido")
    IN_PROGRESS = "in_progress", _("En gestión")
    WAITING_CUSTOMER = "waiting_customer", _("En espera del cliente")
    RESOLVED = "resolved", _("Resuelto")
    CLOSED = "closed", _("Cerrado")
    REOPENED = "reopened", _("Reabierto")
    CANCELLED = "cancelled", _("Anulado")


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.CANCELLED}),
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CANCELLED}),
    Status.WAITING_CUSTOMER: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CANCELLED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CANCELLED}),
    Status.CANCELLED: frozenset(),
}
# Statuses in which a case is open: it has a clock, shows on boards and on the 360.
OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.REOPENED)
# Leaving NEW for any of these is the first response to the customer.
RESPONDED_STATUSES = frozenset(set(Status.values) - {Status.NEW})


class Priority(models.TextChoices):
    LOW = "low", _("Baja")
    MEDIUM = "medium", _("Media")
    HIGH = "high", _("Alta")
    CRITICAL = "critical", _("Crítica")


PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}


class CaseChannel(models.TextChoices):
    BRANCH = "branch", _("Agencia")
    PHONE = "phone", _("Teléfono")
    WEB = "web", _("Banca en línea")
    APP = "app", _("App móvil")
    EMAIL = "email", _("Correo electrónico")
    MAIL = "mail", _("Correo físico")
    FAX = "fax", _("Fax")
    REFERRAL = "referral", _("Remitido por un tercero")
    SOCIAL = "social", _("Redes sociales")
    WHATSAPP = "whatsapp", _("WhatsApp")


class PqrsType(models.TextChoices):
    PETITION = "petition", _("Petición")
    COMPLAINT = "complaint", _("Queja")
    CLAIM = "claim", _("Reclamo")
    SUGGESTION = "suggestion", _("Sugerencia")


class ExceptionType(models.TextChoices):
    OVERDRAFT = "overdraft", _("Sobregiro")
    DEFERRAL = "deferral", _("Aplazamiento de cuotas")
    PREFERENTIAL_RATE = "preferential_rate", _("Tasa preferencial")
    LIMIT_INCREASE = "limit_increase", _("Aumento de cupo")


class Authority(models.IntegerChoices):
    """Who may approve an exception: each level may approve what the lower ones may."""

    ADVISOR = 1, _("Asesor")
    SUPERVISOR = 2, _("Supervisor")
    MANAGER = 3, _("Gerente")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    APPROVED = "approved", _("Aprobada")
    REJECTED = "rejected", _("Rechazada")


class EventKind(models.TextChoices):
    CREATED = "created", _("Creado")
    TRANSITION = "transition", _("Cambio de estado")
    COMMENT = "comment", _("Comentario")
    ASSIGNMENT = "assignment", _("Asignación")
    ATTACHMENT = "attachment", _("Adjunto")
    WARNING = "warning", _("Alerta de ANS")
    ESCALATION = "escalation", _("Escalamiento")
    DECISION = "decision", _("Decisión de excepción")
    MILESTONE = "milestone", _("Momento de verdad")


class Clock(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("Primera respuesta")
    RESOLUTION = "resolution", _("Resolución")
    MILESTONE = "milestone", _("Momento de verdad")


# Who each escalation level goes to (level 1: the team's supervisor, 2: the branch manager).
ESCALATION_TARGETS = {1: "supervisor", 2: "branch_manager"}
