"""Requests shaped to break the service from outside, each answered with a 4xx in the route's
language (JSON on the API, text or a page elsewhere), never a 500 or a logged traceback:
bodies over their route's limit (refused before they are read), JSON nested deep, malformed
headers, too many fields, a Host the service does not serve (on every route), integers in
other scripts' digits; and HEAD answers without a body."""

import json
import logging

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from counter import store
from counter.domain.dimension_values import MAX_BODY
from counter.names import SEED_COUNTER, Counter
from counter.web import live
from counter.web.middleware import BODY_LIMITS, FORM_BODY

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HIT = Counter("hostile", "http")


@pytest.fixture
def web(client, day):
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    return client


@pytest.fixture
def no_traceback(caplog):
    """Every record of the service's loggers (which do not propagate) and Django's: the test
    asserts that none carries a traceback and none is an error."""
    caplog.set_level(logging.INFO)
    loggers = [logging.getLogger(name) for name in ("visitorsite", "counter")]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in loggers:
        logger.removeHandler(caplog.handler)
    records = caplog.get_records("setup") + caplog.get_records("call")
    bad = [r for r in records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


class Unread:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def _is_json(response) -> bool:
    return response["Content-Type"].startswith("application/json")


def _error(response) -> str:
    assert _is_json(response), response["Content-Type"]
    return response.json()["error"]


# 1. Bodies bounded before they are read ----------------------------------------------------

# (path, its limit, whether it answers JSON): one route of each kind that reads a body.
BODY_ROUTES = [
    ("/e/example.com", MAX_BODY, False),
    ("/hit/hostile/http", FORM_BODY, True),
    ("/create", FORM_BODY, True),
    ("/set/hostile/http", FORM_BODY, True),
    ("/api/v1/counters/hostile/http", FORM_BODY, True),
    ("/new", FORM_BODY, False),
    ("/d/hostile/http/unlock", FORM_BODY, False),
]


@pytest.mark.parametrize(("path", "limit", "is_json"), BODY_ROUTES)
def test_a_content_length_over_the_routes_limit_is_a_413_before_reading(
    web, no_traceback, path, limit, is_json
):
    response = web.post(
        path, content_type="text/plain", CONTENT_LENGTH=str(limit + 1), **{"wsgi.input": Unread()}
    )
    assert response.status_code == 413
    message = _error(response) if is_json else response.content.decode()
    assert f"at most {limit} bytes" in message
    assert is_json or response["Content-Type"].startswith("text/plain")
    assert store.total(HIT) is None


@pytest.mark.parametrize(
    ("path", "cors"),
    [("/hit/hostile/http", True), ("/set/hostile/http", False), ("/update/hostile/http", False)],
)
def test_an_error_the_middleware_answers_keeps_the_routes_cors_choice(web, path, cors):
    """A 413 before the view runs: readable by other origins only on a route whose own
    answers are (the admin routes' are not)."""
    response = web.post(
        path,
        content_type="text/plain",
        CONTENT_LENGTH=str(FORM_BODY + 1),
        **{"wsgi.input": Unread()},
    )
    assert response.status_code == 413
    assert _is_json(response)
    assert (response.get("Access-Control-Allow-Origin") == "*") is cors


@pytest.mark.parametrize("length", ["\uff11\uff12", "-1", "1_0", "+5", "12 ", "0x10", "1e3", "²"])
@pytest.mark.parametrize("path", ["/hit/hostile/http", "/e/example.com", "/count"])
def test_a_content_length_that_is_not_ascii_digits_is_a_400(web, no_traceback, path, length):
    response = web.post(
        path, content_type="text/plain", CONTENT_LENGTH=length, **{"wsgi.input": Unread()}
    )
    assert response.status_code == 400
    assert "Content-Length" in (_error(response) if path == "/hit/hostile/http" else "") or (
        b"Content-Length" in response.content
    )


@pytest.mark.parametrize(("path", "limit", "is_json"), BODY_ROUTES)
def test_a_body_of_unknown_length_is_never_read(web, no_traceback, path, limit, is_json):
    # Chunked: no Content-Length. Django reads a body only as far as Content-Length says, so
    # a route that reads bodies asks for one.
    response = web.post(
        path,
        content_type="text/plain",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": Unread(), "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 411
    assert _is_json(response) == is_json


def test_a_route_that_reads_no_body_answers_as_it_would_without_reading_it(web, no_traceback):
    big = {"CONTENT_LENGTH": str(10**9), "wsgi.input": Unread()}
    assert web.post("/count", content_type="text/plain", **big).status_code == 405
    assert web.get("/count", **big).status_code == 200
    assert store.total(SEED_COUNTER) == 1


def test_bodies_within_their_limit_are_read(web, no_traceback):
    page = "/" + "a" * 500
    assert web.post("/e/example.com", data=page, content_type="text/plain").status_code == 204
    fields = {"namespace": "hostile", "key": "http", "value": "5", "pad": "x" * 15000}
    assert web.post("/create", data=fields).status_code == 200
    assert store.total(HIT) == 5


def test_djangos_own_limit_is_the_largest_route_limit():
    from django.conf import settings

    assert max(BODY_LIMITS.values()) == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert BODY_LIMITS["beacon"] == MAX_BODY == 3 * 1024


# 2. JSON nested deep -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/hit/hostile/http", "/create", "/set/hostile/http"])
def test_json_nested_deep_is_a_400_naming_the_field(web, no_traceback, path):
    deep = '{"value": ' + "[" * 2000 + "]" * 2000 + "}"
    response = web.post(path, data=deep, content_type="application/json")
    assert response.status_code == 400
    assert "'value' must be a string, number" in _error(response)
    top = web.post(path, data="[" * 2000 + "]" * 2000, content_type="application/json")
    assert top.status_code == 400
    assert "must be an object" in _error(top)
    assert store.total(HIT) is None


def test_a_beacon_nested_deep_is_a_400(web, no_traceback):
    body = '{"p": "/", "s": ' + "{" * 1000 + "}" * 1000 + "}"
    response = web.post("/e/example.com", data=body, content_type="text/plain")
    assert response.status_code == 400
    assert b"'s' must be a string, number" in response.content
    assert store.total(Counter("example.com", "site")) is None


def test_flat_json_parameters_still_work(web, no_traceback):
    body = json.dumps({"namespace": "hostile", "key": "http", "value": 7, "private": False})
    assert web.post("/create", data=body, content_type="application/json").status_code == 200
    assert store.total(HIT) == 7


# 3. Malformed headers, paths and query strings ----------------------------------------------

# (method, path, what its errors are): json, text (badges, counts, the beacon) or page.
ROUTES = [
    ("get", "/hit/:HOST:/:PATHNAME:", "json"),
    ("get", "/hit/hostile/http", "json"),
    ("post", "/create", "json"),
    ("get", "/api/v1/counters/hostile/http", "json"),
    ("get", "/count", "text"),
    ("get", "/count/hostile/http", "text"),
    ("get", "/badge/hostile/http.svg", "text"),
    ("get", "/i/hostile/http.gif", "text"),
    ("post", "/e/example.com", "text"),
    ("get", "/", "page"),
    ("get", "/d/hostile/http", "page"),
    ("post", "/new", "page"),
]
# Headers every route must refuse (400).
REFUSED = {
    "host-evil": {"HTTP_HOST": "evil.example"},
    "host-bracket": {"HTTP_HOST": "["},
    "host-space": {"HTTP_HOST": "local host"},
    "host-port": {"HTTP_HOST": "localhost:http"},
    "host-nul": {"HTTP_HOST": "localhost\x00"},
    "content-length": {"CONTENT_LENGTH": "\uff11"},
}
# Headers, paths and query strings no route may answer with a 5xx.
MALFORMED = {
    "origin": {"HTTP_ORIGIN": "http://["},
    "referer": {"HTTP_REFERER": "https://[::1"},
    "both": {"HTTP_ORIGIN": "http://[::1", "HTTP_REFERER": "http://]"},
    "forwarded": {"HTTP_X_FORWARDED_FOR": "1.2.3.4\x00, [, ::1%, 999.1.1.1"},
    "forwarded-nul": {"HTTP_X_FORWARDED_FOR": "\x00"},
    "content-type": {"CONTENT_TYPE": "application/json; charset=nonesuch; ;=;"},
    "multipart": {"CONTENT_TYPE": "multipart/form-data; boundary="},
    "cookie": {"HTTP_COOKIE": '\x00=\x01; ;;" =;vs_owner_x="\\"'},
    "query": {"QUERY_STRING": "%ff%fe=%c3%28&callback=%00&days=%00&value=%ff"},
    "user-agent": {"HTTP_USER_AGENT": "Mozilla/5.0\x00\xff\xfe"},  # WSGI: latin-1
    "x-forwarded-host": {"HTTP_X_FORWARDED_HOST": "[::"},
}


def _send(web, method, path, headers):
    if method == "post":
        headers.setdefault("CONTENT_TYPE", "application/x-www-form-urlencoded")
        return web.generic("POST", path, b"/" if path.startswith("/e/") else b"key=a", **headers)
    return web.get(path, **headers)


def _answers_in_its_language(response, kind):
    if kind == "json":
        assert _is_json(response), response["Content-Type"]
        assert "error" in response.json()
    else:
        assert response["Content-Type"].startswith(("text/plain", "text/html"))


@pytest.mark.parametrize("headers", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize(("method", "path", "kind"), ROUTES, ids=[r[1] for r in ROUTES])
def test_malformed_headers_are_a_400_in_the_routes_language(
    web, no_traceback, method, path, kind, headers
):
    response = _send(web, method, path, dict(headers))
    assert response.status_code == 400
    _answers_in_its_language(response, kind)
    assert store.total(HIT) is None
    assert store.total(SEED_COUNTER) is None


@pytest.mark.parametrize("headers", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize(("method", "path", "kind"), ROUTES, ids=[r[1] for r in ROUTES])
def test_malformed_headers_are_never_a_5xx(
    web, settings, no_traceback, method, path, kind, headers
):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]  # the test client's address: X-F-F is read
    settings.USE_X_FORWARDED_HOST = True
    response = _send(web, method, path, dict(headers))
    assert response.status_code < 500
    if response.status_code >= 400:
        _answers_in_its_language(response, kind)


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"HTTP_ORIGIN": "http://["}, "Origin header is not a URL"),
        ({"HTTP_REFERER": "https://[::1"}, "Referer header is not a URL"),
    ],
)
def test_a_magic_name_with_a_broken_url_says_which_header(web, no_traceback, headers, says):
    response = web.get("/hit/:HOST:/:PATHNAME:", **headers)
    assert response.status_code == 400
    assert says in _error(response)


@pytest.mark.parametrize(
    "path",
    ["/hit/%ff%fe/x", "/hit/a%00b/c", "/count/%00", "/badge/%c3%28/x.svg", "/d/%ff/x", "/e/%00"],
)
def test_paths_with_nul_or_broken_utf8_are_a_4xx(web, no_traceback, path):
    send = web.post if path.startswith("/e/") else web.get
    response = send(path, data="/", content_type="text/plain") if send == web.post else send(path)
    assert 400 <= response.status_code < 500
    assert _is_json(response) == path.startswith("/hit/")


# 4. Too many fields, bodies over Django's last line ------------------------------------------

MANY = "&".join(f"f{i}=1" for i in range(1001))


@pytest.mark.parametrize("path", ["/hit/hostile/http", "/get/hostile/http", "/create"])
def test_too_many_query_fields_are_a_json_400_on_the_api(web, no_traceback, path):
    response = web.get(f"{path}?callback=cb&{MANY}")
    assert response.status_code == 400
    assert "more than 1000 query or form fields" in _error(response)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert store.total(HIT) is None  # refused before anything counted


def test_too_many_form_fields_are_a_json_400_on_the_api(web, no_traceback):
    response = web.post("/create", data=MANY, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "more than 1000" in _error(response)


@pytest.mark.parametrize(("method", "path"), [("get", "/badge/hostile/http.svg"), ("post", "/new")])
def test_too_many_fields_are_a_text_400_elsewhere(web, no_traceback, method, path):
    if method == "get":
        response = web.get(f"{path}?{MANY}")
    else:
        response = web.post(path, data=MANY, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert b"more than 1000 query or form fields" in response.content


def test_a_form_over_djangos_own_limit_is_a_text_413_on_a_page(web, settings, no_traceback):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = web.post("/new", data={"namespace": "x" * 500})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


# 5. The Host is checked on every route -------------------------------------------------------

COUNTING = ["/count", "/count/hostile/http", "/hit/hostile/http", "/badge/hostile/http.svg",
            "/i/hostile/http.gif", "/stats", "/js/v1/site.js", "/live/hostile/http"]  # fmt: skip


@pytest.mark.parametrize("path", COUNTING)
def test_a_host_not_allowed_is_a_400_on_every_route(web, no_traceback, path):
    response = web.get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert _is_json(response) == path.startswith(("/hit/", "/stats"))
    assert store.total(SEED_COUNTER) is None
    assert store.total(HIT) is None
    beacon = web.post("/e/example.com", "/", content_type="text/plain", HTTP_HOST="evil.example")
    assert beacon.status_code == 400
    assert store.total(Counter("example.com", "site")) is None


def test_hosts_are_matched_as_django_matches_them(web, settings, no_traceback):
    settings.ALLOWED_HOSTS = [".example.com", "counter.test"]
    for host in ("example.com", "a.example.com", "A.Example.COM:8443", "counter.test:80"):
        assert web.get("/count", HTTP_HOST=host).status_code == 200, host
    for host in ("example.org", "counter.test.evil", "xexample.com", "localhost"):
        assert web.get("/count", HTTP_HOST=host).status_code == 400, host
    assert store.total(SEED_COUNTER) == 4
    settings.ALLOWED_HOSTS = ["*"]
    assert web.get("/count", HTTP_HOST="anything.example").status_code == 200
    assert web.get("/count", HTTP_HOST="bad host").status_code == 400
    settings.ALLOWED_HOSTS = ["counter.test"]  # a host allowed before is refused now
    assert web.get("/count", HTTP_HOST="a.example.com").status_code == 400


def test_a_forwarded_host_is_checked_when_django_reads_it(web, settings, no_traceback):
    assert web.get("/count", HTTP_X_FORWARDED_HOST="evil.example").status_code == 200  # unread
    settings.USE_X_FORWARDED_HOST = True
    for _ in range(2):  # the second time, from the hosts already accepted
        assert web.get("/count", HTTP_X_FORWARDED_HOST="localhost").status_code == 200
        refused = web.get("/count", HTTP_X_FORWARDED_HOST="evil.example")
        assert refused.status_code == 400
    # As Django decides: the proxy's X-Forwarded-Host, whatever the Host.
    assert (
        web.get("/count", HTTP_X_FORWARDED_HOST="localhost", HTTP_HOST="x.test").status_code == 200
    )
    assert store.total(SEED_COUNTER) == 4


def test_probes_answer_whatever_the_host(web, no_traceback):
    assert web.get("/healthz", HTTP_HOST="10.0.0.7").status_code == 200


# 6. Integers are ASCII digits ----------------------------------------------------------------


@pytest.mark.parametrize("digit", ["\uff11", "٣", "۳", "३", "1_0", "²"])
def test_integers_in_other_digits_are_refused_saying_why(web, no_traceback, digit):
    created = web.get("/create", {"namespace": "hostile", "key": "http", "value": digit})
    assert created.status_code == 400
    assert "value must be a whole number in ASCII digits 0-9" in _error(created)
    assert store.total(HIT) is None
    web.get("/create", {"namespace": "hostile", "key": "http", "enable_reset": "1"})
    for path, name in [("/set/hostile/http", "value"), ("/update/hostile/http", "amount")]:
        response = web.get(path, {name: digit})
        assert response.status_code == 400
        assert f"{name} must be a whole number in ASCII digits" in _error(response)
    for query in ({"days": digit}, {"days": "1", "limit": digit, "dimension": "page"}):
        path = "/api/v1/counters/hostile/http" + ("/breakdown" if "limit" in query else "")
        response = web.get(path, query)
        assert response.status_code == 400
        assert "must be a whole number in ASCII digits" in _error(response)
    badge = web.get("/badge/hostile/http.svg", {"base": digit})
    assert badge.status_code == 400
    assert b"base must be a whole number in ASCII digits" in badge.content
    assert store.total(HIT) == 0


@pytest.mark.parametrize("base", ["100000000000000000000", "1000000000000000", "-1", "9" * 5000])
def test_a_badge_base_out_of_range_says_the_range(web, no_traceback, base):
    response = web.get("/badge/hostile/http.svg", {"base": base})
    assert response.status_code == 400
    assert b"base must be between 0 and 999999999999999" in response.content
    assert web.get("/badge/hostile/http.svg", {"base": "999999999999999"}).status_code == 200


def test_api_ranges_are_said(web, no_traceback):
    web.get("/create", {"namespace": "hostile", "key": "http"})
    response = web.get("/api/v1/counters/hostile/http", {"days": "0"})
    assert "days must be between 1 and 400" in _error(response)
    huge = web.get("/create", {"namespace": "hostile", "key": "big", "value": "9" * 30})
    assert "value must be between -9007199254740991 and 9007199254740991" in _error(huge)


def test_a_dashboard_shows_its_default_range_for_other_digits(web, no_traceback):
    web.get("/create", {"namespace": "hostile", "key": "http"})
    assert web.get("/d/hostile/http", {"days": "7"}).context["days"] == 7
    assert web.get("/d/hostile/http", {"days": "\uff17"}).context["days"] == 30


# 7. HEAD answers carry no body ---------------------------------------------------------------


def _through_wsgi(
    method: str, path: str, host: str = "localhost"
) -> tuple[str, dict, bytes, object]:
    """The answer as a WSGI server gets it (the test client empties HEAD bodies itself)."""
    environ = getattr(RequestFactory(), method)(
        path, HTTP_HOST=host, HTTP_USER_AGENT=BROWSER
    ).environ
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=dict(headers))

    result = WSGIHandler()(environ, start_response)
    body = b"" if method == "head" and path.startswith("/live/") else b"".join(result)
    return started["status"], started["headers"], body, result


@pytest.mark.parametrize(
    "path",
    ["/count", "/hit/hostile/http", "/badge/hostile/http.svg", "/i/hostile/http.gif", "/",
     "/js/v1/site.js", "/healthz", "/nothing/here", "/stats"],
)  # fmt: skip
def test_a_head_answer_has_no_body_and_the_gets_length(day, path):
    _, got, get_body, get_result = _through_wsgi("get", path)
    get_result.close()
    status, headers, body, result = _through_wsgi("head", path)
    result.close()
    assert body == b""
    assert status.split()[0] in {"200", "404"}
    assert headers.get("Content-Length", str(len(get_body))) == str(len(get_body))
    assert headers["Content-Type"] == got["Content-Type"]


def test_a_head_refused_for_its_host_has_no_body_either(day):
    status, headers, body, result = _through_wsgi("head", "/count", host="evil.example")
    result.close()
    assert (status.split()[0], body) == ("400", b"")
    assert int(headers["Content-Length"]) > 0  # the GET's refusal's length
    assert store.total(SEED_COUNTER) is None


def test_a_head_on_a_live_stream_sends_nothing_and_frees_its_place(day):
    store.hit(HIT, visitor_id="v")
    streams = live._watch.streams  # other tests' streams may still be open in this process
    status, _, _, result = _through_wsgi("head", "/live/hostile/http")
    assert status.startswith("200")
    assert list(result) == []
    result.close()
    assert live._watch.streams == streams


def test_every_route_has_decided_whether_it_reads_a_body():
    # A new route is either in BODY_LIMITS or here: one that reads a body without a limit
    # would be held only by Django's last line, after reading.
    from counter.urls import urlpatterns

    reads_none = {"count", "count-named", "welcome", "dashboard", "api-openapi", "metrics",
                  "badge", "badge-json", "pixel", "script", "live", "operator"}  # fmt: skip
    assert {pattern.name for pattern in urlpatterns} == set(BODY_LIMITS) | reads_none


@pytest.mark.parametrize(("path", "is_json"), [("/hit/a/b", True), ("/count", False)])
def test_what_reaches_djangos_own_400_is_answered_in_the_routes_language(path, is_json):
    from counter.web.responses import bad_request

    response = bad_request(RequestFactory().get(path))
    assert response.status_code == 400
    assert _is_json(response) == is_json


def test_a_json_body_of_more_than_1000_fields_is_refused(client):
    body = "{" + ",".join(f'"f{n}": 1' for n in range(1001)) + "}"
    response = client.post("/hit/json/fields", body, content_type="application/json")
    assert response.status_code == 400
    assert "more than 1000 fields" in response.json()["error"]


@pytest.mark.parametrize(
    "url", ["/create?namespace=heads&key=made", "/update/heads/counted?amount=1"]
)
@pytest.mark.parametrize("headers", [{"REQUEST_METHOD": "HEAD"}, {"HTTP_SEC_PURPOSE": "prefetch"}])
def test_head_and_prefetches_do_not_write(client, url, headers):
    from counter import store
    from counter.names import Counter

    assert client.get("/create?namespace=heads&key=counted").status_code == 200
    headers = dict(headers)
    method = headers.pop("REQUEST_METHOD", "GET")
    response = client.generic(method, url, **headers)
    assert response.status_code == 405
    assert "GET" in response["Allow"]
    assert store.total(Counter("heads", "made")) is None
    assert store.total(Counter("heads", "counted")) == 0


@pytest.mark.parametrize(
    ("method", "path", "allowed", "is_json"),
    [
        ("get", "/e/example.com", "POST", False),  # the beacon
        ("get", "/d/hostile.example/site/timezone", "POST", False),  # the zone form
        ("post", "/count", "GET", False),
        ("delete", "/api/openapi.json", "GET", True),
    ],
)
def test_a_method_a_route_refuses_is_a_405_that_says_so(web, method, path, allowed, is_json):
    """Django's 405 has only its Allow header: the answer says what to use, in the route's
    language."""
    response = getattr(web, method)(path)
    assert response.status_code == 405
    assert allowed in response["Allow"]
    message = _error(response) if is_json else response.content.decode()
    assert f"Method not allowed: use {response['Allow']}" in message
    assert is_json or response["Content-Type"].startswith("text/plain")
