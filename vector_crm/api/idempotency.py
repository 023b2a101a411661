"""``Idempotency-Key`` on every POST/PUT/PATCH of the API (mixed into ``TenantScopedViewSet``).

A key is scoped to the tenant and the principal (the API credential, or the user). The
first request reserves it and its response is stored; a retry with the same key, method,
path and body gets the stored response back, byte for byte, and runs nothing. The same key
with another body or path is a 422; a key whose first request is still running is a 409.
A 5xx (or an unhandled error) releases the key so the client can retry. Without the header
nothing changes.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from vector_crm.idempotency import (
    MAX_KEY_LENGTH,
    idempotency_complete,
    idempotency_release,
    idempotency_reserve,
    request_fingerprint,
)
from vector_crm.models import IdempotencyRecord, IdempotencyStatus

HEADER = "Idempotency-Key"
IDEMPOTENT_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Headers a replay must repeat; the rest (Vary, Allow...) the view sets again.
STORED_HEADERS = ("Content-Type", "Location", "ETag")
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKeyInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("A request with this Idempotency-Key is still being processed; retry later.")
    default_code = "idempotency_key_in_use"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This Idempotency-Key was already used for a different request (method, path or body).")
    default_code = "idempotency_key_reused"


class _Replay(Exception):  # noqa: N818  (control flow, never leaves the view)
    def __init__(self, response: HttpResponse):
        super().__init__("idempotent replay")
        self.response = response


def request_principal(request) -> str:
    """``api:<credential id>`` for a system, ``user:<user id>`` for a person."""
    credential = getattr(request, "auth", None)
    if credential is not None and hasattr(credential, "scopes"):
        return f"api:{credential.pk}"
    return f"user:{request.user.pk}"


def _raw_body(request) -> bytes:
    try:
        return request._request.body
    except RawPostDataException:  # a multipart stream already consumed: hash what it parsed to
        return json.dumps(request.data, sort_keys=True, default=str).encode()


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    headers = dict(record.response_headers)
    content_type = headers.pop("Content-Type", None)
    response = HttpResponse(
        record.response_body.encode("utf-8"), status=record.response_status, content_type=content_type
    )
    for name, value in headers.items():
        response[name] = value
    response[REPLAY_HEADER] = "true"
    return response


class IdempotencyMixin:
    """Runs after authentication and permissions (``initial``), so the tenant and the
    principal are known and a refused request never reserves a key."""

    _idempotency_record: IdempotencyRecord | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get(HEADER)
        if key is None or request.method not in IDEMPOTENT_METHODS:
            return
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise exceptions.ValidationError(
                {HEADER: [_("Send 1 to %(max)d characters.") % {"max": MAX_KEY_LENGTH}]}, code="invalid"
            )
        method, path = request.method, request.get_full_path()
        fingerprint = request_fingerprint(_raw_body(request))
        reservation = idempotency_reserve(
            principal=request_principal(request), key=key, method=method, path=path, fingerprint=fingerprint
        )
        if reservation.record is not None:
            self._idempotency_record = reservation.record
            return
        existing = reservation.existing
        if existing is None:
            raise IdempotencyKeyInUse()
        if (existing.method, existing.path, existing.fingerprint) != (method, path, fingerprint):
            raise IdempotencyKeyReused()
        if existing.status != IdempotencyStatus.COMPLETED:
            raise IdempotencyKeyInUse()
        raise _Replay(replay_response(existing))

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        try:
            return super().handle_exception(exc)
        except Exception:
            self._release_idempotency_key()
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is None:
            return response
        if response.status_code >= 500 or not isinstance(response, Response):
            idempotency_release(record=record)
            return response
        response.render()
        idempotency_complete(
            record=record,
            status_code=response.status_code,
            body=response.content.decode("utf-8"),
            headers={name: response[name] for name in STORED_HEADERS if name in response},
        )
        return response

    def _release_idempotency_key(self) -> None:
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            idempotency_release(record=record)
