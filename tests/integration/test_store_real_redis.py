"""The store on a real redis-server: key layout, atomic increments, reset."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from counter import store
from counter.names import SEED_COUNTER, Counter
from counter.store.connection import current, send

pytestmark = pytest.mark.real_redis


def test_every_key_of_a_counter_carries_its_hash_tag(real_store):
    from datetime import UTC, datetime, timedelta

    first = datetime(2026, 3, 10, 12, tzinfo=UTC)
    store.hit(SEED_COUNTER, visitor_id="v1", now=first)
    store.hit(SEED_COUNTER, visitor_id="v1", now=first + timedelta(days=1))  # settles day one
    store.bot_hit(SEED_COUNTER)
    prefix = b"visitorsite:1:c:{default/visitor_count}:"
    keys = real_store.client().keys("*")
    assert all(key.startswith(prefix) for key in keys)
    fields = {key.removeprefix(prefix) for key in keys}
    assert fields == {b"n", b"d", b"du", b"uv", b"u:20260310", b"u:20260311", b"b", b"m", b"r"}


def test_concurrent_hits_are_exact(real_store, settings):
    settings.HIT_RATE_LIMIT = None  # one visitor, 800 hits: atomicity, not the rate limit
    counter = Counter("site", "busy")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.hit(counter, visitor_id="v").total, range(800)))
    assert sorted(results) == list(range(1, 801))
    assert store.total(counter) == 800


def test_reset_returns_the_old_total(real_store):
    for _ in range(5):
        store.hit(SEED_COUNTER, visitor_id="v")
    assert store.reset(SEED_COUNTER, value=100) == 5
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 101


def _clients(server) -> list[dict]:
    return [c for c in server.client().client_list() if c["cmd"] != "client|list"]


def test_a_connection_redis_closed_is_replaced_before_the_hit(real_store):
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 1
    killed = real_store.client().client_kill_filter(_type="normal", skipme=True)
    assert killed >= 1  # the thread's own connection among them
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 2  # no 503 for this one


def test_a_command_longer_than_the_socket_buffer_is_written_whole(real_store):
    # Far more than a socket's send buffer: the kernel takes it in parts, all of which go out.
    value = bytes(range(256)) * (8 * 1024 * 1024 // 256)
    assert send(current(), "SET", "long", value) == b"OK"
    assert real_store.client().get("long") == value
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 1  # the connection is in step


def _connection_id(connection) -> str:
    connection.send_command("CLIENT", "ID")
    return str(connection.read_response())


def _gone(server, connection_id: str) -> bool:
    """Whether the server has seen that connection close (it notices at once)."""
    deadline = time.monotonic() + 2
    while any(c["id"] == connection_id for c in _clients(server)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _next_connection():
    """The connection the next hit will be lent: the pool's most recently given back."""
    pool = current().pool
    connection = pool.get_connection()
    pool.release(connection)
    return connection


def test_a_write_that_fails_is_unavailable_and_the_next_hit_counts(real_store, monkeypatch):
    import redis

    store.hit(SEED_COUNTER, visitor_id="v")
    connection = _next_connection()
    before = _connection_id(connection)

    def closed(*args, **kwargs):  # Redis went away between the pool's check and the write
        raise redis.ConnectionError("Error 32 while writing to socket. Broken pipe.")

    monkeypatch.setattr(connection, "send_packed_command", closed)
    with pytest.raises(store.StoreUnavailable):
        store.hit(SEED_COUNTER, visitor_id="v")
    assert _gone(real_store, before)  # closed before it went back
    monkeypatch.undo()
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 2


def test_a_health_check_that_reconnects_sends_the_hit_on_the_new_socket(real_store, monkeypatch):
    store.hit(SEED_COUNTER, visitor_id="v")
    connection = _next_connection()
    before = {c["id"] for c in _clients(real_store)}

    def ping_failed_and_reconnected():  # what redis-py's check_health does on a failed PING
        monkeypatch.undo()  # once (connecting checks health too)
        connection.disconnect()
        connection.connect()

    monkeypatch.setattr(connection, "check_health", ping_failed_and_reconnected)
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 2
    hit_by = [c["id"] for c in _clients(real_store) if c["cmd"] == "evalsha"]
    assert hit_by
    assert hit_by[0] not in before  # the new connection sent it


def test_connections_are_as_many_as_hits_in_flight_not_threads(real_store, settings):
    settings.HIT_RATE_LIMIT = None  # many hits of one visitor
    import gc
    import threading

    def hitting() -> int:  # the store's connections: their last command was a hit
        return sum(c["cmd"] == "evalsha" for c in _clients(real_store))

    store.hit(SEED_COUNTER, visitor_id="v")
    gc.collect()  # earlier tests' stores (settings changes) close their connections
    before = hitting()
    # Ten live threads (gevent: greenlets, one per client connection) taking turns: each
    # takes the idle connection and gives it back, so they share one.
    turns = [threading.Event() for _ in range(11)]
    finished = threading.Event()

    def client(turn: int) -> None:
        turns[turn].wait()
        for _ in range(5):
            store.hit(SEED_COUNTER, visitor_id="v")
        turns[turn + 1].set()
        finished.wait()

    threads = [threading.Thread(target=client, args=(turn,), daemon=True) for turn in range(10)]
    for thread in threads:
        thread.start()
    try:
        turns[0].set()
        assert turns[10].wait(10)
        assert hitting() == before
    finally:
        finished.set()
    # Eight at once need up to eight; they stay for the next requests.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: store.hit(SEED_COUNTER, visitor_id="v"), range(400)))
    after = hitting()
    assert after <= before + 7
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: store.hit(SEED_COUNTER, visitor_id="v"), range(400)))
    assert hitting() == after
    assert store.total(SEED_COUNTER) == 851


def test_a_connection_that_fails_mid_answer_is_closed_not_reused(real_store, monkeypatch):
    import redis

    store.hit(SEED_COUNTER, visitor_id="v")
    connection = _next_connection()
    before = _connection_id(connection)

    def cut(*args, **kwargs):
        raise redis.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(connection, "read_response", cut)
    with pytest.raises(store.StoreUnavailable):
        store.hit(SEED_COUNTER, visitor_id="v")
    assert _gone(real_store, before)  # its socket closed: never read again mid-answer
    monkeypatch.undo()
    # The hit may or may not have been counted before the answer was lost; the next is exact.
    assert store.hit(SEED_COUNTER, visitor_id="v").total == store.total(SEED_COUNTER)


def test_a_forked_child_counts_on_its_own_connection(real_store):
    import os

    store.hit(SEED_COUNTER, visitor_id="v")
    pid = os.fork()
    if pid == 0:  # the child: its own connection, and it leaves the parent's alone on exit
        try:
            code = 0 if store.hit(SEED_COUNTER, visitor_id="v").total == 2 else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 3  # the parent's socket still works


def test_connections_are_capped_by_the_pool(real_store):
    import redis

    store.hit(SEED_COUNTER, visitor_id="v")
    pool = current().pool
    assert pool is current().client.connection_pool  # redis-py's own, not one beside it
    limit, pool.max_connections = pool.max_connections, 1
    taken = []
    try:
        while True:  # every connection the pool has, in use
            try:
                taken.append(pool.get_connection())
            except redis.ConnectionError as exc:
                assert "Too many connections" in str(exc)  # noqa: PT017
                break
        assert taken
        with pytest.raises(store.StoreUnavailable, match="Too many connections"):
            store.hit(SEED_COUNTER, visitor_id="v")  # fails fast, opens nothing
        for connection in taken:
            pool.release(connection)
        assert store.hit(SEED_COUNTER, visitor_id="v").total == 2
    finally:
        pool.max_connections = limit


def test_the_pools_disconnect_reaches_the_hit_paths_connections(real_store):
    store.hit(SEED_COUNTER, visitor_id="v")
    assert any(c["cmd"] == "evalsha" for c in _clients(real_store))
    current().pool.disconnect()  # what a re-auth, a failover or a test's flush relies on
    assert not any(c["cmd"] == "evalsha" for c in _clients(real_store))
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 2
