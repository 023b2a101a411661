"""The OpenAPI schema generates cleanly and its docs pages load nothing from the internet."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command

from tests.api.endpoints import ENDPOINTS

pytestmark = pytest.mark.django_db

# Every URL an HTML page makes the browser fetch: src/href attributes and CSS url(...).
_FETCHED = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']|(?<![\w.])url\(\s*["']?([^"')]+)""")


def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(target))
    schema = json.loads(target.read_text())
    paths = set(schema["paths"])
    for endpoint in ENDPOINTS:
        assert endpoint.list_url() in paths
        assert endpoint.list_url() + "{id}/" in paths
    assert "/api/v1/customers/reassign/" in paths
    assert "/api/v1/customers/{id}/interactions/" in paths
    assert "ApiKeyAuth" in schema["components"]["securitySchemes"]
    customer_params = {p["name"] for p in schema["paths"]["/api/v1/customers/"]["get"]["parameters"]}
    assert {
        "q",
        "branch",
        "owner",
        "lifecycle_status",
        "kind",
        "city",
        "income_band",
        "created_after",
        "created_before",
        "cursor",
        "page_size",
    } <= customer_params


def test_schema_endpoint_serves_without_login(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "VECTOR CRM API"


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_assets_locally(url, client):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    fetched = [a or b for a, b in _FETCHED.findall(html)]
    assert fetched, "the page loads its UI bundle"
    external = [ref for ref in fetched if re.match(r"^(?:[a-z]+:)?//", ref, re.IGNORECASE)]
    assert external == []
    assert all(ref.startswith("/static/drf_spectacular_sidecar/") or ref.startswith("/api/") for ref in fetched), (
        fetched
    )
    for ref in fetched:
        if ref.startswith("/static/"):
            assert client.get(ref).status_code == 200, ref
