"""OpenAPI generation helpers for tenant-scoped endpoints (drf-spectacular extensions).

Imported by ``vector_crm.api.base`` so the extensions are registered before any schema
is generated.
"""

from __future__ import annotations

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import add_trace_message
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


class TenantScopedDjangoFilterExtension(DjangoFilterExtension):
    """django-filter parameters for views over tenant models.

    The stock extension calls ``Model.objects.none()`` to pick the FilterSet, and our
    scoped default manager refuses to build any queryset outside a tenant. Schema
    generation has no tenant, so the (never evaluated) empty queryset comes from the
    explicit ``unscoped`` manager when the model has one.
    """

    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        model = get_view_model(auto_schema.view)
        if not model:
            return []
        manager = getattr(model, "unscoped", None) or model._default_manager
        filterset_class = self.target.get_filterset_class(auto_schema.view, manager.none())
        if not filterset_class:
            return []
        result = []
        with add_trace_message(filterset_class):
            for field_name, filter_field in filterset_class.base_filters.items():
                result += self.resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        return result


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents ``Authorization: Api-Key <prefix>.<secret>`` (the per-tenant credential)."""

    target_class = "vector_crm.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <prefix>.<secret>`: a credential of one institution, with scopes.",
        }


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional, up to 255 characters, unique per request you mean once. A retry with the same "
        "key and body returns the first response unchanged (header `Idempotent-Replayed: true`) "
        "and changes nothing; the same key with another body or path answers 422; while the first "
        "request runs, 409. Keys belong to the credential (or user) and expire after 24 hours."
    ),
)

IF_MATCH_PARAMETER = OpenApiParameter(
    name="If-Match",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional: the `ETag` of the object as you last read it (GET or a previous update). If "
        "the object changed since, the write answers 412 and changes nothing. Without it the "
        "write proceeds."
    ),
)


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input at fault (`rows[3].amount`), or null.")
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, the body of every error answer."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemErrorSerializer(many=True, required=False)


PROBLEM_MEDIA_TYPES = ["application/problem+json"]
# Error answers every operation may give, and those of writes and of single objects.
ANY_OPERATION_ERRORS = {"400": "Invalid input", "401": "No valid credential", "403": "Not allowed"}
THROTTLED = {"429": "Too many requests; retry after `Retry-After` seconds"}
WRITE_ERRORS = {
    "409": "The same Idempotency-Key is still being processed, or a concurrent write conflicted",
    "422": "Idempotency-Key reused with another body or path",
    "415": "The body's Content-Type is not one the operation reads, or the body cannot be parsed as it",
}
OBJECT_ERRORS = {"404": "Not found (also another institution's object)"}
PRECONDITION_ERRORS = {"412": "If-Match does not match the object's current ETag"}


class TenantAutoSchema(AutoSchema):
    """Adds the optional ``Idempotency-Key`` header to every write and ``If-Match`` to the
    writes of one object (``TenantScopedViewSet`` honours both), and documents the
    problem-details error answers each operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self._error_responses().items():
            if code not in responses:
                response = self._get_response_for_code(ProblemSerializer, code, PROBLEM_MEDIA_TYPES, direction)
                response["description"] = description
                responses[code] = response
        return responses

    def _error_responses(self) -> dict[str, str]:
        errors = {**ANY_OPERATION_ERRORS, **THROTTLED}
        if self.method in ("POST", "PUT", "PATCH"):
            errors |= WRITE_ERRORS
        if "{" in self.path:
            errors |= OBJECT_ERRORS
        if self.method in ("PUT", "PATCH", "DELETE"):
            errors |= PRECONDITION_ERRORS
        return errors

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in ("POST", "PUT", "PATCH"):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        if self.method in ("PUT", "PATCH", "DELETE") and getattr(self.view, "action", None) in (
            "update",
            "partial_update",
            "destroy",
        ):
            parameters.append(IF_MATCH_PARAMETER)
        return parameters
