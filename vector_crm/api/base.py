"""Base API viewset: owns ``get_queryset`` so no endpoint can forget the tenant scope."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from rest_framework import viewsets

from vector_crm.api import schema  # (registers the OpenAPI extensions)
from vector_crm.api.idempotency import IdempotencyMixin
from vector_crm.api.preconditions import ConditionalRequestMixin
from vector_crm.tenancy import require_tenant_id


class TenantScopedViewSet(IdempotencyMixin, ConditionalRequestMixin, viewsets.GenericViewSet):
    """Subclasses set ``model`` and ``permission_family`` and implement ``scoped_queryset``.

    ``get_queryset`` is final: it checks a tenant is active and that the hook returned a
    queryset of ``model`` built on its scoped default manager. Objects of other tenants
    or outside the user's visibility are simply absent, so they answer 404.

    Every endpoint also honours ``Idempotency-Key`` on writes (``vector_crm.api.idempotency``)
    and ``ETag``/``If-Match`` on single objects (``vector_crm.api.preconditions``).
    """

    schema = schema.TenantAutoSchema()
    model: type[Model]
    permission_family: str | None = None

    def scoped_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request tenant
            return self.model.unscoped.none()
        tenant_id = require_tenant_id()
        queryset = self.scoped_queryset()
        if queryset.model is not self.model:
            raise TypeError(f"{type(self).__name__}.scoped_queryset must return {self.model.__name__} rows")
        # Defence in depth on top of the scoped manager: the filter is explicit here too.
        return queryset.filter(tenant_id=tenant_id)

    @property
    def membership(self):
        return getattr(self.request, "membership", None)

    @property
    def actor(self):
        user = self.request.user
        return user if getattr(user, "pk", None) else None
