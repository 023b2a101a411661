"""One FilterSet per model of CASOS, shared by the HTML lists and the API."""

from __future__ import annotations

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseChannel, CaseKind, EventKind, Priority, Status
from cases.models import Case, CaseEvent, CaseType, SlaPolicy
from cases.selectors import case_type_list
from customers.selectors import tenant_members
from vector_crm.models import Team


def _case_types(request):
    return case_type_list()


def _members(request):
    return tenant_members()


def _teams(request):
    return Team.objects.order_by("name")


class CaseFilterSet(filters.FilterSet):
    """Cases by status, family, type, priority, channel, queue, assignee, customer and dates."""

    status = filters.MultipleChoiceFilter(choices=Status.choices, label=_("Estado"))
    kind = filters.ChoiceFilter(choices=CaseKind.choices, label=_("Familia"))
    case_type = filters.ModelChoiceFilter(queryset=_case_types, label=_("Tipo"))
    priority = filters.ChoiceFilter(choices=Priority.choices, label=_("Prioridad"))
    channel = filters.ChoiceFilter(choices=CaseChannel.choices, label=_("Canal"))
    team = filters.ModelChoiceFilter(queryset=_teams, label=_("Cola"))
    assignee = filters.ModelChoiceFilter(queryset=_members, label=_("Responsable"))
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label=_("Sin responsable"))
    customer = filters.NumberFilter(field_name="customer_id", label=_("Cliente"))
    category = filters.CharFilter(label=_("Categoría"))
    opened_after = filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte", label=_("Abierto desde"))
    opened_before = filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt", label=_("Abierto antes de"))
    external_id = filters.CharFilter(label=_("Identificador externo"))

    class Meta:
        model = Case
        fields = []


class CaseCommentFilterSet(filters.FilterSet):
    case = filters.NumberFilter(field_name="case_id", label=_("Caso"))

    class Meta:
        model = CaseEvent
        fields = []


class CaseEventFilterSet(CaseCommentFilterSet):
    kind = filters.ChoiceFilter(choices=EventKind.choices, label=_("Tipo"))


class CaseTypeFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=CaseKind.choices, label=_("Familia"))
    is_active = filters.BooleanFilter(label=_("Activo"))

    class Meta:
        model = CaseType
        fields = []


class SlaPolicyFilterSet(filters.FilterSet):
    case_type = filters.ModelChoiceFilter(queryset=_case_types, label=_("Tipo"))
    priority = filters.ChoiceFilter(choices=Priority.choices, label=_("Prioridad"))

    class Meta:
        model = SlaPolicy
        fields = []
