"""Row-level tenancy: the current tenant, scoped managers and the tenant-owned base model.

The current tenant lives in a context variable. The middleware sets it from the user's
active membership, API authentication from the credential, and every Celery job from its
``tenant_id`` argument (``tenant_context``). The default manager of every tenant-owned
model filters by it and raises ``TenantNotSet`` when it is missing: a forgotten filter
fails closed instead of leaking. ``Model.unscoped`` is the explicit, greppable escape for
platform operations; ``Model.objects.for_tenant(id)`` scopes to a tenant explicitly.

On PostgreSQL, ``vector_crm.db`` mirrors the same context into the ``app.tenant_id``
session setting that the row-level security policies check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import models

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)
_platform_mode: ContextVar[bool] = ContextVar("platform_mode", default=False)


class TenantNotSet(RuntimeError):
    """A tenant-owned table was queried with no current tenant: a bug, never a user error."""


def get_current_tenant_id() -> int | None:
    return _current_tenant_id.get()


def require_tenant_id() -> int:
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        raise TenantNotSet(
            "No current tenant. Wrap the code in tenant_context(tenant_id) or use "
            "Model.objects.for_tenant(tenant_id) / Model.unscoped for platform work."
        )
    return tenant_id


def in_platform_mode() -> bool:
    return _platform_mode.get()


@contextlib.contextmanager
def tenant_context(tenant_id: int | None) -> Iterator[None]:
    """Run the block as tenant ``tenant_id`` (None: as no tenant)."""
    token = _current_tenant_id.set(int(tenant_id) if tenant_id is not None else None)
    try:
        yield
    finally:
        _current_tenant_id.reset(token)


def set_current_tenant(tenant_id: int | None):
    """Set the tenant for the rest of the current context; returns a token for reset."""
    return _current_tenant_id.set(int(tenant_id) if tenant_id is not None else None)


def reset_current_tenant(token) -> None:
    _current_tenant_id.reset(token)


@contextlib.contextmanager
def platform_context() -> Iterator[None]:
    """Cross-tenant platform work (login, credential lookup, seeding, tenant sweeps).

    Only ``Model.unscoped`` queries are meant for this block; on PostgreSQL it also lifts
    the row-level security policies for the connection (``app.rls_bypass``).
    """
    token = _platform_mode.set(True)
    try:
        yield
    finally:
        _platform_mode.reset(token)


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant_id: int) -> TenantQuerySet:
        return self.filter(tenant_id=tenant_id)


class TenantScopedManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Default manager: the current tenant's rows only; raises with no current tenant."""

    def get_queryset(self) -> TenantQuerySet:
        return super().get_queryset().filter(tenant_id=require_tenant_id())

    def for_tenant(self, tenant_id: int) -> TenantQuerySet:
        return super().get_queryset().filter(tenant_id=tenant_id)

    def create(self, **kwargs):
        # Creating needs no read scope; the model's save() checks the tenant instead.
        obj = self.model(**kwargs)
        obj.save(force_insert=True, using=self.db)
        return obj


class UnscopedManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Every tenant's rows. For platform operations only; say why where you use it."""


class TenantModel(models.Model):
    """Base for every tenant-owned model: a non-null tenant FK and fail-closed managers.

    ``save`` fills the tenant from the current context and refuses to write a row into a
    tenant other than the current one.
    """

    tenant = models.ForeignKey("vector_crm.Tenant", on_delete=models.PROTECT, related_name="+")

    objects = TenantScopedManager()
    unscoped = UnscopedManager()

    class Meta:
        abstract = True
        # Django's base_manager (used for related-object access) stays unscoped on purpose:
        # a related fetch starts from an object that was itself fetched through a scope.
        base_manager_name = "unscoped"
        default_manager_name = "objects"

    def save(self, *args, **kwargs):
        current = get_current_tenant_id()
        if self.tenant_id is None:
            self.tenant_id = require_tenant_id()
        elif current is not None and current != self.tenant_id:
            raise TenantNotSet(
                f"Refusing to write {type(self).__name__} of tenant {self.tenant_id} inside tenant {current}."
            )
        super().save(*args, **kwargs)

    def full_clean(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant_id = require_tenant_id()
        super().full_clean(*args, **kwargs)
