"""Request middleware: the active tenant, its language and time zone."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone, translation

from vector_crm.api.authentication import _current_credential_id
from vector_crm.tenancy import _current_tenant_id, _platform_mode, platform_context

SESSION_TENANT_KEY = "active_tenant_id"


def memberships_of(user):
    """Active memberships of ``user`` across tenants (platform read: before a tenant is set)."""
    from vector_crm.models import Membership

    with platform_context():  # a user's memberships span tenants by definition
        return list(
            Membership.unscoped.select_related("tenant", "branch", "team")
            .filter(user=user, is_active=True, tenant__is_active=True)
            .order_by("tenant__name")
        )


class TenantMiddleware:
    """Sets ``request.tenant``/``request.membership`` and the tenant context variable.

    A browser user acts in exactly one tenant: the one chosen in the session, else their
    first membership. API requests get their tenant from the credential later, during
    DRF authentication; this middleware still owns resetting the context afterwards.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tokens = (
            _current_tenant_id.set(None),
            _platform_mode.set(False),
            _current_credential_id.set(None),
        )
        request.tenant = None
        request.membership = None
        try:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                self._activate_membership(request, user)
            return self.get_response(request)
        finally:
            _current_credential_id.reset(tokens[2])
            _platform_mode.reset(tokens[1])
            _current_tenant_id.reset(tokens[0])
            timezone.deactivate()

    def _activate_membership(self, request, user) -> None:
        wanted = request.session.get(SESSION_TENANT_KEY)
        membership = None
        if wanted is not None:
            membership = user.membership_for(wanted)
        if membership is None:
            membership = next(iter(memberships_of(user)), None)
        if membership is None:
            return
        if request.session.get(SESSION_TENANT_KEY) != membership.tenant_id:
            # Only on change: writing it every time would save the session on every request.
            request.session[SESSION_TENANT_KEY] = membership.tenant_id
        request.tenant = membership.tenant
        request.membership = membership
        _current_tenant_id.set(membership.tenant_id)
        try:
            timezone.activate(zoneinfo.ZoneInfo(membership.tenant.timezone))
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.deactivate()
        # The tenant's language applies unless the user picked one (language cookie).
        if "django_language" not in request.COOKIES and not request.GET.get("lang"):
            translation.activate(membership.tenant.language)
            request.LANGUAGE_CODE = translation.get_language()
