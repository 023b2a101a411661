"""Who may do what with cases, in one place: capabilities come from ``vector_crm.roles``;
the exception approval authority of each role is this table."""

from __future__ import annotations

from dataclasses import dataclass

from cases.choices import Authority
from vector_crm.models import Membership
from vector_crm.roles import Role

SECURITY_CAPABILITY = "cases.view_security"

ROLE_AUTHORITY: dict[str, int] = {
    Role.ADVISOR: Authority.ADVISOR,
    Role.SUPERVISOR: Authority.SUPERVISOR,
    Role.BRANCH_MANAGER: Authority.MANAGER,
    Role.TENANT_ADMIN: Authority.MANAGER,
}


def authority_of(membership: Membership | None) -> int:
    """The highest exception level ``membership`` may approve (0: none; API keys: none)."""
    if membership is None or not membership.has("cases.approve"):
        return 0
    return ROLE_AUTHORITY.get(membership.role, 0)


@dataclass(frozen=True)
class Viewer:
    """Who is looking at cases: a member (visibility from the role) or an API credential
    (membership None: the whole institution), and whether security cases are visible."""

    membership: Membership | None
    sees_security: bool

    @classmethod
    def of(cls, membership: Membership | None, *, credential=None) -> Viewer:
        if membership is not None:
            return cls(membership, membership.has(SECURITY_CAPABILITY))
        sees = credential is not None and credential.has(SECURITY_CAPABILITY)
        return cls(None, sees)

    @classmethod
    def for_request(cls, request) -> Viewer:
        credential = getattr(request, "auth", None)
        if credential is not None and hasattr(credential, "scopes"):
            return cls.of(None, credential=credential)
        return cls.of(getattr(request, "membership", None))
