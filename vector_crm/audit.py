"""Audit trail registration (django-auditlog, with our tenant-aware entry model).

Every create/update/delete of the models below, made through the ORM (services, admin,
API), writes an ``AuditLogEntry`` with actor, tenant, time and the before/after of each
changed field. Bulk loads (COPY, bulk upserts) are audited at the job level instead.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django.apps import apps

# model label -> fields left out of the diff (secrets, noise).
AUDITED_MODELS: dict[str, tuple[str, ...]] = {
    "vector_crm.Tenant": (),
    "vector_crm.Membership": (),
    "vector_crm.Team": (),
    "vector_crm.ApiCredential": ("secret_hash", "last_used_at"),
    "vector_crm.WebhookEndpoint": ("secret",),
    "vector_crm.FileImport": ("headers", "sample", "options", "updated_at"),
    "customers.Branch": (),
    "customers.Product": (),
    "customers.Customer": ("updated_at", "search_name"),
    "customers.ChannelConsent": (),
    "customers.Holding": ("updated_at",),
    "customers.MonthlyAccountSummary": (),
    "customers.Payment": (),
    "customers.Interaction": (),
    # CASOS. The SLA sweep writes warnings and escalations with bulk statements (not
    # audited row by row): its Escalation and CaseEvent rows are the record.
    "cases.CaseType": (),
    "cases.SlaPolicy": (),
    "cases.BusinessCalendar": (),
    "cases.Case": ("updated_at",),
    "cases.CaseEvent": (),
    "cases.CaseAttachment": (),
    "segmentation.ValueConfig": (),
    "segmentation.Segment": ("updated_at", "size"),
    "segmentation.ScoringRun": ("job", "heartbeat_at", "params", "result", "error"),
}


def register_models() -> None:
    for label, exclude in AUDITED_MODELS.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=list(exclude))


def audit_entries_for(instance):
    """The audit entries of one object, newest first (current tenant only)."""
    from django.contrib.contenttypes.models import ContentType

    from vector_crm.models import AuditLogEntry

    return AuditLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(instance)), object_pk=str(instance.pk)
    ).order_by("-timestamp")


def audit_action(instance, action: str, **data) -> None:
    """An audit entry for a business action that changes no audited field of ``instance``
    (a rotated secret, a redelivery): ``additional_data`` names the action and its data."""
    from auditlog.models import LogEntry

    from vector_crm.models import AuditLogEntry

    AuditLogEntry.objects.log_create(
        instance, force_log=True, action=LogEntry.Action.UPDATE, changes={}, additional_data={"action": action, **data}
    )


def acting_as(actor):
    """Attribute audit entries written in the block to ``actor`` (a User, or None: system)."""
    import contextlib

    from auditlog.context import set_actor

    if actor is None or getattr(actor, "pk", None) is None:
        return contextlib.nullcontext()
    return set_actor(actor)


def audited(service):
    """Decorator for services: run atomically with the ``actor=`` keyword as audit actor."""
    import functools

    from django.db import transaction

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with transaction.atomic(), acting_as(kwargs.get("actor")):
            return service(*args, **kwargs)

    return wrapper
