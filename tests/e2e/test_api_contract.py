"""schemathesis holds a live server (gunicorn + a real redis-server) to /api/openapi.json:
no 5xx, and every response conforms to the document (status, content type, schema)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.e2e


def test_api_conforms_to_its_openapi_document(live_service):
    # Driven through schemathesis' Python API: its pytest plugin does not load under pytest 9.
    schema = schemathesis.openapi.from_url(f"{live_service.url}/api/openapi.json")
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case) -> None:
            case.call_and_validate(headers=headers)

        conforms()
        checked.append(operation.label)
    document = schema.raw_schema["paths"]
    expected = {f"{method.upper()} {path}" for path, item in document.items() for method in item}
    assert set(checked) == expected
