"""Template context: the active tenant, membership and the user's other tenants."""

from vector_crm.middleware import memberships_of


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "user_memberships": lambda: memberships_of(user),
    }
