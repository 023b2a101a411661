"""Optimistic concurrency on single objects: ``ETag`` out, ``If-Match`` in.

The ETag is strong: the SHA-256 of the object's serialized representation (canonical JSON,
sorted keys), so any change a client can see changes it and no version column is needed.
GET of one object and PUT/PATCH responses carry it. A PUT, PATCH or DELETE whose
``If-Match`` names none of the current tags (``*`` matches any) gets 412 and changes
nothing; without ``If-Match`` the write proceeds (the precondition is the client's opt-in).

A write carrying ``If-Match`` runs in one transaction that first locks the object's row
(``SELECT ... FOR UPDATE`` on PostgreSQL), then reads it, compares the ETag and calls the
service, whose own atomic block nests inside. Two writes carrying the same fresh ETag are
therefore serialised: the second waits for the first to commit, re-reads the changed row
and gets 412. SQLite has no row locks; its single writer serialises the writes instead.
"""

from __future__ import annotations

import functools
import hashlib
import json

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

ETAG_ACTIONS = frozenset({"retrieve", "update", "partial_update"})
PRECONDITION_METHODS = frozenset({"PUT", "PATCH", "DELETE"})


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The object changed since you read it (If-Match does not match its ETag); read it again.")
    default_code = "precondition_failed"


def representation_etag(data) -> str:
    """Strong ETag of a serialized representation."""
    canonical = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest() + '"'


def if_match_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


class ConditionalRequestMixin:
    """Checks ``If-Match`` where the object is fetched for a write (``get_object``), before
    the serializer or the service runs, inside the transaction that holds the row lock."""

    _precondition_locked = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._precondition_locked = False
        method = request.method.lower()
        if request.method in PRECONDITION_METHODS and "If-Match" in request.headers and hasattr(self, method):
            setattr(self, method, self._in_locking_transaction(getattr(self, method)))

    def _in_locking_transaction(self, handler):
        """The handler in one transaction: ``get_object`` locks the row first; an error
        response rolls back whatever ran."""

        @functools.wraps(handler)
        def locked(request, *args, **kwargs):
            with transaction.atomic():
                self._precondition_locked = True
                try:
                    response = handler(request, *args, **kwargs)
                finally:
                    self._precondition_locked = False
                if not status.is_success(response.status_code):
                    transaction.set_rollback(True)
                return response

        return locked

    def get_object(self):
        if self._precondition_locked:
            self.lock_object_row()
        obj = super().get_object()
        if self.request.method in PRECONDITION_METHODS:
            self.check_if_match(obj)
        return obj

    def lock_object_row(self) -> None:
        """Take the row lock before reading the object, so the read (a new statement under
        READ COMMITTED) sees the last committed version. Scoped to the current tenant by
        the default manager; a missing or invisible row locks nothing and 404s after."""
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup_url_kwarg)
        try:
            rows = self.model.objects.select_for_update().filter(**{self.lookup_field: value})
            list(rows.values_list("pk", flat=True))
        except (TypeError, ValueError):
            return  # not a valid id: get_object answers 404

    def check_if_match(self, obj) -> None:
        header = self.request.headers.get("If-Match")
        if header is None:
            return
        tags = if_match_tags(header)
        if "*" in tags:
            return
        if self.etag_for(obj) not in tags:  # weak tags (W/"...") never match: strong comparison
            raise PreconditionFailed()

    def etag_for(self, obj) -> str:
        serializer = self.get_serializer_class()(obj, context=self.get_serializer_context())
        return representation_etag(serializer.data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            isinstance(response, Response)
            and getattr(self, "action", None) in ETAG_ACTIONS
            and status.is_success(response.status_code)
            and isinstance(response.data, dict)
        ):
            response["ETag"] = representation_etag(response.data)
        return response
