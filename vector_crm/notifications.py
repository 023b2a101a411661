"""In-app notifications to members, e-mailed through Django's e-mail backend.

``notify_many`` writes the rows in the caller's transaction (set-based: one bulk insert
for a whole sweep batch) and, once it commits, queues ``vector_crm.send_notification_emails``
for them. The e-mail job marks ``emailed_at``, so a redelivered job sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.utils import timezone

from vector_crm.models import Notification, User
from vector_crm.tenancy import require_tenant_id

EMAIL_BATCH_SIZE = 200


@dataclass(frozen=True)
class Message:
    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""


def notify_many(messages: Iterable[Message], *, email: bool = True) -> list[int]:
    """Create one notification per message in the current tenant (one bulk insert);
    e-mail them after commit. Returns the new notification ids."""
    from vector_crm.db import insert_rows

    tenant_id = require_tenant_id()
    now = timezone.now()
    rows = [
        {
            "tenant_id": tenant_id,
            "user_id": m.user_id,
            "kind": m.kind,
            "title": m.title[:200],
            "body": m.body,
            "url": m.url,
            "created_at": now,
        }
        for m in messages
    ]
    ids = insert_rows(Notification, rows, returning_ids=True)
    if email and ids:

        def queue() -> None:
            from vector_crm.jobs import send_notification_emails

            for start in range(0, len(ids), EMAIL_BATCH_SIZE):
                send_notification_emails.delay(tenant_id, ids[start : start + EMAIL_BATCH_SIZE])

        transaction.on_commit(queue)
    return ids


def send_notification_emails_now(notification_ids: list[int]) -> int:
    """E-mail the not yet e-mailed notifications among ``notification_ids`` whose user has
    an address (current tenant); returns how many were sent."""
    pending = list(
        Notification.objects.filter(pk__in=notification_ids, emailed_at=None).select_related("user").order_by("pk")
    )
    sent = 0
    connection = get_connection()
    for notification in pending:
        user: User = notification.user
        if user.email:
            send_mail(
                subject=notification.title,
                message=f"{notification.body}\n\n{settings.VECTOR_BASE_URL}{notification.url}".strip(),
                from_email=None,
                recipient_list=[user.email],
                connection=connection,
            )
            sent += 1
        Notification.objects.filter(pk=notification.pk, emailed_at=None).update(emailed_at=timezone.now())
    return sent


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at=None).count()


def mark_read(*, user_id: int, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (all, or the given ones) as read; returns how many."""
    queryset = Notification.objects.filter(user_id=user_id, read_at=None)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=list(notification_ids))
    return queryset.update(read_at=timezone.now())
