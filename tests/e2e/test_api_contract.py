"""schemathesis holds a live server (gunicorn + a real redis-server) to /api/openapi.json:
no 5xx, and every response conforms to the document (status, content type, schema)."""

import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.servers import RedisServer, WebServer, base_env, free_port

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("contract")
    redis = RedisServer(workdir / "redis").start()
    port = free_port()
    env = base_env(
        REDIS_URL=redis.url,
        DATA_DIR=str(workdir / "data"),
        BIND=f"127.0.0.1:{port}",
        CREATE_RATE_LIMIT="1000/h",
        PATH=f"{BIN}:{base_env()['PATH']}",
    )
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "visitorsite.wsgi"]
    web = WebServer(command, env=env, port=port, log=workdir / "web.log").start()
    yield web
    web.stop(sig=15)
    redis.stop()


def test_api_conforms_to_its_openapi_document(live_api):
    # Driven through schemathesis' Python API: its pytest plugin does not load under pytest 9.
    schema = schemathesis.openapi.from_url(f"{live_api.url}/api/openapi.json")
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
