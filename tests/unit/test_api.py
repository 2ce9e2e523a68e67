"""The CountAPI-compatible JSON API: endpoints, statuses, permissions, JSONP, CORS, limits."""

import json

import pytest

from counter import store
from counter.names import Counter
from counter.store.connection import get_client

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SITE = Counter("site", "home")


@pytest.fixture
def api(client, day):
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    return client


def _create(api, **params) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.get(f"/create?{query}")
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"namespace", "key", "value"}  # CountAPI's, exactly
    return {**response.json(), "admin_key": response["X-Admin-Key"]}


def test_migration_offset_then_hit_then_get(api):
    created = _create(api, namespace="site", key="home", value=123456)
    assert created["namespace"] == "site"
    assert created["key"] == "home"
    assert created["value"] == 123456
    assert api.get("/hit/site/home").json() == {"value": 123457}
    assert api.get("/get/site/home").json() == {"value": 123457}


def test_hit_creates_and_counts_with_x_path_and_cors(api):
    response = api.get("/hit/site/home")
    assert response.json() == {"value": 1}
    assert response["X-Path"] == "/site/home"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert api.post("/hit/site/home").json() == {"value": 2}


def test_namespace_is_optional(api):
    assert api.get("/hit/home").json() == {"value": 1}
    assert api.get("/hit/home")["X-Path"] == "/default/home"
    assert api.get("/get/default/home").json() == {"value": 2}


def test_hit_records_uniques_and_bots_like_count(api):
    api.get("/hit/site/home", REMOTE_ADDR="203.0.113.1")
    api.get("/hit/site/home", REMOTE_ADDR="203.0.113.1")
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert api.get("/hit/site/home", HTTP_USER_AGENT=googlebot).json() == {"value": 2}
    stats = store.stats(SITE, days=1)
    assert (stats.total, stats.today.uniques, stats.bots) == (2, 1, 1)


def test_get_unknown_is_404_with_null_value(api):
    response = api.get("/get/site/nothing")
    assert response.status_code == 404
    assert response.json() == {"value": None}


def test_create_defaults_and_random_key(api):
    created = _create(api)
    assert created["namespace"] == "default"
    assert len(created["key"]) == 36  # a UUID, like CountAPI's
    assert created["value"] == 0
    info = api.get(f"/info/default/{created['key']}").json()
    assert info["enable_reset"] is False
    assert (info["update_lowerbound"], info["update_upperbound"]) == (-1, 1)


def test_create_existing_is_409(api):
    _create(api, namespace="site", key="home")
    response = api.get("/create?namespace=site&key=home")
    assert response.status_code == 409
    assert response.json() == {"error": "Key already exists"}


@pytest.mark.parametrize(
    "query",
    [
        "key=a%20b",
        "namespace=%7Bx%7D&key=kkk",
        "key=kkk&value=abc",
        "key=kkk&value=1e99",
        "key=kkk&enable_reset=maybe",
        "key=kkk&update_lowerbound=1",
        "key=kkk&update_upperbound=-1",
    ],
)
def test_create_bad_parameters_are_400_json(api, query):
    response = api.get(f"/create?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_info_fields(api):
    _create(api, namespace="site", key="home", value=7, enable_reset=1, update_upperbound=5)
    info = api.get("/info/site/home").json()
    assert set(info) == {
        "namespace", "key", "ttl", "created", "update_lowerbound", "update_upperbound",
        "enable_reset", "value",
    }  # fmt: skip
    assert info["value"] == 7
    assert info["enable_reset"] is True
    assert info["update_upperbound"] == 5
    assert info["ttl"] == -1
    assert isinstance(info["created"], int)
    assert api.get("/info/site/none").status_code == 404


def test_counter_made_by_a_hit_has_countapi_hit_defaults(api):
    api.get("/hit/site/home")
    info = api.get("/info/site/home").json()
    assert (info["enable_reset"], info["update_lowerbound"], info["update_upperbound"]) == (
        False,
        0,
        1,
    )
    assert isinstance(info["created"], int)


# CountAPI's permission rules for anonymous callers ---------------------------------------


def test_set_needs_enable_reset(api):
    _create(api, namespace="site", key="open", value=42, enable_reset=1)
    _create(api, namespace="site", key="closed", value=1234)
    assert api.get("/set/site/open?value=69").json() == {"old_value": 42, "value": 69}
    refused = api.get("/set/site/closed?value=33")
    assert refused.status_code == 403
    assert refused.json() == {"old_value": 1234, "value": 1234}
    assert store.total(Counter("site", "closed")) == 1234
    missing = api.get("/set/site/none?value=33")
    assert missing.status_code == 404
    assert missing.json() == {"old_value": None, "value": None}


def test_update_within_bounds_only(api):
    _create(api, namespace="site", key="home", value=47, update_lowerbound=-7, update_upperbound=2)
    assert api.get("/update/site/home?amount=2").json() == {"value": 49}
    assert api.get("/update/site/home?amount=-7").json() == {"value": 42}
    refused = api.get("/update/site/home?amount=3")
    assert refused.status_code == 403
    assert refused.json() == {"value": 42}
    assert api.get("/update/site/none?amount=1").status_code == 404


def test_set_and_update_need_their_parameter(api):
    _create(api, namespace="site", key="home", enable_reset=1)
    assert api.get("/set/site/home").status_code == 400
    assert api.get("/update/site/home?amount=x").status_code == 400


def test_admin_endpoints_send_no_cors(api):
    _create(api, namespace="site", key="home", enable_reset=1)
    for url in ("/set/site/home?value=1", "/update/site/home?amount=1", "/reset/site/home"):
        assert "Access-Control-Allow-Origin" not in api.get(url)


# Admin keys ------------------------------------------------------------------------------


def test_admin_key_allows_everything_and_is_stored_only_hashed(api):
    key = _create(api, namespace="site", key="home", value=10)["admin_key"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert api.get("/set/site/home?value=500", **auth).json() == {"old_value": 10, "value": 500}
    assert api.get("/update/site/home?amount=-400", **auth).json() == {"value": 100}
    assert api.get(f"/reset/site/home?token={key}").json() == {"value": 0}
    raw = get_client()
    stored = b"".join(v for k in raw.keys("*") if raw.type(k) == b"hash" for v in raw.hvals(k))
    assert key.encode() not in stored


def test_wrong_key_is_403_and_changes_nothing(api):
    _create(api, namespace="site", key="home", value=10, enable_reset=1)
    wrong = {"HTTP_AUTHORIZATION": "Bearer not-the-key"}
    for url in (
        "/set/site/home?value=1",
        "/update/site/home?amount=1",
        "/reset/site/home",
        "/delete/site/home",
    ):
        response = api.get(url, **wrong)
        assert response.status_code == 403, url
        assert "error" in response.json()
    assert store.total(SITE) == 10


def test_reset_and_delete_need_a_key_always(api):
    _create(api, namespace="site", key="home", value=10, enable_reset=1)
    for url in ("/reset/site/home", "/delete/site/home"):
        response = api.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert store.total(SITE) == 10


def test_a_counters_key_does_not_open_another_counter(api):
    key = _create(api, namespace="site", key="home")["admin_key"]
    _create(api, namespace="site", key="other", value=5)
    response = api.get("/reset/site/other", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 403
    assert store.total(Counter("site", "other")) == 5


def test_operator_token_opens_every_counter(api, settings):
    settings.ADMIN_TOKEN = "operator-token-0123456789"
    api.get("/hit/site/home")  # made by a hit: no admin key of its own
    auth = {"HTTP_AUTHORIZATION": "Bearer operator-token-0123456789"}
    assert api.get("/set/site/home?value=9", **auth).json() == {"old_value": 1, "value": 9}
    assert api.get("/delete/site/home", **auth).status_code == 200


def test_delete_removes_every_key(api):
    key = _create(api, namespace="site", key="home")["admin_key"]
    for _ in range(3):
        api.get("/hit/site/home")
    response = api.get("/delete/site/home", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.json() == {"status": "deleted", "namespace": "site", "key": "home"}
    assert get_client().keys("*c:{site/home}*") == []
    assert api.get("/get/site/home").status_code == 404
    gone = api.get("/delete/site/home", HTTP_AUTHORIZATION="Bearer whatever")
    assert gone.status_code == 403  # no counter, so no key matches


# JSONP, CORS, errors ---------------------------------------------------------------------


def test_jsonp_wraps_and_never_fails(api):
    response = api.get("/get/site/none?callback=handle")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert body.startswith("/**/handle(")
    assert body.endswith(");")
    assert json.loads(body[len("/**/handle(") : -2]) == {"value": None, "status": 404}


@pytest.mark.parametrize(
    "callback", ["alert(1)", "a;b", "<script>", "x" * 65, "1abc", "a..b", "a-b", "é"]
)
def test_bad_callback_is_400_json_never_echoed(api, callback):
    from urllib.parse import quote

    response = api.get(f"/get/site/home?callback={quote(callback)}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert callback not in response.content.decode()


def test_preflight_allows_cors_on_public_endpoints_only(api):
    public = api.options("/hit/site/home")
    assert public.status_code == 204
    assert public["Access-Control-Allow-Origin"] == "*"
    admin = api.options("/set/site/home")
    assert "Access-Control-Allow-Origin" not in admin


def test_errors_are_json(api):
    for url in ("/hit/a%20b", "/get/x/y/z", "/api/v1/counters/site/home?days=0"):
        response = api.get(url)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert "error" in response.json()
    response = api.put("/hit/site/home")
    assert response.status_code == 405
    assert "error" in response.json()


def test_store_outage_is_json_503_on_api(api, point_store_at):
    from tests.servers import free_port

    point_store_at(f"redis://127.0.0.1:{free_port()}/0")
    response = api.get("/hit/site/home")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "error" in response.json()
    # JSONP is always a 200 with the status inside, as a <script> tag can read nothing else.
    jsonp = api.get("/hit/site/home?callback=show")
    assert jsonp.status_code == 200
    body = jsonp.content.decode()
    assert body.startswith("/**/show(")
    assert '"status": 503' in body


# Stats, v1, OpenAPI ----------------------------------------------------------------------


def test_stats_counts_creations_and_updates(api):
    _create(api, namespace="site", key="home", enable_reset=1)
    api.get("/set/site/home?value=3")
    stats = api.get("/stats").json()
    assert (stats["keys_created"], stats["keys_updated"]) == (1, 1)
    assert stats["version"]


def test_v1_counter_detail(api):
    api.get("/hit/site/home", REMOTE_ADDR="203.0.113.1")
    api.get("/hit/site/home", REMOTE_ADDR="203.0.113.2")
    detail = api.get("/api/v1/counters/site/home?days=7").json()
    assert detail["total"] == 2
    assert detail["uniques"] == 2
    assert detail["today"] == {"hits": 2, "uniques": 2}
    assert len(detail["days"]) == 7
    assert detail["days"][-1] == {"date": "2026-03-10", "hits": 2, "uniques": 2}
    assert api.get("/api/v1/counters/site/none").status_code == 404


def test_v1_csv_is_the_daily_series(api, day):
    from datetime import timedelta

    api.get("/hit/site/home", REMOTE_ADDR="203.0.113.1")
    day.set(day.current + timedelta(days=1))
    api.get("/hit/site/home", REMOTE_ADDR="203.0.113.1")
    api.get("/hit/site/home", REMOTE_ADDR="203.0.113.2")
    response = api.get("/api/v1/counters/site/home.csv?days=3")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="site-home.csv"' in response["Content-Disposition"]
    assert response.content.decode().splitlines() == [
        "date,hits,uniques",
        "2026-03-09,0,0",
        "2026-03-10,1,1",
        "2026-03-11,2,2",
    ]
    assert api.get("/api/v1/counters/site/none.csv").status_code == 404
    assert api.get("/api/v1/counters/site/home.csv?days=0").status_code == 400
    key = _create(api, namespace="site", key="hidden", private="true")["admin_key"]
    assert api.get("/api/v1/counters/site/hidden.csv").status_code == 403
    with_key = api.get("/api/v1/counters/site/hidden.csv", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert with_key.content.decode().splitlines()[0] == "date,hits,uniques"


def test_openapi_document_is_valid_and_names_every_api_route(api):
    from openapi_spec_validator import validate

    document = api.get("/api/openapi.json").json()
    validate(document)
    for route in ("hit", "get", "info", "set", "update", "reset", "delete"):
        assert f"/{route}/{{namespace}}/{{key}}" in document["paths"]
    assert {
        "/create",
        "/stats",
        "/api/v1/counters/{namespace}/{key}",
        "/api/v1/counters/{namespace}/site/claim",
        "/api/v1/counters/{namespace}/{key}.csv",
        "/api/v1/counters/{namespace}/site/now",
    } <= set(document["paths"])
    assert "patch" in document["paths"]["/api/v1/counters/{namespace}/site"]


# Rate limits -----------------------------------------------------------------------------


def test_create_is_rate_limited_per_client_and_recovers(api, settings):
    settings.CREATE_RATE_LIMIT = (2, 60)
    first = api.get("/create?key=aaa")
    assert first["RateLimit-Limit"] == "2"
    assert first["RateLimit-Remaining"] == "1"
    assert api.get("/create?key=bbb").status_code == 200
    limited = api.get("/create?key=ccc")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited["RateLimit-Remaining"] == "0"
    assert "error" in limited.json()
    assert store.total(Counter("default", "ccc")) is None
    # Another client is not affected.
    assert api.get("/create?key=ddd", REMOTE_ADDR="198.51.100.4").status_code == 200
    # The window passes (its bucket expires): the client may create again.
    for key in get_client().keys("*rl:create:*"):
        get_client().delete(key)
    assert api.get("/create?key=ccc").status_code == 200


def test_rate_limit_buckets_hold_no_raw_address(api, settings):
    settings.CREATE_RATE_LIMIT = (5, 60)
    api.get("/create?key=aaa", REMOTE_ADDR="198.51.100.77")
    keys = b" ".join(get_client().keys("*"))
    assert b"198.51.100.77" not in keys


def test_unknown_paths_are_json_on_the_api_and_text_elsewhere(api):
    response = api.get("/api/v2/anything")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}
    page = api.get("/no-such-page")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/plain")


def test_v1_csv_with_compare_previous_carries_the_previous_days_row_by_row(api, day):
    from datetime import timedelta

    api.get("/hit/site/both", REMOTE_ADDR="203.0.113.1")  # 2026-03-10: the previous period
    day.set(day.current + timedelta(days=2))
    api.get("/hit/site/both", REMOTE_ADDR="203.0.113.1")
    api.get("/hit/site/both", REMOTE_ADDR="203.0.113.2")
    response = api.get("/api/v1/counters/site/both.csv?days=2&compare=previous")
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        "date,hits,uniques,previous_day,previous_hits,previous_uniques",
        "2026-03-11,0,0,2026-03-09,0,0",
        "2026-03-12,2,2,2026-03-10,1,1",
    ]
    plain = api.get("/api/v1/counters/site/both.csv?days=2").content.decode()
    assert plain.splitlines()[0] == "date,hits,uniques"  # without compare: as before
    refused = api.get("/api/v1/counters/site/both.csv?days=2&compare=next")
    assert refused.status_code == 400
    past = api.get("/api/v1/counters/site/both.csv?days=400&compare=previous")
    assert past.status_code == 400  # the previous period past the retention
    document = api.get("/api/openapi.json").json()
    route = document["paths"]["/api/v1/counters/{namespace}/{key}.csv"]["get"]
    assert "previous_day,previous_hits,previous_uniques" in route["description"]
    assert "compare" in {param.get("name") for param in route["parameters"]}
