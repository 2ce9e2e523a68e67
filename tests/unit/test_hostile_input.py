"""Hypothesis throws hostile requests at every route: never a 5xx, never a change to a counter
that the request had no right to touch (a visit may add one, nothing else may change it).

Paths, query strings and headers are generated (invalid UTF-8 and control characters in
percent-escapes, overlong values, forged X-Forwarded-For, wrong Authorization), with every
method the routes know. The live-server version of this, under gunicorn against a real Redis,
is the hostile-input scenario of bench/reliability.py.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counter import store
from counter.names import Counter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
GUARDED = Counter("guarded", "counter")

# Every route, as a client would call it; {name} is a namespace/key, {ns} a namespace.
ROUTES = [
    ("get", "/"), ("get", "/count"), ("get", "/count/{name}"), ("head", "/count/{name}"),
    ("get", "/hit/{name}"), ("post", "/hit/{name}"), ("get", "/get/{name}"),
    ("get", "/info/{name}"), ("get", "/set/{name}"), ("post", "/update/{name}"),
    ("get", "/reset/{name}"), ("post", "/delete/{name}"), ("get", "/create"), ("post", "/create"),
    ("get", "/stats"), ("get", "/badge/{name}.svg"), ("get", "/badge/{name}.json"),
    ("get", "/i/{name}.gif"), ("post", "/e/{ns}"), ("options", "/e/{ns}"), ("get", "/d/{name}"),
    ("post", "/d/{name}/unlock"), ("post", "/new"), ("get", "/api/v1/counters/{name}"),
    ("get", "/api/openapi.json"), ("get", "/js/v1/site.js"), ("get", "/metrics"),
    ("put", "/hit/{name}"), ("delete", "/count/{name}"), ("get", "/{ns}"),
    ("get", "/api/v1/counters/{ns}/site/claim"), ("post", "/api/v1/counters/{ns}/site/claim"),
    ("post", "/api/v1/counters/{name}/admin-key"),
]  # fmt: skip

# Routes that count a visit: the only ones that may change a counter without its admin key.
_COUNTING = {"/count/{name}", "/hit/{name}", "/badge/{name}.svg", "/i/{name}.gif", "/e/{ns}"}

# Text with the bytes that break naive code: percent-escapes of any byte (invalid UTF-8, NUL,
# CR/LF), braces and colons (Redis key syntax), slashes and dots (paths), unicode.
_piece = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    st.integers(0, 255).map(lambda byte: f"%{byte:02X}"),
    st.sampled_from(["{", "}", ":", "/", "..", "%2F", " ", "\t", "a" * 70, "9" * 30]),
)
_text = st.lists(_piece, max_size=8).map("".join)
# A name: the guarded counter itself, a valid name, or anything at all.
_names = st.one_of(
    st.just("guarded/counter"),
    st.from_regex(r"[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}", fullmatch=True),
    _text,
)
_QUERY_KEYS = ["namespace", "key", "value", "amount", "callback", "token", "days", "style",
               "color", "label", "base", "count", "abbreviated", "p"]  # fmt: skip
_query = st.lists(st.tuples(st.sampled_from(_QUERY_KEYS), _text), max_size=4).map(
    lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
)
_headers = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_X_FORWARDED_FOR": st.one_of(_text, st.just("1.2.3.4, ::1, not-an-ip")),
        "HTTP_AUTHORIZATION": st.one_of(_text.map("Bearer ".__add__), _text),
        "HTTP_USER_AGENT": _text,
        "HTTP_SEC_PURPOSE": st.sampled_from(["prefetch", "prefetch;prerender", ""]),
        "HTTP_ORIGIN": _text,
        "HTTP_COOKIE": _text,
    },
)


@pytest.fixture
def guarded(client, day):
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    response = client.get("/create?namespace=guarded&key=counter&value=7")
    assert response.status_code == 200
    return client


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=_names,
    query=_query,
    headers=_headers,
    body=st.binary(max_size=300),
)
def test_no_request_gets_a_5xx_or_touches_a_counter_it_has_no_key_for(
    guarded, method, route, name, query, headers, body
):
    path = route.format(name=name, ns=name.partition("/")[0]) + (f"?{query}" if query else "")
    before = store.total(GUARDED)
    send = getattr(guarded, method)
    if method in {"post", "put"}:
        response = send(path, data=body, content_type="text/plain", **headers)
    else:
        response = send(path, **headers)
    assert response.status_code < 500, (method, path, headers, response.status_code)
    if response["Content-Type"].startswith("application/json") and method != "head":
        json.loads(response.content)  # a JSON answer is JSON, errors included
    counted = store.total(GUARDED) - before
    assert counted in ({0, 1} if route in _COUNTING else {0}), (method, path, headers, counted)
