"""CountAPI's own behaviour where clients depend on it: magic names, the name rule, its error
words and its exact JSON shapes (the live clients' suite is tests/e2e/test_countapi_clients.py).
"""

import pytest

from counter import store
from counter.names import Counter
from tests.page_names import page_counter

PAGE = "https://blog.example.org/posts/one?utm=x#top"
SITE = Counter("blog.example.org", "site")


@pytest.fixture
def api(client, day):
    client.defaults.update(HTTP_HOST="localhost")
    return client


def _keys(namespace: str) -> set[str]:
    return {counter.key for counter in store.iter_counters(namespace=namespace)}


def test_host_and_pathname_name_the_page_scripts_own_page(api):
    response = api.get("/hit/:HOST:/:PATHNAME:", HTTP_REFERER=PAGE)
    assert response.status_code == 200
    assert response.json() == {"value": 1}
    page = page_counter(SITE.namespace, "/posts/one")
    assert response["X-Path"] == f"/{page.namespace}/{page.key}"
    # The very counters a page view of the script makes: the site's, and the page's with its path.
    assert api.post("/e/blog.example.org", data="/posts/one", content_type="text/plain")
    assert store.total(page) == 2
    assert store.total(SITE) == 2
    assert [tuple(p) for p in store.top_pages(SITE)] == [("/posts/one", 2, page.key)]
    assert api.get("/get/:HOST:/:PATHNAME:", HTTP_REFERER=PAGE).json() == {"value": 2}
    assert b"/posts/one" in api.get("/d/blog.example.org/site").content


def test_origin_names_the_host_and_referer_the_path(api):
    headers = {"HTTP_ORIGIN": "https://blog.example.org", "HTTP_REFERER": PAGE}
    assert api.get("/hit/:HOST:", **headers).json() == {"value": 1}  # the site
    assert store.total(SITE) == 1
    assert api.get("/hit/:HOST:/downloads", **headers).json() == {"value": 1}
    assert store.total(Counter("blog.example.org", "downloads")) == 1
    # A path from a Referer of another host is not this host's: the site's root then.
    other = {"HTTP_ORIGIN": "https://blog.example.org", "HTTP_REFERER": "https://a.example/x"}
    assert api.get("/hit/:HOST:/:PATHNAME:", **other).status_code == 200
    assert [p.path for p in store.top_pages(SITE)] == ["/"]


@pytest.mark.parametrize("path", ["/hit/:HOST:/:PATHNAME:", "/get/:HOST:", "/info/:HOST:/x1y"])
def test_magic_names_without_origin_or_referer_are_a_400_saying_so(api, path):
    response = api.get(path)
    assert response.status_code == 400
    assert "Origin or Referer" in response.json()["error"]


def test_reading_a_page_of_a_site_nobody_viewed_makes_nothing(api):
    for route in ("get", "info", "update"):
        response = api.get(f"/{route}/:HOST:/:PATHNAME:?amount=1", HTTP_REFERER=PAGE)
        assert response.status_code == 404, route
    assert _keys(SITE.namespace) == set()


def test_magic_pages_follow_the_sites_privacy(api, settings):
    settings.ADMIN_TOKEN = "operator-token-0123456789"
    api.get("/hit/:HOST:/:PATHNAME:", HTTP_REFERER=PAGE)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {settings.ADMIN_TOKEN}"}
    api.post(f"/api/v1/counters/{SITE}/claim?private=1", **auth)
    assert api.get("/get/:HOST:/:PATHNAME:", HTTP_REFERER=PAGE).status_code == 404
    assert api.get("/hit/:HOST:/:PATHNAME:", HTTP_REFERER=PAGE).status_code == 404
    assert api.get("/get/:HOST:/:PATHNAME:", HTTP_REFERER=PAGE, **auth).json() == {"value": 1}


@pytest.mark.parametrize(
    "url",
    ["/create?key=aa", "/create?namespace=aa", "/hit/aa", "/get/ab/visits", "/info/x/visits"],
)
def test_names_follow_countapis_rule_and_words(api, url):
    response = api.get(url)
    assert response.status_code == 400
    assert response.json() == {"error": "Malformed Namespace/Key"}
    assert list(store.iter_counters()) == []


def test_the_v1_api_keeps_its_clearer_words(api):
    response = api.get("/api/v1/counters/aa/visits")
    assert response.status_code == 400
    assert "use 3 to 64 characters" in response.json()["error"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("update_upperbound=-1", "update_upperbound must be positive"),
        ("update_lowerbound=1", "update_lowerbound must be negative"),
    ],
)
def test_create_refuses_bounds_in_countapis_words(api, query, error):
    response = api.get(f"/create?{query}")
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_every_route_answers_countapis_fields_exactly(api):
    created = api.get("/create?namespace=shape&key=visits&enable_reset=1")
    assert set(created.json()) == {"namespace", "key", "value"}
    key = created["X-Admin-Key"]
    assert "X-Admin-Key" in created["Access-Control-Expose-Headers"]
    assert set(api.get("/hit/shape/visits").json()) == {"value"}
    assert set(api.get("/get/shape/visits").json()) == {"value"}
    assert set(api.get("/update/shape/visits?amount=1").json()) == {"value"}
    assert set(api.get("/set/shape/visits?value=5").json()) == {"old_value", "value"}
    assert set(api.get("/info/shape/visits").json()) == {
        "namespace", "key", "ttl", "value", "enable_reset", "update_upperbound",
        "update_lowerbound", "created",
    }  # fmt: skip
    stats = api.get("/stats").json()
    assert set(stats) == {"keys_created", "keys_updated", "requests", "version"}
    assert stats["requests"] >= 6  # the requests above, answered by this process
    assert api.get("/reset/shape/visits", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_the_v1_api_creates_with_the_admin_key_in_the_body(api):
    response = api.post("/api/v1/counters/shape/visits?value=3")
    assert response.status_code == 200
    body = response.json()
    assert body["admin_key"] == response["X-Admin-Key"]
    assert (body["namespace"], body["key"], body["value"]) == ("shape", "visits", 3)
    assert api.post("/api/v1/counters/shape/visits").status_code == 409
