"""Database constraint races surface as a 409 problem, not a 500."""

import pytest
from django.db import IntegrityError

from vector_crm.api.exceptions import problem_details_handler

pytestmark = pytest.mark.django_db


def test_integrity_error_becomes_conflict_problem():
    response = problem_details_handler(IntegrityError("duplicate key value"), {})
    assert response.status_code == 409
    assert response.data["type"].endswith("/conflict")
    assert response.data["status"] == 409
    assert response.content_type == "application/problem+json"
