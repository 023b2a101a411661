"""Bench fixtures: credentials, sessions and the sample of requests to replay.

Run inside the bench environment (``DATABASE_URL`` as the app role)::

    python -m bench.prepare --out /tmp/vector-bench/fixtures.json --samples 200

For every bench tenant it creates a read-only API key and a tenant-admin session, then
draws the requests the runner replays:

* list: ``/api/v1/customers/?branch=<id>&lifecycle_status=active&q=<prefix>&page_size=50``
  with the branch and the three-letter name prefix of a randomly drawn active customer,
  so prefixes follow the real name frequencies (many "mar", few "wil");
* search: ``/api/v1/customers/?q=<prefix>&page_size=50``, the same prefixes over the
  whole institution (what the live search box asks);
* 360: ``/customers/<id>/`` of randomly drawn customers, which first get a timeline and
  channel consents (``enrich_customers``) because the timed load skips those tables.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="Where to write the fixtures JSON.")
    parser.add_argument("--samples", type=int, default=200, help="Distinct requests per endpoint.")
    parser.add_argument("--interactions", type=float, default=12.0, help="Timeline entries per sampled 360 customer.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vector_crm.settings")
    import django

    django.setup()
    fixtures = build_fixtures(samples=args.samples, interactions=args.interactions, seed=args.seed)
    Path(args.out).write_text(json.dumps(fixtures, indent=2))
    print(
        f"{len(fixtures['list'])} list and {len(fixtures['detail'])} 360 requests over {len(fixtures['tenants'])} tenants"
    )
    return 0


def build_fixtures(*, samples: int, interactions: float, seed: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Max, Min

    from customers.choices import LifecycleStatus
    from customers.demo.seed import BENCH_SLUG, enrich_customers
    from customers.models import Customer
    from vector_crm.middleware import SESSION_TENANT_KEY
    from vector_crm.models import ApiCredential, Membership, Tenant
    from vector_crm.roles import Role
    from vector_crm.tenancy import platform_context, tenant_context

    rng = random.Random(seed)
    with platform_context():
        tenants = [t for t in Tenant.objects.order_by("slug") if BENCH_SLUG.match(t.slug)]
    if not tenants:
        raise SystemExit("No bench tenants: run seed_demo --customers N first.")
    per_tenant = max(1, samples // len(tenants))
    result: dict = {"tenants": {}, "list": [], "search": [], "detail": [], "customers": 0}
    for tenant in tenants:
        with tenant_context(tenant.pk):
            credential = ApiCredential(name="bench (read-only)", scopes=["customers:read"])
            key = credential.set_new_secret()
            credential.save()
            admin = Membership.objects.select_related("user").filter(role=Role.TENANT_ADMIN).first()
            session = SessionStore()
            session[SESSION_KEY] = str(admin.user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = admin.user.get_session_auth_hash()
            session[SESSION_TENANT_KEY] = tenant.pk
            session.create()
            count = Customer.objects.count()
            result["customers"] += count
            result["tenants"][str(tenant.pk)] = {
                "name": tenant.name,
                "customers": count,
                "api_key": key,
                "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
            }
            # Random rows by id range: cheap on a million rows, unlike ORDER BY random().
            bounds = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
            picked_active = _random_rows(
                Customer.objects.filter(lifecycle_status=LifecycleStatus.ACTIVE), bounds, per_tenant, rng
            )
            for branch_id, search_name in picked_active.values_list("branch_id", "search_name"):
                prefix = search_name[:3]
                result["list"].append(
                    {
                        "tenant": str(tenant.pk),
                        "path": f"/api/v1/customers/?branch={branch_id}&lifecycle_status=active&q={prefix}"
                        f"&page_size=50",
                    }
                )
                result["search"].append(
                    {"tenant": str(tenant.pk), "path": f"/api/v1/customers/?q={prefix}&page_size=50"}
                )
            detail_ids = list(
                _random_rows(Customer.objects.all(), bounds, per_tenant, rng).values_list("id", flat=True)
            )
            enrich_customers(tenant.pk, detail_ids, interactions_per_customer=interactions)
            result["detail"].extend({"tenant": str(tenant.pk), "path": f"/customers/{pk}/"} for pk in detail_ids)
    rng.shuffle(result["list"])
    rng.shuffle(result["search"])
    rng.shuffle(result["detail"])
    return result


def _random_rows(queryset, bounds: dict, count: int, rng: random.Random):
    low, high = bounds["low"] or 0, bounds["high"] or 0
    picked: list[int] = []
    attempts = 0
    while len(picked) < count and attempts < count * 20:
        attempts += 1
        row = queryset.filter(id__gte=rng.randint(low, high)).order_by("id").values_list("id", flat=True).first()
        if row is not None and row not in picked:
            picked.append(row)
    return queryset.filter(id__in=picked)


if __name__ == "__main__":
    sys.exit(main())
