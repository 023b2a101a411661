"""Platform writes: one function per business action (API credentials for now).

Keyword-only, one transaction each, permission and invariants checked here, audited
through django-auditlog with ``actor`` as the author. Views and the admin call these.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from vector_crm.audit import audited
from vector_crm.errors import DomainError, ErrorCode, PermissionDeniedError
from vector_crm.models import ApiCredential, Membership
from vector_crm.roles import ALL_SCOPES
from vector_crm.tenancy import require_tenant_id

CREDENTIALS_CAPABILITY = "credentials.manage"


def _require(membership: Membership | None, capability: str) -> None:
    """``membership`` None is a platform caller (superuser in the admin, a command)."""
    if membership is not None and not membership.has(capability):
        raise PermissionDeniedError()


@audited
def api_credential_create(
    *, actor, membership: Membership | None, name: str, scopes: Iterable[str]
) -> tuple[ApiCredential, str]:
    """A new credential of the current tenant; returns it with the full key, which is
    shown once and never stored (only its prefix and the secret's hash are)."""
    _require(membership, CREDENTIALS_CAPABILITY)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Indique un nombre para la clave."), field="name")
    chosen = list(dict.fromkeys(scopes))
    unknown = [scope for scope in chosen if scope not in ALL_SCOPES]
    if unknown:
        raise DomainError(
            _("Alcances desconocidos: %(scopes)s.") % {"scopes": ", ".join(unknown)},
            code=ErrorCode.INVALID_SCOPE,
            field="scopes",
        )
    if not chosen:
        raise DomainError(_("Elija al menos un alcance."), code=ErrorCode.INVALID_SCOPE, field="scopes")
    credential = ApiCredential(
        tenant_id=require_tenant_id(),
        name=name,
        scopes=[scope for scope in ALL_SCOPES if scope in chosen],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    raw_key = credential.set_new_secret()
    credential.full_clean()
    credential.save()
    return credential, raw_key


@audited
def api_credential_revoke(*, actor, membership: Membership | None, credential: ApiCredential) -> ApiCredential:
    """Revoke the credential from now on (its requests get 401); revoking twice keeps
    the first time. Credentials are never deleted, so the audit trail keeps its target."""
    _require(membership, CREDENTIALS_CAPABILITY)
    credential = ApiCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
    return credential
