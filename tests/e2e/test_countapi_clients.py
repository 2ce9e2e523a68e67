"""Published CountAPI clients, unchanged, against a live service (gunicorn, a real server).

- The official JavaScript client, countapi-js 1.0.2 from npm, runs its own test suite (mocha)
  with node; only its base URL, a constant, is pointed here (countapi/base-url.js). Skipped
  with a message where node or its packages (``npm ci`` in tests/e2e/countapi, which make
  test runs where npm is installed) are missing.
- A strict client in Python, written here as published strict clients are: each answer is
  built into an object of exactly CountAPI's documented fields, so an extra or a missing
  field fails, and every documented call is made, success and error.
"""

import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

CLIENTS = Path(__file__).parent / "countapi"
PAGE = "https://blog.example.org/posts/one"


def _call(base: str, path: str, **headers) -> tuple[int, dict, dict]:
    request = urllib.request.Request(base + path, headers={"User-Agent": "strict/1", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


# The official JavaScript client -------------------------------------------------------------


def _prepare_official_suite(base: str) -> None:
    """What countapi-js' own test suite assumes exists on api.countapi.xyz."""
    for query in (
        "key=test",
        "namespace=test&key=test",
        "key=d7b97e5f-69a4-4933-8928-b9ee92f6b6ca",  # set without enable_reset: 403
        "namespace=default&key=c23ce4fa-4b78-4cbb-b53a-da3c2c38bb18&enable_reset=1",
        "key=ce420ebf-369c-4a19-92b1-8b02fb6e72ba&update_upperbound=100",
    ):
        assert _call(base, f"/create?{query}")[0] == 200, query


def test_the_official_javascript_client_passes_its_own_suite(live_service):
    node = shutil.which("node")
    mocha = CLIENTS / "node_modules" / ".bin" / "mocha"
    if node is None:
        pytest.skip("node is not installed: countapi-js' suite needs it (apt-get install nodejs)")
    if not mocha.exists():
        pytest.skip(f"run `npm ci` in {CLIENTS} (make test does where npm is installed)")
    _prepare_official_suite(live_service.url)
    suite = CLIENTS / "node_modules" / "countapi-js" / "test" / "index.js"
    result = subprocess.run(
        [node, str(mocha), "--require", str(CLIENTS / "base-url.js"), str(suite)],
        cwd=CLIENTS,
        env={"COUNTAPI_BASE": live_service.url, "COUNTAPI_PAGE": PAGE, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passing = int(result.stdout.split(" passing")[0].split()[-1])
    assert passing == 30, result.stdout  # every test of the suite ran
    # countapi.visits(): the calling page's page counter, shown on its site's dashboard.
    status, _, detail = _call(live_service.url, "/api/v1/counters/blog.example.org/site")
    assert status == 200
    assert [page["path"] for page in detail["pages"]] == ["/posts/one"]


# A strict client in Python -------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    value: int | None


@dataclass(frozen=True)
class SetResult:
    old_value: int | None
    value: int | None


@dataclass(frozen=True)
class Created:
    namespace: str
    key: str
    value: int


@dataclass(frozen=True)
class Info:
    namespace: str
    key: str
    ttl: int
    value: int
    enable_reset: bool
    update_upperbound: int
    update_lowerbound: int
    created: int


@dataclass(frozen=True)
class Stats:
    keys_created: int
    keys_updated: int
    requests: int
    version: str


class CountAPIError(Exception):
    def __init__(self, status: int, error: str):
        super().__init__(f"{status}: {error}")
        self.status, self.error = status, error


class StrictClient:
    """CountAPI as documented: every answer exactly its fields, else the client fails."""

    def __init__(self, base: str, page: str | None = None):
        self.base, self.page = base, page
        self.last_headers: dict = {}

    def _get(self, path: str, shape, **params):
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        headers = {"Referer": self.page} if self.page else {}
        url = path + (f"?{query}" if query else "")
        status, self.last_headers, body = _call(self.base, url, **headers)
        if set(body) == {"error"}:  # CountAPI's errors: 400, or info's 404
            raise CountAPIError(status, body["error"])
        if status not in (200, 403, 404):
            raise CountAPIError(status, body.get("error", ""))
        expected = {f.name for f in fields(shape)}
        assert set(body) == expected, (path, body)  # no extra field, no missing one
        return status, shape(**body)

    def get(self, name: str):
        return self._get(f"/get/{name}", Value)

    def hit(self, name: str):
        return self._get(f"/hit/{name}", Value)

    def set(self, name: str, value: int):
        return self._get(f"/set/{name}", SetResult, value=value)

    def update(self, name: str, amount: int):
        return self._get(f"/update/{name}", Value, amount=amount)

    def info(self, name: str):
        return self._get(f"/info/{name}", Info)

    def create(self, **options):
        return self._get("/create", Created, **options)

    def stats(self):
        return self._get("/stats", Stats)


def test_a_strict_client_gets_exactly_countapis_answers(live_service):
    api = StrictClient(live_service.url)
    name = f"strict/{uuid.uuid4()}"
    status, created = api.create(namespace="strict", key=name.split("/")[1], value=5)
    assert (status, created.value) == (200, 5)
    admin_key = api.last_headers["X-Admin-Key"]
    assert api.hit(name) == (200, Value(6))
    assert api.get(name) == (200, Value(6))
    assert api.update(name, 1) == (200, Value(7))
    assert api.update(name, 5) == (403, Value(7))  # outside the bounds
    assert api.set(name, 0) == (403, SetResult(7, 7))  # enable_reset off
    status, info = api.info(name)
    assert (status, info.value, info.ttl, info.enable_reset) == (200, 7, -1, False)
    assert (info.update_lowerbound, info.update_upperbound) == (-1, 1)
    status, stats = api.stats()
    assert (status, stats.keys_created >= 1, stats.requests > 0) == (200, True, True)
    # Not found, on every route.
    missing = f"strict/{uuid.uuid4()}"
    assert api.get(missing) == (404, Value(None))
    assert api.set(missing, 1) == (404, SetResult(None, None))
    assert api.update(missing, 1) == (404, Value(None))
    with pytest.raises(CountAPIError) as raised:
        api.info(missing)
    assert (raised.value.status, raised.value.error) == (404, "Key not found")
    # Errors in CountAPI's words.
    for call, words in (
        (lambda: api.create(key="aa"), "Malformed Namespace/Key"),
        (lambda: api.create(namespace="aa"), "Malformed Namespace/Key"),
        (lambda: api.create(update_upperbound=-1), "update_upperbound must be positive"),
        (lambda: api.create(update_lowerbound=1), "update_lowerbound must be negative"),
        (lambda: api.hit("aa"), "Malformed Namespace/Key"),
        (lambda: api.get("strict/a%20b"), "Malformed Namespace/Key"),
    ):
        with pytest.raises(CountAPIError) as raised:
            call()
        assert (raised.value.status, raised.value.error) == (400, words)
    assert _call(live_service.url, f"/reset/{name}", Authorization=f"Bearer {admin_key}")[0] == 200


def test_a_strict_client_on_a_page_uses_the_magic_names(live_service):
    page = StrictClient(live_service.url, page="https://docs.example.net/guide/start")
    assert page.hit(":HOST:/:PATHNAME:") == (200, Value(1))
    assert page.last_headers["X-Path"].startswith("/docs.example.net/p.")
    assert page.get(":HOST:/:PATHNAME:") == (200, Value(1))
    assert page.hit(":HOST:/downloads") == (200, Value(1))
    assert page.get(":HOST:") == (200, Value(1))  # the site: one page view so far
    with pytest.raises(CountAPIError) as raised:
        StrictClient(live_service.url).hit(":HOST:/:PATHNAME:")  # no page: no Referer
    assert raised.value.status == 400
    assert "Referer" in raised.value.error
