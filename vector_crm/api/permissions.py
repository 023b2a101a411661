"""API permissions: the role table (people) or the credential's scopes (systems)."""

from __future__ import annotations

from rest_framework import permissions

_METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def principal_has(request, capability: str) -> bool:
    """True when the request's membership role or API credential grants ``capability``."""
    credential = getattr(request, "auth", None)
    if credential is not None and hasattr(credential, "scopes"):
        return credential.has(capability)
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has(capability)


class RolePermission(permissions.BasePermission):
    """``view.permission_family`` + the HTTP method (or ``view.action_capabilities``)
    decide the capability to check; no tenant membership means no access at all."""

    def has_permission(self, request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            return False
        if getattr(request, "tenant", None) is None:
            return False
        capability = self.required_capability(request, view)
        return capability is None or principal_has(request, capability)

    @staticmethod
    def required_capability(request, view) -> str | None:
        custom = getattr(view, "action_capabilities", {}) or {}
        action = getattr(view, "action", None)
        if action in custom:
            return custom[action]
        family = getattr(view, "permission_family", None)
        if family is None:
            return None
        return f"{family}.{_METHOD_ACTIONS.get(request.method, 'change')}"
