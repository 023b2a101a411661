"""Optimistic concurrency on single objects: ``ETag`` out, ``If-Match`` in.

The ETag is strong: the SHA-256 of the object's serialized representation (canonical JSON,
sorted keys), so any change a client can see changes it and no version column is needed.
GET of one object and PUT/PATCH responses carry it. A PUT, PATCH or DELETE whose
``If-Match`` names none of the current tags (``*`` matches any) gets 412 and changes
nothing; without ``If-Match`` the write proceeds (the precondition is the client's opt-in).

The check runs when the view fetches the object, before the service's own transaction:
it stops the usual lost update (a client writing from an old read), not two writes that
carry the same fresh ETag within the same few milliseconds.
"""

from __future__ import annotations

import hashlib
import json

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
    the serializer or the service runs."""

    def get_object(self):
        obj = super().get_object()
        if self.request.method in PRECONDITION_METHODS:
            self.check_if_match(obj)
        return obj

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
