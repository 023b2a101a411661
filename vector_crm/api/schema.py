"""OpenAPI generation helpers for tenant-scoped endpoints (drf-spectacular extensions).

Imported by ``vector_crm.api.base`` so the extensions are registered before any schema
is generated.
"""

from __future__ import annotations

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import add_trace_message
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import get_view_model


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
