"""Domain errors: our own exceptions with stable codes, mapped once to API problems and
form errors."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not-found"
    PERMISSION_DENIED = "permission-denied"
    INVALID_IDENTIFICATION = "invalid-identification"
    DUPLICATE_IDENTIFICATION = "duplicate-identification"
    INVALID_CURRENCY = "invalid-currency"
    CROSS_TENANT_REFERENCE = "cross-tenant-reference"
    INVALID_ASSIGNMENT = "invalid-assignment"
    JOB_ALREADY_RUNNING = "job-already-running"
    INVALID_SCOPE = "invalid-scope"
    INVALID_TRANSITION = "invalid-transition"
    AUTHORITY_EXCEEDED = "authority-exceeded"


class DomainError(Exception):
    """A business rule refused the action. ``field`` names the input at fault, if any."""

    status_code = 400

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.INVALID, field: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.field = field


class NotFound(DomainError):
    """Missing or in another tenant: deliberately indistinguishable."""

    status_code = 404

    def __init__(self, message: str = "Not found.", *, field: str | None = None):
        super().__init__(message, code=ErrorCode.NOT_FOUND, field=field)


class PermissionDeniedError(DomainError):
    status_code = 403

    def __init__(self, message: str = "You do not have permission to do this.", *, field: str | None = None):
        super().__init__(message, code=ErrorCode.PERMISSION_DENIED, field=field)
