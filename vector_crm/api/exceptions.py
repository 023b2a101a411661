"""RFC 9457 problem details for every API error, naming the offending field."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler

from vector_crm.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://vector-crm.org/problems/"


def _flatten(detail, prefix: str = "") -> list[dict]:
    """Turn DRF's nested error detail into a flat list of {field, code, message}."""
    errors: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key not in ("non_field_errors", NON_FIELD_ERRORS) else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            errors.extend(_flatten(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                errors.append({"field": prefix or None, "code": getattr(item, "code", "invalid"), "message": str(item)})
        else:
            for index, item in enumerate(detail):
                errors.extend(_flatten(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
    else:
        errors.append({"field": prefix or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)})
    return errors


def problem_response(
    *, status_code: int, title: str, detail: str, type_: str, errors: list[dict] | None = None, headers=None
) -> Response:
    body = {"type": PROBLEM_BASE + type_, "title": title, "status": status_code, "detail": detail}
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def not_found_handler(request, exception=None):
    """Django's 404 for URLs no route matches (``/api/v1/customers/abc/``): problem details
    under ``/api/``, like every other API error; the HTML page elsewhere."""
    import json

    from django.http import HttpResponseNotFound
    from django.views.defaults import page_not_found

    if not request.path.startswith("/api/"):
        return page_not_found(request, exception)
    body = {
        "type": PROBLEM_BASE + "not-found",
        "title": str(exceptions.NotFound.default_detail),
        "status": status.HTTP_404_NOT_FOUND,
        "detail": str(exceptions.NotFound.default_detail),
    }
    return HttpResponseNotFound(json.dumps(body), content_type=PROBLEM_CONTENT_TYPE)


def problem_details_handler(exc, context):
    if isinstance(exc, IntegrityError):
        # Two writes raced past validation into a database constraint: report a conflict
        # the client can retry, not a server error. The transaction was rolled back.
        return problem_response(
            status_code=status.HTTP_409_CONFLICT,
            title=_("The request conflicts with the current state of the data."),
            detail=_("Another request changed the same record at the same time; retry."),
            type_="conflict",
        )
    if isinstance(exc, SuspiciousOperation):
        # Django refused the body while parsing it (too many fields, too large).
        return problem_response(
            status_code=status.HTTP_400_BAD_REQUEST,
            title=_("The request body was refused."),
            detail=str(exc),
            type_="bad-request",
        )
    if isinstance(exc, DomainError):
        errors = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        return problem_response(
            status_code=exc.status_code,
            title=_("The request breaks a business rule."),
            detail=exc.message,
            type_=exc.code,
            errors=errors,
        )
    if isinstance(exc, DjangoValidationError):
        # get_error_detail keeps each message's code ("unique", "invalid-identification"...).
        detail = get_error_detail(exc)
        exc = exceptions.ValidationError(detail if isinstance(detail, dict) else {"non_field_errors": detail})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        fields = sorted({e["field"] for e in errors if e["field"]})
        detail = (
            _("Invalid value for: %(fields)s.") % {"fields": ", ".join(fields)}
            if fields
            else "; ".join(e["message"] for e in errors)
        )
        return problem_response(
            status_code=status.HTTP_400_BAD_REQUEST,
            title=_("Your request parameters didn't validate."),
            detail=detail,
            type_="validation-error",
            errors=errors,
            headers=response.headers,
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    title = str(getattr(exc, "default_detail", detail))
    return problem_response(
        status_code=response.status_code,
        title=title if "{" not in title else str(detail),  # templated titles ("{media_type}") read oddly
        detail=str(detail),
        type_=str(code).replace("_", "-"),
        headers={k: v for k, v in response.headers.items() if k.lower() != "content-type"},
    )
