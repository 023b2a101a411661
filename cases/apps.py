"""CASOS: requests, complaints, exceptions and security cases."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

EVENT_TYPES = {
    "case.created": "A case was opened.",
    "case.updated": "A case's details changed.",
    "case.transitioned": "A case changed status.",
    "case.resolved": "A case was resolved.",
    "case.closed": "A case was closed.",
    "case.assigned": "A case was assigned to a member or a queue.",
    "case.commented": "A comment was added to a case.",
    "case.exception_decided": "A threshold exception was approved or rejected.",
    "case.sla_warning": "A case reached the warning share of its SLA.",
    "case.escalated": "A case breached an SLA and was escalated.",
}


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = _("Casos")

    def ready(self) -> None:
        from cases import imports
        from cases.panels import register
        from vector_crm.outbox import register_event_type

        for name, description in EVENT_TYPES.items():
            register_event_type(name, description)
        register()
        imports.register()
