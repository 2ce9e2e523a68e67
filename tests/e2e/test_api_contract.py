"""schemathesis holds a live server (gunicorn + a real redis-server) to /api/openapi.json:
no 5xx, and every response conforms to the document (status, content type, schema)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.e2e

# A read's period holds what no schema can say: within the retention, not in the future,
# from <= to, days or from/to. Schema-valid periods may be refused, with a 400 naming them.
PERIOD_ERRORS = ("days must", "ask for days", "from ", "to ", "from must", "to must", "compare")


def test_api_conforms_to_its_openapi_document(live_service):
    # Driven through schemathesis' Python API: its pytest plugin does not load under pytest 9.
    schema = schemathesis.openapi.from_url(f"{live_service.url}/api/openapi.json")
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {parameter.name for parameter in operation.query}
        excluded = [positive_data_acceptance] if "from" in names else []

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case) -> None:  # run in this iteration: its `excluded` is this one's
            response = case.call_and_validate(headers=headers, excluded_checks=excluded)  # noqa: B023
            if excluded and response.status_code == 400:  # noqa: B023
                error = response.json()["error"]
                assert error.startswith(PERIOD_ERRORS), error

        conforms()
        checked.append(operation.label)
    document = schema.raw_schema["paths"]
    expected = {f"{method.upper()} {path}" for path, item in document.items() for method in item}
    assert set(checked) == expected
