"""Under gevent, commands sent at the same moment share one round trip (counter.store.connection).

gunicorn's gevent worker patches the standard library, and the store sends together what its
requests send at once. Here the greenlets run unpatched, in the test's own thread, so that each
test decides who runs when: the sending greenlet's writes and reads block the thread, which
changes nothing for the greenlets waiting on its batch. The whole path under a real gevent
worker is tested end to end (tests/e2e, tests/reliability: exact totals under concurrency).
"""

import gevent
import pytest
import redis

from counter import store
from counter.names import Counter
from counter.store import connection
from counter.store.connection import current, send

pytestmark = pytest.mark.real_redis


@pytest.fixture
def together(real_store, settings, monkeypatch):
    """The store as a gevent worker has it (commands sent together), with the pool's checkouts
    counted: one per round trip."""
    settings.HIT_RATE_LIMIT = None
    settings.ADDRESS_HIT_RATE_LIMIT = None
    backend = current()
    monkeypatch.setattr(backend, "together", True)
    checkouts = []
    get_connection = backend.pool.get_connection

    def counted(*args, **kwargs):
        made = get_connection(*args, **kwargs)
        checkouts.append(made)
        return made

    monkeypatch.setattr(backend.pool, "get_connection", counted)
    return checkouts


def _at_once(*calls):
    """Run each call in a greenlet of its own, all started in the same turn; their outcomes
    (answer or exception) in order."""
    greenlets = [gevent.spawn(call) for call in calls]
    gevent.joinall(greenlets)
    return [g.value if g.successful() else g.exception for g in greenlets]


def _commands(server, name: str) -> int:
    stats = server.client().info("commandstats")
    return stats.get(f"cmdstat_{name}", {}).get("calls", 0)


def test_hits_at_the_same_moment_share_one_round_trip_and_stay_exact(together, real_store):
    counter = Counter("site", "busy")
    store.hit(Counter("site", "warm"), visitor_id="v")  # the script loaded, the salt read
    together.clear()
    evalsha = _commands(real_store, "evalsha")
    hits = _at_once(*[lambda i=i: store.hit(counter, visitor_id=f"v{i}") for i in range(20)])
    assert sorted(hit.total for hit in hits) == list(range(1, 21))
    assert [hit.total for hit in hits] == list(range(1, 21))  # in the order they were sent
    assert len(together) == 1  # one checkout, one write, for all twenty
    assert _commands(real_store, "evalsha") - evalsha == 20  # still one script run a hit
    assert store.total(counter) == 20


def test_a_batch_holds_at_most_batch_limit_commands(together, monkeypatch):
    monkeypatch.setattr(connection, "BATCH_LIMIT", 8)
    counter = Counter("site", "busy")
    store.hit(Counter("site", "warm"), visitor_id="v")
    together.clear()
    hits = _at_once(*[lambda i=i: store.hit(counter, visitor_id=f"v{i}") for i in range(20)])
    assert sorted(hit.total for hit in hits) == list(range(1, 21))
    assert len(together) == 3  # 8 + 8 + 4


def test_a_page_view_sends_its_two_hits_in_the_batch_side_by_side(together):
    site, page = Counter("blog", "site"), Counter("blog", "p.home")
    counter = Counter("site", "busy")
    store.hit_page(site, page, visitor_id="v0", path="/")  # the site's secret made and read
    together.clear()
    outcomes = _at_once(
        lambda: store.hit(counter, visitor_id="v1"),
        lambda: store.hit_page(site, page, visitor_id="v1", path="/"),
        lambda: store.hit(counter, visitor_id="v2"),
        lambda: store.hit_page(site, page, visitor_id="v2", path="/"),
    )
    assert [outcomes[0].total, outcomes[2].total] == [1, 2]
    assert [(s.total, p.total) for s, p in (outcomes[1], outcomes[3])] == [(2, 2), (3, 3)]
    assert len(together) == 1
    assert store.total(site) == store.total(page) == 3


def test_an_error_answer_goes_to_its_own_request_only(together, real_store):
    real_store.client().hset("a-hash", "field", 1)
    counter = Counter("site", "busy")
    store.hit(Counter("site", "warm"), visitor_id="v")
    together.clear()
    outcomes = _at_once(
        lambda: store.hit(counter, visitor_id="v1"),
        lambda: send(current(), "INCR", "a-hash"),  # WRONGTYPE: Redis answers an error
        lambda: store.hit(counter, visitor_id="v2"),
    )
    assert outcomes[0].total == 1
    assert isinstance(outcomes[1], redis.ResponseError)
    assert outcomes[2].total == 2
    assert len(together) == 1
    assert store.hit(counter, visitor_id="v3").total == 3  # the connection stayed in step


def test_a_script_redis_forgot_is_loaded_again_for_the_request_that_needs_it(together, real_store):
    counter = Counter("site", "busy")
    store.hit(counter, visitor_id="v0")
    real_store.client().script_flush()  # a restarted server: every hit's EVALSHA is NOSCRIPT
    hits = _at_once(*[lambda i=i: store.hit(counter, visitor_id=f"v{i}") for i in range(1, 6)])
    assert sorted(hit.total for hit in hits) == [2, 3, 4, 5, 6]
    assert store.total(counter) == 6


def test_a_connection_lost_mid_batch_fails_the_unanswered_and_the_next_batch_counts(
    together, real_store, monkeypatch
):
    counter = Counter("site", "busy")
    store.hit(counter, visitor_id="v0")
    pool = current().pool
    lent = pool.get_connection()
    pool.release(lent)  # the next batch is lent this one
    lent.send_command("CLIENT", "ID")
    lent_id = str(lent.read_response())
    read_response = lent.read_response
    answered = []

    def cut_after_the_first(*args, **kwargs):
        if answered:
            raise redis.ConnectionError("Connection closed by server.")
        answered.append(read_response(*args, **kwargs))
        return answered[-1]

    monkeypatch.setattr(lent, "read_response", cut_after_the_first)
    outcomes = _at_once(*[lambda i=i: store.hit(counter, visitor_id=f"v{i}") for i in range(1, 4)])
    assert outcomes[0].total == 2  # its answer came before the cut
    assert all(isinstance(outcome, store.StoreUnavailable) for outcome in outcomes[1:])
    monkeypatch.undo()
    listed = {c["id"] for c in real_store.client().client_list()}
    assert lent_id not in listed  # disconnected before it went back to the pool
    # Redis ran all three scripts (only the answers were lost): the next hit counts on top.
    assert store.hit(counter, visitor_id="v9").total == 5


def test_when_no_connection_can_be_had_every_request_of_the_batch_says_why(together, monkeypatch):
    def refused(*args, **kwargs):
        raise redis.ConnectionError("Too many connections")

    monkeypatch.setattr(current().pool, "get_connection", refused)
    counter = Counter("site", "busy")
    outcomes = _at_once(*[lambda i=i: store.hit(counter, visitor_id=f"v{i}") for i in range(3)])
    assert all(isinstance(outcome, store.StoreUnavailable) for outcome in outcomes)
    assert all("Too many connections" in str(outcome) for outcome in outcomes)
    monkeypatch.undo()
    assert store.total(counter) is None


def test_when_the_sending_request_is_stopped_the_others_are_told_redis_did_not_answer(
    together, real_store, monkeypatch
):
    def stopped(pool, commands):  # its greenlet killed as it was about to write
        raise gevent.GreenletExit

    monkeypatch.setattr(connection, "_exchange", stopped)
    counter = Counter("site", "busy")
    outcomes = _at_once(*[lambda i=i: store.hit(counter, visitor_id=f"v{i}") for i in range(3)])
    assert isinstance(outcomes[0], gevent.GreenletExit)  # the sender's own stop goes on up
    assert all(isinstance(outcome, store.StoreUnavailable) for outcome in outcomes[1:])
    monkeypatch.undo()
    assert store.total(counter) is None  # nothing was sent
    assert store.hit(counter, visitor_id="v4").total == 1  # and the next one is


def test_outside_gevent_each_command_is_its_own_round_trip(real_store):
    assert current().together is False  # the test process is not monkey-patched
    assert send(current(), "INCR", "n") == 1
