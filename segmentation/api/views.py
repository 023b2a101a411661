"""REST endpoints of VALOR (``/api/v1/``): segments (with members and a live count
preview), scores of the latest run, scoring runs (start, progress, result) and the bulk
upsert of survey responses.

Reads come from ``segmentation.selectors`` (tenant scope, member visibility on customer
rows); writes are one call to ``segmentation.services``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.api.bulk import bulk_viewset
from segmentation import selectors, services
from segmentation.bulk import RESOURCE
from segmentation.descriptions import describe_traits
from segmentation.filters import CustomerScoreFilterSet, SegmentFilterSet
from segmentation.models import CustomerScore, ScoringRun, Segment, SurveyResponse
from vector_crm.api.base import TenantScopedViewSet
from vector_crm.api.pagination import CreatedCursorPagination
from vector_crm.errors import DomainError


class SegmentSerializer(serializers.ModelSerializer):
    rules = serializers.JSONField(required=False)
    summary = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = [
            "id",
            "kind",
            "name",
            "description",
            "rules",
            "is_active",
            "size",
            "run",
            "cluster_number",
            "traits",
            "summary",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["kind", "size", "run", "cluster_number", "traits", "created_at", "updated_at"]

    def get_summary(self, segment: Segment) -> str:
        """Learned: what distinguishes the cluster; rule-based: the rules in words."""
        from segmentation.rules import describe_rule

        if segment.kind == "learned":
            return describe_traits(segment.traits)
        return "; ".join(describe_rule(rule) for rule in segment.rules)


class RulesSerializer(serializers.Serializer):
    rules = serializers.JSONField()


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class ScoreSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.display_name", read_only=True)
    as_of = serializers.DateField(source="run.as_of", read_only=True)

    class Meta:
        model = CustomerScore
        fields = [
            "id",
            "run",
            "as_of",
            "customer",
            "customer_name",
            "current_value",
            "potential_value",
            "gap",
            "priority",
            "tier",
            "key_account",
            "cluster",
            "peer_group",
        ]
        read_only_fields = fields


class ScoringRunSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ScoringRun
        fields = [
            "id",
            "status",
            "as_of",
            "job",
            "progress",
            "customers",
            "result",
            "params",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = [f for f in fields if f != "as_of"]
        extra_kwargs = {"as_of": {"required": False}}

    def get_progress(self, run: ScoringRun) -> int:
        """Percent done (the job's progress)."""
        return run.job.percent if run.job_id and run.job else (100 if run.status == "succeeded" else 0)


class MigrationCellSerializer(serializers.Serializer):
    from_tier = serializers.CharField(
        allow_null=True, help_text="Tier in the earlier run; null: not scored then (new)."
    )
    to_tier = serializers.CharField(allow_null=True, help_text="Tier in this run; null: not scored now (gone).")
    customers = serializers.IntegerField()
    value_before = serializers.DecimalField(max_digits=20, decimal_places=2)
    value_after = serializers.DecimalField(max_digits=20, decimal_places=2)
    change = serializers.DecimalField(max_digits=20, decimal_places=2)
    key_entered = serializers.IntegerField(help_text="Customers of the cell that became key accounts.")
    key_left = serializers.IntegerField(help_text="Customers of the cell that stopped being key accounts.")


class MigrationTotalsSerializer(serializers.Serializer):
    customers = serializers.IntegerField()
    value_before = serializers.DecimalField(max_digits=20, decimal_places=2)
    value_after = serializers.DecimalField(max_digits=20, decimal_places=2)
    change = serializers.DecimalField(max_digits=20, decimal_places=2)
    key_entered = serializers.IntegerField()
    key_left = serializers.IntegerField()


class MoverSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.SerializerMethodField()
    from_tier = serializers.SerializerMethodField()
    to_tier = serializers.SerializerMethodField()
    value_before = serializers.DecimalField(max_digits=20, decimal_places=2)
    value_after = serializers.DecimalField(max_digits=20, decimal_places=2)
    change = serializers.DecimalField(max_digits=20, decimal_places=2)

    def get_customer_name(self, row: dict) -> str:
        return row["customer"].display_name if row["customer"] else ""

    def get_from_tier(self, row: dict) -> str | None:
        return row["from_tier"] or None

    def get_to_tier(self, row: dict) -> str | None:
        return row["to_tier"] or None


class MigrationSerializer(serializers.Serializer):
    """Value migration from the run ``against`` to the run ``run`` (customers the caller sees)."""

    run = serializers.IntegerField(source="after.pk")
    run_as_of = serializers.DateField(source="after.as_of")
    against = serializers.IntegerField(source="before.pk")
    against_as_of = serializers.DateField(source="before.as_of")
    cells = MigrationCellSerializer(many=True)
    totals = MigrationTotalsSerializer()
    gains = MoverSerializer(many=True)
    losses = MoverSerializer(many=True)
    key_accounts_entered = MoverSerializer(many=True)
    key_accounts_left = MoverSerializer(many=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for cell in data["cells"]:
            cell["from_tier"] = cell["from_tier"] or None
            cell["to_tier"] = cell["to_tier"] or None
        return data


MIGRATION_TOP_MAX = 100


class ScorePagination(CreatedCursorPagination):
    ordering = ("-priority", "-id")


class SegmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """Rule-based segments (editable) and the learned clusters of the latest run (read-only)."""

    model = Segment
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilterSet
    permission_family = "segments"
    lookup_value_regex = r"\d+"
    action_capabilities = {
        "create": "segments.manage",
        "update": "segments.manage",
        "partial_update": "segments.manage",
        "destroy": "segments.manage",
        "members": "segments.view",
        "preview": "segments.view",
    }

    def scoped_queryset(self):
        if self.action == "list":
            return selectors.segment_list()
        return Segment.objects.all()

    def _kwargs(self) -> dict[str, Any]:
        return {"actor": self.actor, "membership": self.membership}

    def perform_create(self, serializer):
        serializer.instance = services.segment_create(**self._kwargs(), data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        segment = serializer.instance
        data = {k: v for k, v in serializer.validated_data.items() if getattr(segment, k) != v}
        if data:
            serializer.instance = services.segment_update(**self._kwargs(), segment=segment, data=data)

    def perform_destroy(self, instance):
        services.segment_delete(**self._kwargs(), segment=instance)

    @extend_schema(responses=ScoreSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=ScoreSerializer, filter_backends=[])
    def members(self, request, pk=None):
        """The segment's members (scores of its run), highest priority first."""
        segment = self.get_object()
        scores = selectors.segment_scores(segment, self.membership).select_related("run")
        paginator = ScorePagination()
        page = paginator.paginate_queryset(scores, request, view=self)
        return paginator.get_paginated_response(ScoreSerializer(page, many=True).data)

    @extend_schema(request=RulesSerializer, responses=CountSerializer)
    @action(detail=False, methods=["post"], serializer_class=RulesSerializer, filter_backends=[])
    def preview(self, request):
        """How many customers the rules select now (nothing is saved)."""
        from segmentation.rules import clean_rules

        body = RulesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rules = clean_rules(body.validated_data["rules"])
        return Response({"count": selectors.rule_count(rules)})


class ScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Customer scores: the list shows the latest run (or ``?run=<id>``), highest priority
    first; a single score of any run can be fetched by id."""

    model = CustomerScore
    serializer_class = ScoreSerializer
    filterset_class = CustomerScoreFilterSet
    pagination_class = ScorePagination
    permission_family = "segments"
    lookup_value_regex = r"\d+"

    def scoped_queryset(self):
        if self.action == "list":
            run_id = self.request.query_params.get("run")
            run = ScoringRun.objects.filter(pk=run_id).first() if run_id and run_id.isdigit() else None
            if run_id and run is None:
                return CustomerScore.objects.none()
            return selectors.score_list(self.membership, run).select_related("run")
        return selectors.visible_scores(self.membership).select_related("run", "customer")

    @extend_schema(parameters=[OpenApiParameter("run", int, description="A run id (default: the latest).")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class ScoringRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet):
    """Scoring runs: ``POST`` starts one (409 while another is queued or running); the
    run shows its progress while it works and its result (tier counts, clusters,
    timings) when it is done."""

    model = ScoringRun
    serializer_class = ScoringRunSerializer
    permission_family = "segments"
    lookup_value_regex = r"\d+"
    action_capabilities = {"create": "scoring.run", "migration": "segments.view"}

    def scoped_queryset(self):
        return selectors.run_list()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "against",
                int,
                description="The earlier succeeded run to compare with (default: the one before this run).",
            ),
            OpenApiParameter(
                "top",
                int,
                description=f"How many customers each list shows (default {selectors.MIGRATION_TOP}, "
                f"at most {MIGRATION_TOP_MAX}).",
            ),
        ],
        responses=MigrationSerializer,
    )
    @action(detail=True, methods=["get"], serializer_class=MigrationSerializer, filter_backends=[])
    def migration(self, request, pk=None):
        """Value migration between two succeeded runs: the tier migration matrix (customers
        and current value before and after per from-tier x to-tier), customers that entered
        or left key-account status, and the biggest value gains and losses. Only customers
        the caller sees count."""
        run = self.get_object()
        top = request.query_params.get("top", "")
        if top and not (top.isdigit() and 1 <= int(top) <= MIGRATION_TOP_MAX):
            raise DomainError(
                _("«top» debe ser un entero entre 1 y %(max)d.") % {"max": MIGRATION_TOP_MAX}, field="top"
            )
        before, after = selectors.migration_runs(
            run.pk, request.query_params.get("against"), after_field="id", before_field="against"
        )
        report = selectors.value_migration(
            before, after, self.membership, top=int(top) if top else selectors.MIGRATION_TOP
        )
        return Response(MigrationSerializer(report).data)

    def perform_create(self, serializer):
        serializer.instance = services.scoring_run_start(
            actor=self.actor, membership=self.membership, as_of=serializer.validated_data.get("as_of")
        )

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.status_code = status.HTTP_201_CREATED
        return response


SurveyResponseBulkViewSet = bulk_viewset(
    RESOURCE,
    name="SurveyResponseBulkViewSet",
    model=SurveyResponse,
    family="surveys",
    capability="surveys.change",
    tag="surveys",
)


def register(router) -> None:
    """Register VALOR's viewsets on the v1 router."""
    router.register("segments", SegmentViewSet, basename="segment")
    router.register("scores", ScoreViewSet, basename="score")
    router.register("scoring-runs", ScoringRunViewSet, basename="scoring-run")
    router.register("bulk/survey-responses", SurveyResponseBulkViewSet, basename="bulk-survey-response")
