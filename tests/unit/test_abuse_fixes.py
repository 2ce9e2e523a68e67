"""Smaller abuse findings: every creation path rate limited, admin keys that can be rotated,
owner cookies that expire, names of dots only, badge text XML cannot carry."""

import io

import pytest
from django.core import signing
from django.core.management import call_command

from counter import store
from counter.names import Counter, InvalidName, counter_from_path


def _create(client, key="rotating") -> str:
    response = client.get("/create", {"namespace": "abuse", "key": key})
    assert response.status_code == 200
    return response["X-Admin-Key"]


def test_rotating_the_admin_key_stops_the_old_one_at_once(client):
    old = _create(client)
    url = "/api/v1/counters/abuse/rotating/admin-key"
    assert client.post(url).status_code == 401
    assert client.post(url, HTTP_AUTHORIZATION="Bearer wrong-key-wrong-key").status_code == 403
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 405
    response = client.post(url, HTTP_AUTHORIZATION=f"Bearer {old}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new = response.json()["admin_key"]
    assert new != old
    reset = "/reset/abuse/rotating"
    assert client.get(reset, HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 403
    assert client.get(reset, HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 200
    missing = client.post("/api/v1/counters/abuse/none/admin-key", HTTP_AUTHORIZATION="Bearer x")
    assert missing.status_code in {403, 404}


def test_a_rotation_that_raced_another_changes_nothing(client):
    _create(client, "raced")
    counter = Counter("abuse", "raced")
    before = store.info(counter).meta["admin_key_sha256"]
    assert store.replace_admin_key(counter, expected="not-the-hash", new="x") == 0
    assert store.info(counter).meta["admin_key_sha256"] == before
    assert store.replace_admin_key(Counter("abuse", "nothing"), expected="", new="x") == -1


def test_the_form_shares_the_create_rate_limit(client, settings):
    settings.CREATE_RATE_LIMIT = (2, 3600)
    assert client.get("/create", {"namespace": "rlx", "key": "one"}).status_code == 200
    assert client.post("/new", {"namespace": "rlx", "key": "two"}).status_code == 200
    refused = client.post("/new", {"namespace": "rlx", "key": "three"})
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert store.total(Counter("rlx", "three")) is None
    assert client.get("/create", {"namespace": "rlx", "key": "four"}).status_code == 429


def test_the_owner_cookie_expires(client, settings, monkeypatch):
    response = client.post("/new", {"namespace": "owned", "key": "page", "private": "on"})
    admin_key = response.context["created"].admin_key
    unlocked = client.post("/d/owned/page/unlock", {"admin_key": admin_key})
    assert unlocked.status_code == 302
    assert _template(client.get("/d/owned/page")) == "counter/dashboard.html"
    settings.OWNER_COOKIE_AGE = 30
    real = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() + 31)
    assert _template(client.get("/d/owned/page")) == "counter/locked.html"


def _template(response) -> str:
    return response.templates[0].name


@pytest.mark.parametrize("name", [".", "..", "default/..", "../..", "...", "ns/."])
def test_names_of_dots_only_are_invalid(name, client):
    with pytest.raises(InvalidName):
        counter_from_path(name)
    assert client.get(f"/hit/{name}").status_code in {400, 404}


@pytest.mark.parametrize("label", ["%01", "a%0Bb", "%EF%BF%BE", "%00"])
def test_badge_text_that_xml_forbids_is_a_400(client, label):
    response = client.get(f"/badge/xml/test.svg?label={label}")
    assert response.status_code == 400
    assert b"not allowed in XML" in response.content
    assert store.total(Counter("xml", "test")) is None


def _private(client, namespace="secret.example", key="counter") -> str:
    response = client.get("/create", {"namespace": namespace, "key": key, "private": "true"})
    assert response.status_code == 200
    return response["X-Admin-Key"]


def _claimed_private_site(namespace="secret.example") -> str:
    """The operator's claim (manage.py claim_site --private); the printed admin key."""
    out = io.StringIO()
    call_command("claim_site", namespace, "--private", stdout=out)
    return out.getvalue().split()[-1]


def test_a_private_counter_shows_its_total_and_nothing_else(client):
    admin_key = _private(client, key="counter")
    base = "secret.example/counter"
    assert client.get(f"/hit/{base}", HTTP_USER_AGENT="Mozilla/5.0").json() == {"value": 1}
    assert client.get(f"/get/{base}").json() == {"value": 1}
    assert client.get(f"/badge/{base}.svg?count=0").status_code == 200
    for path in (
        f"/info/{base}",
        f"/api/v1/counters/{base}",
        f"/badge/{base}.svg?value=uniques",
        f"/badge/{base}.svg?value=today/total",
        f"/badge/{base}.json?value=today",
    ):
        assert client.get(path).status_code == 403, path
        with_key = client.get(path, HTTP_AUTHORIZATION=f"Bearer {admin_key}")
        if path.startswith("/badge"):
            with_key = client.get(path + f"&token={admin_key}")
        assert with_key.status_code == 200, path


def test_a_private_sites_page_counters_are_private_too(client):
    admin_key = _claimed_private_site()
    browser = {"content_type": "text/plain", "HTTP_USER_AGENT": "Mozilla/5.0"}
    response = client.post("/e/secret.example", data="/pricing", **browser)
    assert response.status_code == 204
    [page] = [k for k in store.iter_counters(namespace="secret.example") if k.key != "site"]
    path = f"{page.namespace}/{page.key}"
    # Not found without the site's key, totals included: nothing counts or changes either.
    for route in (
        f"/info/{path}",
        f"/api/v1/counters/{path}",
        f"/get/{path}",
        f"/hit/{path}",
        f"/count/{path}",
        f"/update/{path}?amount=1",
        f"/set/{path}?value=0",
        f"/badge/{path}.svg",
        f"/badge/{path}.json",
        f"/i/{path}.gif",
    ):
        response = client.get(route)
        assert response.status_code == 404, route
        assert b"value" not in response.content, route
    assert client.get(f"/get/{path}", HTTP_AUTHORIZATION="Bearer wrong-key").status_code == 404
    assert store.total(page) == 1
    assert client.get("/get/secret.example/site").json() == {"value": 1}  # the site's: public
    dashboard = client.get(f"/d/{path}")
    assert _template(dashboard) == "counter/locked.html"
    assert b"/pricing" not in dashboard.content
    # The site's owner unlocks it with the site's key, and may change it; nobody else may.
    auth = {"HTTP_AUTHORIZATION": f"Bearer {admin_key}"}
    assert client.get(f"/get/{path}", **auth).json() == {"value": 1}
    assert client.get(f"/info/{path}", **auth).status_code == 200
    assert client.get(f"/reset/{path}", **auth).status_code == 200
    client.post(f"/d/{path}/unlock", {"admin_key": admin_key})
    assert _template(client.get(f"/d/{path}")) == "counter/dashboard.html"


GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)


@pytest.mark.parametrize(
    ("agent", "counted"),
    [
        ("", False),
        ("   ", False),
        ("curl/8.5.0", True),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", False),
        ("xcurl/1.0 (compatible; Googlebot/2.1)", False),  # not curl: a whole name only
        ("Googlebot/2.1 NotGoogleImageProxy", False),
        (
            GMAIL_PROXY,
            True,
        ),
        ("github-camo (876de43e)", True),
    ],
)
def test_who_counts_by_user_agent(client, agent, counted):
    before = store.total(Counter("uax", "test")) or 0
    client.get("/hit/uax/test", HTTP_USER_AGENT=agent)
    assert (store.total(Counter("uax", "test")) or 0) - before == int(counted)


def test_an_anonymous_update_by_a_crawler_changes_nothing(client):
    client.get("/create", {"namespace": "uax", "key": "updated"})
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    response = client.get("/update/uax/updated", {"amount": 1}, HTTP_USER_AGENT=bot)
    assert response.json() == {"value": 0}
    person = client.get("/update/uax/updated", {"amount": 1}, HTTP_USER_AGENT="curl/8.5.0")
    assert person.json() == {"value": 1}


def test_create_takes_a_json_body(client):
    response = client.post(
        "/create",
        data='{"namespace": "json", "key": "body", "value": 5}',
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["value"] == 5
    assert store.total(Counter("json", "body")) == 5


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"--x\r\nbroken", "multipart/form-data", 400),  # no boundary
        (  # cut short: no closing boundary
            b'--XX\r\nContent-Disposition: form-data; name="namespace"\r\n\r\nbroken',
            "multipart/form-data; boundary=XX",
            400,
        ),
        (b"namespace=x&key=y", "text/plain", 415),
        (b"<xml/>", "application/xml", 415),
    ],
)
def test_bad_bodies_get_a_json_4xx(client, body, content_type, status):
    response = client.generic("POST", "/create", body, content_type=content_type)
    assert response.status_code == status
    assert "error" in response.json()
    assert list(store.iter_counters()) == []


def test_a_body_over_djangos_own_limit_is_a_json_413(client, settings):
    # Under the route's limit, over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's last line refuses
    # it once read, answered as the API answers.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/create", data=b"x=" + b"a" * 5000, content_type="text/plain")
    assert response.status_code == 413
    assert "too large" in response.json()["error"]


@pytest.mark.parametrize(
    "path", ["/count/rlx/ccc", "/hit/rlx/ccc", "/badge/rlx/ccc.svg", "/i/rlx/ccc.gif", "/count"]
)
def test_every_counting_route_honours_the_hit_rate_limit(client, settings, path):
    settings.HIT_RATE_LIMIT = (3, 60)
    for _ in range(3):
        assert client.get(path, REMOTE_ADDR="203.0.113.5").status_code == 200
    refused = client.get(path, REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert client.get(path, REMOTE_ADDR="203.0.113.6").status_code == 200  # someone else
    counter = Counter("default", "visitor_count") if path == "/count" else Counter("rlx", "ccc")
    assert store.total(counter) == 4


def test_the_page_script_and_anonymous_updates_are_limited_too(client, settings):
    settings.HIT_RATE_LIMIT = (2, 60)
    view = {"data": "/a", "content_type": "text/plain", "REMOTE_ADDR": "203.0.113.5"}
    statuses = [client.post("/e/rl.example", **view).status_code for _ in range(3)]
    assert statuses == [204, 204, 429]
    assert store.total(Counter("rl.example", "site")) == 2
    client.get("/create", {"namespace": "rlx", "key": "upd"})
    updates = [
        client.get("/update/rlx/upd", {"amount": 1}, REMOTE_ADDR="203.0.113.5").status_code
        for _ in range(3)
    ]
    assert updates == [200, 200, 429]


def test_new_counters_by_first_hits_are_limited_per_client(client, settings):
    settings.NEW_COUNTER_RATE_LIMIT = (3, 3600)
    me = {"REMOTE_ADDR": "203.0.113.5"}
    paths = ["/hit/new/aaa", "/count/new/bbb", "/badge/new/ccc.svg"]
    assert [client.get(p, **me).status_code for p in paths] == [200, 200, 200]
    refused = client.get("/i/new/ddd.gif", **me)
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert store.total(Counter("new", "ddd")) is None  # made, then taken back: no key left
    assert client.get("/hit/new/aaa", **me).json() == {"value": 2}  # existing ones still count
    beacon = client.post("/e/new.example", data="/", content_type="text/plain", **me)
    assert beacon.status_code == 429
    assert store.total(Counter("new.example", "site")) is None
    assert list(store.iter_counters(namespace="new.example")) == []
    assert client.get("/hit/new/eee", REMOTE_ADDR="203.0.113.6").status_code == 200


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html; curl)",
        "Mozilla/5.0 (compatible; bingbot/2.0; xh)",
        "HeadlessChrome/120 axios",
    ],
)
def test_a_crawler_does_not_pass_by_naming_an_allowed_tool_later(client, agent):
    client.get("/hit/uax/sneaky", HTTP_USER_AGENT=agent)
    assert store.total(Counter("uax", "sneaky")) is None


def test_a_bad_host_is_a_400_without_a_logged_traceback(client, caplog):
    import logging

    caplog.set_level(logging.ERROR, logger="visitorsite.request")
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.name == "visitorsite.request"]


def test_a_private_badges_json_refusal_is_json(client):
    _private(client, key="json")
    response = client.get("/badge/secret.example/json.json?value=today")
    assert response.status_code == 403
    assert "private" in response.json()["error"]
