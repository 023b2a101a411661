"""Roles inside a tenant and what each may do: one table, read by views, API and services."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    TENANT_ADMIN = "tenant_admin", _("Administrador de la entidad")
    BRANCH_MANAGER = "branch_manager", _("Gerente de agencia")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADVISOR = "advisor", _("Asesor")
    MARKETING = "marketing", _("Mercadeo")
    COLLECTIONS_AGENT = "collections_agent", _("Gestor de cobranza")
    COLLECTIONS_MANAGER = "collections_manager", _("Jefe de cobranza")
    ANALYST = "analyst", _("Analista")


class Visibility(models.TextChoices):
    """How much of the tenant's customer book a role sees."""

    OWN_PORTFOLIO = "own", _("Own portfolio and the branch's unassigned customers")
    TEAM = "team", _("The team's portfolios")
    BRANCH = "branch", _("The branch")
    ALL = "all", _("The whole institution")


VISIBILITY: dict[str, str] = {
    Role.TENANT_ADMIN: Visibility.ALL,
    Role.ANALYST: Visibility.ALL,
    Role.MARKETING: Visibility.ALL,
    Role.COLLECTIONS_MANAGER: Visibility.ALL,
    Role.COLLECTIONS_AGENT: Visibility.ALL,
    Role.BRANCH_MANAGER: Visibility.BRANCH,
    Role.SUPERVISOR: Visibility.TEAM,
    Role.ADVISOR: Visibility.OWN_PORTFOLIO,
}

# Capabilities are "<family>.<action>"; API credential scopes use the same families
# ("customers:read", "customers:write").
_READ_ALL = {
    "customers.view",
    "catalogue.view",
    "holdings.view",
    "payments.view",
    "interactions.view",
    "jobs.view",
    "segments.view",
    "surveys.view",
}
# VALOR: who shapes segments and the value formula, and may start a scoring run.
_VALOR_MANAGE = {"segments.manage", "scoring.run", "surveys.change"}
_FRONT_OFFICE = _READ_ALL | {
    "customers.create",
    "customers.change",
    "interactions.create",
    "interactions.change",
}
# CASOS: every front-office role opens and works cases; supervisors and managers also
# reassign, see security cases and approve exceptions up to their authority
# (cases.choices.Authority); tenant admins configure types, SLA policies and calendars.
_CASES_WORK = {"cases.view", "cases.create", "cases.change", "case_config.view", "cases.approve"}
_CASES_SUPERVISE = _CASES_WORK | {"cases.reassign", "cases.view_security"}
_CASES_ADMIN = _CASES_SUPERVISE | {"case_config.create", "case_config.change", "case_config.delete"}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.TENANT_ADMIN: frozenset(
        _FRONT_OFFICE
        | {
            "customers.delete",
            "customers.reassign",
            "catalogue.manage",
            "holdings.change",
            "payments.change",
            "interactions.delete",
            "jobs.run",
            "admin.access",
            "credentials.manage",
            "webhooks.view",
            "webhooks.manage",
            "imports.view",
            "imports.run",
        }
        | _CASES_ADMIN
        | _VALOR_MANAGE
    ),
    Role.BRANCH_MANAGER: frozenset(_FRONT_OFFICE | {"customers.reassign", "jobs.run"} | _CASES_SUPERVISE),
    Role.SUPERVISOR: frozenset(_FRONT_OFFICE | {"customers.reassign"} | _CASES_SUPERVISE),
    Role.ADVISOR: frozenset(_FRONT_OFFICE | _CASES_WORK),
    Role.MARKETING: frozenset(_READ_ALL | {"jobs.run"} | _VALOR_MANAGE),
    Role.COLLECTIONS_AGENT: frozenset(_READ_ALL | {"interactions.create", "cases.view", "cases.create"}),
    Role.COLLECTIONS_MANAGER: frozenset(_READ_ALL | {"interactions.create", "jobs.run", "cases.view", "cases.create"}),
    Role.ANALYST: frozenset(
        _READ_ALL | {"jobs.run", "cases.view", "case_config.view", "segments.manage", "scoring.run"}
    ),
}

# API credential scopes: family -> (read capability set, write capability set).
SCOPE_FAMILIES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "customers": (
        frozenset({"customers.view"}),
        frozenset({"customers.create", "customers.change", "customers.delete", "customers.reassign"}),
    ),
    "catalogue": (frozenset({"catalogue.view"}), frozenset({"catalogue.manage"})),
    "holdings": (frozenset({"holdings.view"}), frozenset({"holdings.change"})),
    "payments": (frozenset({"payments.view"}), frozenset({"payments.change"})),
    "interactions": (
        frozenset({"interactions.view"}),
        frozenset({"interactions.create", "interactions.change", "interactions.delete"}),
    ),
    "jobs": (frozenset({"jobs.view"}), frozenset({"jobs.run"})),
    "webhooks": (frozenset({"webhooks.view"}), frozenset({"webhooks.manage"})),
    # File imports; the records themselves also need the write scope of each resource.
    "imports": (frozenset({"imports.view"}), frozenset({"imports.run"})),
    "cases": (
        frozenset({"cases.view", "case_config.view"}),
        frozenset({"cases.create", "cases.change", "cases.reassign"}),
    ),
    "case_config": (
        frozenset({"case_config.view"}),
        frozenset({"case_config.create", "case_config.change", "case_config.delete"}),
    ),
    # Security cases (fraud, data privacy) are visible to a key only with this scope.
    "security_cases": (frozenset({"cases.view_security"}), frozenset()),
    "segments": (frozenset({"segments.view"}), frozenset({"segments.manage", "scoring.run"})),
    "surveys": (frozenset({"surveys.view"}), frozenset({"surveys.change"})),
}
ALL_SCOPES = tuple(f"{family}:{mode}" for family in SCOPE_FAMILIES for mode in ("read", "write"))


def role_has(role: str, capability: str) -> bool:
    return capability in PERMISSIONS.get(role, frozenset())


def scopes_grant(scopes: list[str] | tuple[str, ...], capability: str) -> bool:
    for scope in scopes:
        family, _sep, mode = scope.partition(":")
        reads, writes = SCOPE_FAMILIES.get(family, (frozenset(), frozenset()))
        if capability in reads or (mode == "write" and capability in writes | reads):
            return True
    return False
