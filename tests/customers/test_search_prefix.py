"""Name-prefix search (``selectors.search_filter``): same answers everywhere, and on
PostgreSQL an index range even for the application role, which row-level security binds."""

from __future__ import annotations

import pytest
from django.db import connection

from customers.models import Customer
from customers.selectors import search_filter
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(in_tenant_a):
    return {
        name: f.CustomerFactory(first_name=first, last_name=last)
        for name, (first, last) in {
            "pena": ("Álvaro", "Peña Núñez"),
            "maria": ("María José", "Restrepo"),
            "marco": ("Marco", "Zambrano"),
            "ana": ("Ana", "Vera"),
        }.items()
    }


def found(text: str) -> set[int]:
    return set(Customer.objects.filter(search_filter(text)).values_list("pk", flat=True))


def test_prefix_is_accent_and_case_insensitive(people):
    assert found("ÁLV") == found("alvaro pe") == {people["pena"].pk}
    assert found("mar") == {people["maria"].pk, people["marco"].pk}
    assert found("maría j") == {people["maria"].pk}
    # a prefix of the name, not a substring
    assert found("pena") == set()


def test_like_wildcards_are_plain_characters(people):
    assert found("a_a") == set()
    assert found("%") == set()


def test_postgres_matches_the_prefix_with_a_leakproof_operator(people, pg_only):
    # RLS lets the planner turn a user condition into an index range only when its function is
    # LEAKPROOF: starts_with (^@) is, LIKE is not (the bench's EXPLAIN shows the range at scale).
    sql = str(Customer.objects.filter(search_filter("mar")).query)
    assert "^@" in sql and "LIKE" not in sql.upper()
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, proleakproof FROM pg_proc WHERE proname IN ('starts_with', 'textlike')")
        assert dict(cursor.fetchall()) == {"starts_with": True, "textlike": False}
