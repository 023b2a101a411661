"""REST endpoints of CASOS (``/api/v1/``): cases and their transitions, assignment,
exception decisions, comments, attachments and timeline; case types and SLA policies.

Every viewset builds on ``TenantScopedViewSet``; cases come from ``cases.selectors``
(tenant, visibility, security restriction), so another tenant's case, one outside the
caller's portfolio and a security case without the ``security_cases`` scope are all 404.
Every write is one call to ``cases.services``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from cases import selectors, services
from cases.api.serializers import (
    CREATE_ONLY_FIELDS,
    AssignSerializer,
    AttachmentUploadSerializer,
    CaseAttachmentSerializer,
    CaseCommentSerializer,
    CaseEventSerializer,
    CaseSerializer,
    CaseTypeSerializer,
    DecisionSerializer,
    EscalationSerializer,
    SlaPolicySerializer,
    TransitionSerializer,
    TriageRequestSerializer,
    TriageSuggestionSerializer,
)
from cases.filters import CaseCommentFilterSet, CaseFilterSet, CaseTypeFilterSet, SlaPolicyFilterSet
from cases.models import Case, CaseAttachment, CaseEvent, CaseType, SlaPolicy
from cases.permissions import Viewer
from customers.api.views import ServiceModelViewSet, ServiceViewSet, changed_data


class CaseScopedMixin:
    @property
    def viewer(self) -> Viewer:
        return Viewer.for_request(self.request)


@extend_schema(tags=["cases"])
class CaseViewSet(
    CaseScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ServiceViewSet,
):
    """Cases the caller sees. Opening one starts its SLA clocks; its status moves only
    through ``transition``; cases are cancelled, never deleted."""

    model = Case
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    permission_family = "cases"
    action_capabilities = {
        "transition": "cases.change",
        "assign": "cases.change",
        "decide": "cases.change",
        "comments": "cases.view",
        "attachments": "cases.view",
        "timeline": "cases.view",
        "triage": "cases.create",
    }

    def scoped_queryset(self):
        return selectors.case_list(self.viewer)

    def perform_create(self, serializer):
        serializer.instance = services.case_open(
            **self.service_kwargs(), viewer=self.viewer, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        data = changed_data(serializer.instance, serializer.validated_data)
        for name in CREATE_ONLY_FIELDS:
            data.pop(name, None)
        if data:
            services.case_update(**self.service_kwargs(), case=serializer.instance, data=data)

    def _respond(self, case):
        return Response(
            CaseSerializer(selectors.access_case(self.viewer, case.pk), context=self.get_serializer_context()).data
        )

    @extend_schema(request=TransitionSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], serializer_class=TransitionSerializer, filter_backends=[])
    def transition(self, request, pk=None):
        """Move the case to another status; an invalid move is a 400 naming ``status``."""
        case = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = services.case_transition(
            **self.service_kwargs(),
            case=case,
            to_status=data["to_status"],
            note=data["note"],
            satisfaction=data.get("satisfaction"),
            customer_confirmed=data["customer_confirmed"],
        )
        return self._respond(case)

    @extend_schema(request=AssignSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], serializer_class=AssignSerializer, filter_backends=[])
    def assign(self, request, pk=None):
        """Hand the case to a member and/or queue (``cases.reassign``, or taking it for oneself)."""
        case = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.case_assign(
            **self.service_kwargs(),
            case=case,
            assignee=body.validated_data.get("assignee"),
            team=body.validated_data.get("team"),
        )
        return self._respond(case)

    @extend_schema(request=DecisionSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], serializer_class=DecisionSerializer, filter_backends=[])
    def decide(self, request, pk=None):
        """Approve or reject a threshold exception; above the caller's authority: 400."""
        case = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.case_exception_decide(
            **self.service_kwargs(),
            case=case,
            approve=body.validated_data["approve"],
            reason=body.validated_data["reason"],
        )
        return self._respond(case)

    @extend_schema(responses=CaseEventSerializer(many=True))
    @action(
        detail=True, methods=["get"], serializer_class=CaseEventSerializer, filter_backends=[], pagination_class=None
    )
    def timeline(self, request, pk=None):
        """The case's full interaction log, oldest first, with its escalations."""
        case = self.get_object()
        return Response(
            {
                "events": CaseEventSerializer(selectors.case_timeline(case), many=True).data,
                "escalations": EscalationSerializer(case.escalations.order_by("escalated_at"), many=True).data,
            }
        )

    @extend_schema(request=TriageRequestSerializer, responses=TriageSuggestionSerializer)
    @action(detail=False, methods=["post"], serializer_class=TriageRequestSerializer, filter_backends=[])
    def triage(self, request):
        """Suggested category and queue for a new complaint's narrative, from a classifier
        trained on this institution's own closed complaints."""
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        suggestion = selectors.case_triage(body.validated_data["narrative"])
        return Response(TriageSuggestionSerializer(suggestion).data)

    @extend_schema(request=AttachmentUploadSerializer, responses=CaseAttachmentSerializer)
    @action(
        detail=True,
        methods=["post"],
        serializer_class=AttachmentUploadSerializer,
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
    )
    def attachments(self, request, pk=None):
        """Upload a file (multipart ``file``, 10 MB at most)."""
        case = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        attachment = services.case_attach(**self.service_kwargs(), case=case, upload=body.validated_data["file"])
        return Response(CaseAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["cases"])
class CaseCommentViewSet(
    CaseScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ServiceViewSet
):
    """Comments on the cases the caller sees (``?case=<id>``), oldest first."""

    model = CaseEvent
    serializer_class = CaseCommentSerializer
    filterset_class = CaseCommentFilterSet
    permission_family = "cases"
    action_capabilities = {"create": "cases.change"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def scoped_queryset(self):
        return selectors.comment_list(self.viewer)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.case_comment(
            **self.service_kwargs(),
            case=data["case"],
            body=data.get("body", ""),
            is_internal=data.get("is_internal", False),
        )


@extend_schema(tags=["cases"])
class CaseAttachmentViewSet(CaseScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Files attached to the cases the caller sees (upload: ``POST /cases/{id}/attachments/``)."""

    model = CaseAttachment
    serializer_class = CaseAttachmentSerializer
    permission_family = "cases"

    def scoped_queryset(self):
        return CaseAttachment.objects.filter(case__in=selectors.visible_cases(self.viewer))


@extend_schema(tags=["cases"])
class CaseTypeViewSet(ServiceModelViewSet):
    """The tenant's case types (seeded with requests, PQRS, exceptions and security)."""

    model = CaseType
    serializer_class = CaseTypeSerializer
    filterset_class = CaseTypeFilterSet
    permission_family = "case_config"
    create_service = staticmethod(services.case_type_create)
    update_service = staticmethod(services.case_type_update)
    delete_service = staticmethod(services.case_type_delete)
    instance_kwarg = "case_type"

    def scoped_queryset(self):
        return selectors.case_type_list()


@extend_schema(tags=["cases"])
class SlaPolicyViewSet(ServiceModelViewSet):
    """SLA policies by case type x priority x customer tier (blank: any)."""

    model = SlaPolicy
    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilterSet
    permission_family = "case_config"
    create_service = staticmethod(services.sla_policy_create)
    update_service = staticmethod(services.sla_policy_update)
    delete_service = staticmethod(services.sla_policy_delete)
    instance_kwarg = "policy"

    def scoped_queryset(self):
        return selectors.sla_policy_list()
