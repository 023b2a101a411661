"""Request rate limits of the API: per API credential, and per user for browser sessions.

A fixed one-minute window counted in the Django cache (Redis in production, so every
gunicorn worker shares the count; local memory in the embedded set-up). The rate is the
tenant's ``settings["api_rate_per_minute"]``, else ``settings.VECTOR_API_RATE_PER_MINUTE``.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

WINDOW_SECONDS = 60
TENANT_RATE_SETTING = "api_rate_per_minute"


def tenant_rate_per_minute(tenant) -> int:
    """Requests a minute allowed to each credential (or user) of ``tenant``."""
    default = int(settings.VECTOR_API_RATE_PER_MINUTE)
    value = (getattr(tenant, "settings", None) or {}).get(TENANT_RATE_SETTING, default)
    try:
        rate = int(value)
    except (TypeError, ValueError):
        return default
    return rate if rate > 0 else default


class CredentialRateThrottle(BaseThrottle):
    """Counts requests per API credential (or per signed-in user) and tenant.

    Unauthenticated requests are refused by authentication and permissions before any
    throttle runs, so they are not counted here.
    """

    cache = cache
    timer = time.time

    def __init__(self):
        self.wait_seconds: float | None = None

    def get_ident_key(self, request) -> str | None:
        credential = getattr(request.user, "credential", None)
        if credential is not None:
            return f"credential:{credential.pk}"
        user_id = getattr(request.user, "pk", None)
        if user_id is None:
            return None
        tenant_id = getattr(getattr(request, "tenant", None), "pk", None)
        return f"user:{user_id}:tenant:{tenant_id}"

    def allow_request(self, request, view) -> bool:
        ident = self.get_ident_key(request)
        if ident is None:
            return True
        credential = getattr(request.user, "credential", None)
        tenant = credential.tenant if credential is not None else getattr(request, "tenant", None)
        rate = tenant_rate_per_minute(tenant)
        now = self.timer()
        window = int(now // WINDOW_SECONDS)
        key = f"vector_crm:throttle:{ident}:{window}"
        # add() is a no-op when the key exists; incr() is atomic on Redis.
        self.cache.add(key, 0, timeout=WINDOW_SECONDS + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # expired between add() and incr()
            self.cache.set(key, 1, timeout=WINDOW_SECONDS + 1)
            count = 1
        if count <= rate:
            return True
        self.wait_seconds = (window + 1) * WINDOW_SECONDS - now
        return False

    def wait(self) -> float | None:
        if self.wait_seconds is None:
            return None
        return max(1, math.ceil(self.wait_seconds))
