"""Platform writes: one function per business action (API credentials for now).

Keyword-only, one transaction each, permission and invariants checked here, audited
through django-auditlog with ``actor`` as the author. Views and the admin call these.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from vector_crm.audit import audit_action, audited
from vector_crm.errors import DomainError, ErrorCode, PermissionDeniedError
from vector_crm.models import ApiCredential, DeliveryStatus, Membership, WebhookDelivery, WebhookEndpoint
from vector_crm.roles import ALL_SCOPES
from vector_crm.tenancy import require_tenant_id

CREDENTIALS_CAPABILITY = "credentials.manage"
WEBHOOKS_CAPABILITY = "webhooks.manage"


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


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _clean_url(url: str) -> str:
    """An absolute https URL; http only for a local receiver when the setting allows it."""
    from urllib.parse import urlsplit

    from django.conf import settings

    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if parts is None or not host:
        raise DomainError(_("Indique una URL completa, por ejemplo https://erp.banco.com/webhooks."), field="url")
    if not (
        parts.scheme == "https"
        or (parts.scheme == "http" and host in LOCAL_HOSTS and settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP)
    ):
        raise DomainError(_("La URL debe usar https://."), field="url")
    _refuse_internal_host(host, parts)
    return url


def _refuse_internal_host(host: str, parts) -> None:
    """A URL whose host is or resolves to an internal address (private network, loopback,
    link-local such as cloud metadata) is refused (vector_crm.netguard). A name that does
    not resolve yet is accepted: each delivery checks again before connecting."""

    from vector_crm import netguard

    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        netguard.resolve_safe(host, port, **netguard.settings_rules())
    except netguard.UnsafeDestination as exc:
        raise DomainError(
            _(
                "La URL apunta a una dirección interna (%(address)s); los webhooks solo se entregan a direcciones públicas."
            )
            % {"address": exc.address},
            field="url",
        ) from exc
    except (OSError, UnicodeError, ValueError):
        return


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    from vector_crm.outbox import EVENT_TYPES

    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise DomainError(
            _("Tipos de evento desconocidos: %(types)s.") % {"types": ", ".join(unknown)}, field="event_types"
        )
    if not chosen:
        raise DomainError(_("Elija al menos un tipo de evento."), field="event_types")
    return [t for t in EVENT_TYPES if t in chosen]


def _check_endpoint_fields(endpoint: WebhookEndpoint) -> None:
    """Model validation (lengths) as a DomainError naming the field."""
    from django.core.exceptions import ValidationError

    try:
        endpoint.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(" ".join(messages), field=field) from exc


@audited
def webhook_endpoint_create(
    *,
    actor,
    membership: Membership | None,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    is_active: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the current tenant; returns it with its signing secret, which
    the UI shows once."""
    _require(membership, WEBHOOKS_CAPABILITY)
    endpoint = WebhookEndpoint(
        tenant_id=require_tenant_id(),
        url=_clean_url(url),
        description=(description or "").strip(),
        event_types=_clean_event_types(event_types),
        is_active=is_active,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    secret = endpoint.set_new_secret()
    _check_endpoint_fields(endpoint)
    endpoint.save()
    return endpoint, secret


@audited
def webhook_endpoint_update(
    *,
    actor,
    membership: Membership | None,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL, event types, description or active flag."""
    _require(membership, WEBHOOKS_CAPABILITY)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    changed = []
    if url is not None:
        endpoint.url = _clean_url(url)
        changed.append("url")
    if event_types is not None:
        endpoint.event_types = _clean_event_types(event_types)
        changed.append("event_types")
    if description is not None:
        endpoint.description = description.strip()
        changed.append("description")
    if is_active is not None:
        endpoint.is_active = is_active
        changed.append("is_active")
    _check_endpoint_fields(endpoint)
    if changed:
        endpoint.save(update_fields=changed)
    return endpoint


def webhook_endpoint_deactivate(*, actor, membership: Membership | None, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending new events to the endpoint (its delivery log stays)."""
    return webhook_endpoint_update(actor=actor, membership=membership, endpoint=endpoint, is_active=False)


@audited
def webhook_endpoint_rotate_secret(
    *, actor, membership: Membership | None, endpoint: WebhookEndpoint
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, returned once; deliveries from now on are signed with it
    (including retries of older events)."""
    _require(membership, WEBHOOKS_CAPABILITY)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = endpoint.set_new_secret()
    endpoint.save(update_fields=["secret"])
    audit_action(endpoint, "webhook.secret_rotated")
    return endpoint, secret


@audited
def webhook_endpoint_delete(*, actor, membership: Membership | None, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log (the outbox events stay)."""
    _require(membership, WEBHOOKS_CAPABILITY)
    WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk).delete()


def _queue_delivery_on_commit(tenant_id: int) -> None:
    from django.db import transaction

    def queue() -> None:
        from vector_crm.jobs import deliver_webhooks

        deliver_webhooks.delay(tenant_id)

    transaction.on_commit(queue)


@audited
def webhook_redeliver(*, actor, membership: Membership | None, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery again (same event id) on the next run; queued after commit. A
    dead delivery gets one more attempt."""
    _require(membership, WEBHOOKS_CAPABILITY)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    audit_action(
        delivery.endpoint, "webhook.redelivered", deliveries=[delivery.pk], events=[str(delivery.event.event_id)]
    )
    _queue_delivery_on_commit(delivery.tenant_id)
    return delivery


@audited
def webhook_redeliver_failed(*, actor, membership: Membership | None, endpoint: WebhookEndpoint) -> int:
    """Send every failed or dead delivery of the endpoint again (same event ids) on the
    next run; returns how many."""
    _require(membership, WEBHOOKS_CAPABILITY)
    retry = WebhookDelivery.objects.filter(endpoint=endpoint, status__in=[DeliveryStatus.FAILED, DeliveryStatus.DEAD])
    ids = list(retry.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    WebhookDelivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
    audit_action(endpoint, "webhook.redelivered", deliveries=ids)
    _queue_delivery_on_commit(endpoint.tenant_id)
    return len(ids)


@audited
def webhook_send_test(*, actor, membership: Membership | None, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` event delivered to this endpoint only, whatever its event types."""
    from vector_crm.outbox import TEST_EVENT_TYPE, event_emit

    _require(membership, WEBHOOKS_CAPABILITY)
    if not endpoint.is_active:
        raise DomainError(_("Active el endpoint para enviarle un evento de prueba."), field="is_active")
    event = event_emit(
        type=TEST_EVENT_TYPE,
        payload={"endpoint": endpoint.pk, "message": "Evento de prueba de VECTOR CRM."},
        aggregate=endpoint,
        endpoints=[endpoint],
    )
    return WebhookDelivery.objects.get(endpoint=endpoint, event=event)
