"""Django admin of CASOS for tenant admins: case types and SLA policies go through
``cases.services``; the calendar (edited on its page, ``cases:calendar``, through
``services.business_calendar_set``), cases (they change through their lifecycle on the case
page and the API) and triage models (written by their training job) are read-only here."""

from __future__ import annotations

from django.contrib import admin

from cases import services
from cases.models import BusinessCalendar, Case, CaseType, SlaPolicy, TriageModel
from customers.admin import ServiceAdmin
from vector_crm.admin import ReadOnlyAdminMixin


@admin.register(CaseType)
class CaseTypeAdmin(ServiceAdmin):
    list_display = ["code", "name", "kind", "default_priority", "restricted", "is_active"]
    list_filter = ["kind", "restricted", "is_active"]
    create_service = staticmethod(services.case_type_create)
    update_service = staticmethod(services.case_type_update)
    entity_kwarg = "case_type"


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ServiceAdmin):
    list_display = ["case_type", "priority", "tier", "first_response_minutes", "resolution_minutes", "warning_percent"]
    list_filter = ["case_type", "priority"]
    create_service = staticmethod(services.sla_policy_create)
    update_service = staticmethod(services.sla_policy_update)
    entity_kwarg = "policy"


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tenant", "timezone", "holiday_country"]


@admin.register(TriageModel)
class TriageModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["trained_at", "n_samples", "accuracy", "folds", "job"]
    exclude = ["pipeline"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "subject", "kind", "status", "priority", "assignee", "team", "resolution_due_at"]
    list_filter = ["kind", "status", "priority"]
    search_fields = ["subject", "external_id"]
    raw_id_fields = ["customer", "holding"]
