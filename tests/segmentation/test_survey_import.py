"""Survey answers arrive as files too: the ``survey_responses`` importable goes through the
same upload, mapping, dry run and import job as customers, and writes through the bulk
resource (one answer per customer, date and attribute)."""

from __future__ import annotations

import datetime as dt

import pytest

from segmentation.models import SurveyResponse
from tests import factories as f
from tests.imports.conftest import Importer
from tests.imports.test_import import issues
from vector_crm.errors import DomainError
from vector_crm.models import ImportStatus
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

CSV = (
    "id_cliente;fecha;atributo;satisfaccion;importancia\r\n"
    "S-1;15/03/2026;advice;4;5\r\n"
    "S-1;15/03/2026;agility;2;4\r\n"
    "S-2;2026-03-16;trust;5;5\r\n"
)


def answers(org) -> list[tuple]:
    with tenant_context(org.tenant.pk):
        return list(
            SurveyResponse.objects.order_by("customer__external_id", "attribute").values_list(
                "customer__external_id", "responded_on", "attribute", "satisfaction", "importance"
            )
        )


@pytest.fixture
def surveyed(org_a):
    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory(external_id="S-1")
        f.CustomerFactory(external_id="S-2")
    return Importer(org_a)


def test_a_survey_file_imports_through_the_import_path(surveyed, org_a):
    file_import = surveyed.full("encuesta.csv", CSV, importable="survey_responses")
    # the mapping is suggested from the Spanish headers, and the dry run writes nothing
    assert file_import.mapping == {
        "customer_external_id": "id_cliente",
        "responded_on": "fecha",
        "attribute": "atributo",
        "satisfaction": "satisfaccion",
        "importance": "importancia",
    }
    assert (file_import.status, file_import.issue_count) == (ImportStatus.VALIDATED, 0)
    assert answers(org_a) == []
    done = surveyed.run(file_import)
    assert done.status == ImportStatus.DONE
    assert answers(org_a) == [
        ("S-1", dt.date(2026, 3, 15), "advice", 4, 5),
        ("S-1", dt.date(2026, 3, 15), "agility", 2, 4),
        ("S-2", dt.date(2026, 3, 16), "trust", 5, 5),
    ]


def test_bad_answers_are_reported_by_row_and_nothing_is_written(surveyed, org_a):
    content = CSV + "S-9;2026-03-16;trust;5;5\r\nS-2;2026-03-16;advice;9;5\r\n"
    file_import = surveyed.full("encuesta.csv", content, importable="survey_responses")
    found = issues(file_import)
    assert [(row, column) for row, column, _value, _reason in found] == [(5, "id_cliente"), (6, "satisfaccion")]
    with pytest.raises(DomainError, match="solo las filas válidas"):
        surveyed.run(file_import)
    assert answers(org_a) == []
    # the user may still choose to import only the valid rows
    done = surveyed.run(file_import, only_valid=True)
    assert done.status == ImportStatus.DONE
    assert [(customer, attribute) for customer, _d, attribute, _s, _i in answers(org_a)] == [
        ("S-1", "advice"),
        ("S-1", "agility"),
        ("S-2", "trust"),
    ]
