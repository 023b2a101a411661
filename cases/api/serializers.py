"""Serializers of CASOS: input validation and output shape. Related ids resolve through
the current tenant's scoped querysets (and the caller's visibility for customers and
cases), so another tenant's id is an unknown id: a 400 naming the field."""

from __future__ import annotations

from rest_framework import serializers

from cases.choices import ALLOWED_TRANSITIONS, Status
from cases.models import Case, CaseAttachment, CaseEvent, CaseType, Escalation, SlaPolicy
from cases.permissions import Viewer
from cases.selectors import case_type_list, visible_cases
from customers.api.serializers import (
    CreateOnlyFieldsMixin,
    ScopedPrimaryKeyRelatedField,
    scope_customers,
    scope_holdings,
    scope_members,
)
from vector_crm.models import Team


def scope_case_types(request):
    queryset = case_type_list()
    if request is not None and not Viewer.for_request(request).sees_security:
        queryset = queryset.filter(restricted=False)
    return queryset


def scope_cases(request):
    return visible_cases(Viewer.for_request(request))


def scope_teams(request):
    return Team.objects.order_by("name")


# Fixed once the case is open: a PUT/PATCH ignores them (assignment has its own action).
CREATE_ONLY_FIELDS = (
    "case_type",
    "customer",
    "assignee",
    "team",
    "external_id",
    "exception_type",
    "amount",
    "policy_limit",
)


class CaseSerializer(CreateOnlyFieldsMixin, serializers.ModelSerializer):
    case_type = ScopedPrimaryKeyRelatedField(scope_case_types)
    customer = ScopedPrimaryKeyRelatedField(scope_customers, required=False, allow_null=True)
    holding = ScopedPrimaryKeyRelatedField(scope_holdings, required=False, allow_null=True)
    assignee = ScopedPrimaryKeyRelatedField(scope_members, required=False, allow_null=True)
    team = ScopedPrimaryKeyRelatedField(scope_teams, required=False, allow_null=True)
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "case_type",
            "kind",
            "restricted",
            "subject",
            "description",
            "customer",
            "holding",
            "product_label",
            "channel",
            "category",
            "subcategory",
            "pqrs_type",
            "priority",
            "status",
            "assignee",
            "team",
            "branch",
            "external_id",
            "exception_type",
            "amount",
            "policy_limit",
            "required_authority",
            "approval_status",
            "decided_by",
            "decided_at",
            "decision_reason",
            "resolution",
            "satisfaction",
            "customer_confirmed",
            "opened_at",
            "responded_at",
            "resolved_at",
            "closed_at",
            "paused_at",
            "response_due_at",
            "resolution_due_at",
            "warn_at",
            "escalation_level",
            "next_deadline_at",
            "updated_at",
        ]
        read_only_fields = ["branch", "satisfaction"]
        create_only_fields = CREATE_ONLY_FIELDS


class TransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    satisfaction = serializers.IntegerField(required=False, min_value=1, max_value=5, allow_null=True)
    customer_confirmed = serializers.BooleanField(required=False, default=False)


class AssignSerializer(serializers.Serializer):
    assignee = ScopedPrimaryKeyRelatedField(scope_members, required=False, allow_null=True)
    team = ScopedPrimaryKeyRelatedField(scope_teams, required=False, allow_null=True)


class DecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CaseCommentSerializer(serializers.ModelSerializer):
    case = ScopedPrimaryKeyRelatedField(scope_cases)

    class Meta:
        model = CaseEvent
        fields = ["id", "case", "body", "is_internal", "actor", "occurred_at"]
        read_only_fields = ["actor", "occurred_at"]


class CaseEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "case",
            "kind",
            "from_status",
            "to_status",
            "actor",
            "body",
            "is_internal",
            "data",
            "occurred_at",
        ]


class EscalationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Escalation
        fields = ["id", "case", "milestone", "clock", "level", "target_role", "reason", "escalated_at", "notified"]


class CaseAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseAttachment
        fields = ["id", "case", "name", "content_type", "size", "uploaded_by", "uploaded_at"]


class CaseTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseType
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "default_priority",
            "restricted",
            "categories",
            "milestones",
            "authority_limits",
            "is_active",
        ]


class SlaPolicySerializer(serializers.ModelSerializer):
    case_type = ScopedPrimaryKeyRelatedField(scope_case_types)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "case_type",
            "priority",
            "tier",
            "first_response_minutes",
            "resolution_minutes",
            "warning_percent",
            "escalation_minutes",
            "is_active",
        ]
        validators = []  # the per-tenant unique scope is checked by the service, naming the field

    def validate_escalation_minutes(self, value):
        if not isinstance(value, list) or not all(isinstance(v, int) and v >= 0 for v in value):
            raise serializers.ValidationError("A list of non-negative whole minutes, e.g. [0, 240].")
        if value != sorted(value):
            raise serializers.ValidationError("Levels must be in increasing order.")
        return value


def allowed_next(status: str) -> list[str]:
    return sorted(ALLOWED_TRANSITIONS.get(status, frozenset()))


class TriageRequestSerializer(serializers.Serializer):
    narrative = serializers.CharField(max_length=20000)


class TriageSuggestionSerializer(serializers.Serializer):
    category = serializers.CharField()
    queue = serializers.IntegerField(allow_null=True)
    trained_on = serializers.IntegerField()
