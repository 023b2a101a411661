"""Assertions and snapshots shared by the API tests.

Reads that span tenants (a row of tenant A while acting as B, audit counts) go through the
platform context and ``unscoped`` managers: that is the test looking from outside, never
what the API under test does.
"""

from __future__ import annotations

from vector_crm.api.exceptions import PROBLEM_CONTENT_TYPE
from vector_crm.models import AuditLogEntry
from vector_crm.tenancy import platform_context


def row(model, pk) -> dict | None:
    """Every column of one row, whatever its tenant (None when it does not exist)."""
    with platform_context():
        return model.unscoped.filter(pk=pk).values().first()


def row_count(model, tenant) -> int:
    with platform_context():
        return model.unscoped.filter(tenant=tenant).count()


def audit_count(tenant) -> int:
    with platform_context():
        return AuditLogEntry.unscoped.filter(tenant=tenant).count()


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with ``status``, naming ``field`` if given."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    body = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body
