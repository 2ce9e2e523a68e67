"""Abuse that used to end in a 500: totals past 2^53 - 1, a server out of memory. On fakeredis
and on a real server (the OOM refusal only exists on a real one)."""

import json

import pytest

from counter import store
from counter.names import Counter
from counter.store.connection import get_client
from counter.store.keys import counter_key
from tests.servers import RedisServer

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
BIG = Counter("big", "numbers")
LIMIT = 2**53 - 1


def _created(client) -> str:
    response = client.get("/create", {"namespace": "big", "key": "numbers", "value": LIMIT - 1})
    assert response.status_code == 200, response.content
    return response["X-Admin-Key"]


def test_a_hit_at_the_largest_total_is_a_409_and_changes_nothing(any_store, client):
    _created(client)
    assert client.get("/hit/big/numbers", HTTP_USER_AGENT=BROWSER).json() == {"value": LIMIT}
    for path in ("/hit/big/numbers", "/count/big/numbers", "/badge/big/numbers.svg"):
        response = client.get(path, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 409, (path, response.content)
        assert str(LIMIT) in response.content.decode()
    assert store.total(BIG) == LIMIT


def test_a_total_stored_past_the_limit_is_a_4xx_and_kept_exact(any_store, client):
    """Old data, or a total written by hand: up to Redis' own largest integer, 2^63 - 1."""
    admin_key = _created(client)
    for stored in (2**63 - 1, 2**60):
        get_client().set(counter_key(BIG, "n"), stored)
        for path in ("/hit/big/numbers", "/count/big/numbers", "/i/big/numbers.gif"):
            response = client.get(path, HTTP_USER_AGENT=BROWSER)
            assert response.status_code == 409, (path, stored, response.content)
        assert client.get("/hit/big/numbers", HTTP_USER_AGENT="Googlebot/2.1").json() == {
            "value": stored
        }
        assert client.get("/update/big/numbers?amount=1").status_code == 400
        assert store.total(BIG) == stored
    auth = {"HTTP_AUTHORIZATION": f"Bearer {admin_key}"}
    response = client.get("/set/big/numbers?value=5", **auth)
    assert response.json() == {"old_value": 2**60, "value": 5}


@pytest.mark.parametrize("value", [str(LIMIT + 1), str(-LIMIT - 1), "99999999999999999999"])
def test_set_and_create_refuse_values_past_the_limit(any_store, client, value):
    admin_key = _created(client)
    response = client.get(
        "/set/big/numbers", {"value": value}, HTTP_AUTHORIZATION=f"Bearer {admin_key}"
    )
    assert response.status_code == 400
    assert store.total(BIG) == LIMIT - 1
    response = client.get("/create", {"namespace": "big", "key": "other", "value": value})
    assert response.status_code == 400
    assert "error" in json.loads(response.content)


def test_update_past_the_limit_is_a_400_naming_it(any_store, client):
    admin_key = _created(client)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {admin_key}"}
    response = client.get("/update/big/numbers", {"amount": 5}, **auth)
    assert response.status_code == 400
    assert str(LIMIT) in response.json()["error"]
    assert store.total(BIG) == LIMIT - 1
    assert client.get("/update/big/numbers", {"amount": 1}, **auth).json() == {"value": LIMIT}


def test_import_refuses_totals_past_the_limit(any_store):
    from counter.domain.backup_format import BackupError, parse_line

    line = json.dumps({"namespace": "big", "key": "numbers", "total": LIMIT + 1})
    with pytest.raises(BackupError, match=str(LIMIT)):
        parse_line(line)
    store.reset(BIG, value=LIMIT - 1, create=True)
    counter, data = parse_line(json.dumps({"namespace": "big", "key": "numbers", "total": 2}))
    with pytest.raises(ValueError, match=str(LIMIT)):
        store.import_counter(counter, data, replace=False)
    assert store.total(BIG) == LIMIT - 1


@pytest.mark.real_redis
def test_out_of_memory_is_a_503_with_retry_after_everywhere(tmp_path, point_store_at, client):
    server = RedisServer(tmp_path / "oom", args=("--maxmemory-policy", "noeviction")).start()
    try:
        point_store_at(server.url)
        assert client.get("/readyz").status_code == 200
        assert client.get("/count", HTTP_USER_AGENT=BROWSER).status_code == 200
        used = server.client().info("memory")["used_memory"]
        server.client().config_set("maxmemory", used // 2)  # every write refused from now
        for path in ("/count", "/hit/aaa/bbb", "/badge/aaa/bbb.svg", "/i/aaa/bbb.gif", "/readyz"):
            response = client.get(path, HTTP_USER_AGENT=BROWSER)
            assert response.status_code == 503, (path, response.content)
            assert int(response["Retry-After"]) > 0, path
        response = client.get("/create", {"namespace": "oom", "key": "new"})
        assert response.status_code == 503
        server.client().config_set("maxmemory", 0)
        assert client.get("/readyz").status_code == 200
        assert client.get("/count", HTTP_USER_AGENT=BROWSER).content == b"Visitor count: 2"
    finally:
        server.stop()
