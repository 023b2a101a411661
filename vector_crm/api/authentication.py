"""Per-tenant API key authentication: ``Authorization: Api-Key <prefix>.<secret>``."""

from __future__ import annotations

from contextvars import ContextVar

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from vector_crm.tenancy import platform_context, set_current_tenant

_current_credential_id: ContextVar[int | None] = ContextVar("current_api_credential_id", default=None)

KEYWORD = "Api-Key"


def current_api_credential_id() -> int | None:
    return _current_credential_id.get()


class ApiClient:
    """The principal of a request authenticated by an API credential (not a person)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, credential):
        self.credential = credential
        self.username = f"api:{credential.prefix}"

    def __str__(self) -> str:
        return f"API credential {self.credential.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Looks the key up by its public prefix, compares the hashed secret in constant time,
    and makes the credential's tenant the current tenant for the request."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _sep, key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        prefix, _dot, secret = key.strip().partition(".")
        if not prefix or not secret:
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        from vector_crm.models import ApiCredential

        with platform_context():
            # Platform lookup: the tenant is what we are about to learn from the key.
            credential = (
                ApiCredential.unscoped.select_related("tenant")
                .filter(prefix=prefix, revoked_at__isnull=True, tenant__is_active=True)
                .first()
            )
            if credential is None or not credential.check_secret(secret):
                raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
            now = timezone.now()
            if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
                ApiCredential.unscoped.filter(pk=credential.pk).update(last_used_at=now)
        # The TenantMiddleware resets both variables when the response leaves.
        set_current_tenant(credential.tenant_id)
        _current_credential_id.set(credential.pk)
        request._request.tenant = credential.tenant
        request._request.membership = None
        return ApiClient(credential), credential

    def authenticate_header(self, request) -> str:
        return KEYWORD
