from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_redis import get_redis_connection

from counter import store
from counter.names import SEED_COUNTER, Counter


def _run(*args) -> str:
    out = StringIO()
    call_command("reset_count", *args, stdout=out)
    return out.getvalue().strip()


def test_resets_the_seed_counter_and_prints_old_and_new():
    for _ in range(3):
        store.hit(SEED_COUNTER, visitor_id="v")
    assert _run() == "default/visitor_count: 3 -> 0"
    assert store.total(SEED_COUNTER) == 0
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 1


def test_resets_another_counter_to_a_value():
    other = Counter("site", "home")
    store.hit(other, visitor_id="v")
    assert _run("site/home", "--value", "41") == "site/home: 1 -> 41"
    assert store.hit(other, visitor_id="v").total == 42
    assert store.total(SEED_COUNTER) is None


def _no_keys() -> bool:
    return get_redis_connection().dbsize() == 0


def test_a_counter_that_does_not_exist_is_refused_and_not_made():
    with pytest.raises(CommandError) as refused:
        _run("mysite.com/visits")
    assert "no counter 'mysite.com/visits'" in str(refused.value)
    assert "--create" in str(refused.value)
    assert _no_keys()


def test_create_makes_a_counter_that_does_not_exist():
    assert _run("fresh", "--value", "5", "--create") == "default/fresh: created at 5"
    assert store.total(Counter("default", "fresh")) == 5
    assert "created" in store.info(Counter("default", "fresh")).meta


def test_create_on_an_existing_counter_resets_it():
    store.hit(Counter("site", "home"), visitor_id="v")
    assert _run("site/home", "--create") == "site/home: 1 -> 0"


def test_the_seeds_bare_reset_on_a_fresh_install_writes_nothing():
    """The seed page reads its counter as 0 before the first visit: nothing to reset."""
    assert _run() == "default/visitor_count: not visited yet, already at 0 (nothing to reset)"
    assert _no_keys()


def test_the_seed_counter_needs_create_for_a_value_before_its_first_visit():
    with pytest.raises(CommandError, match=r"no counter 'default/visitor_count'.*--create"):
        _run("--value", "1000")
    assert _no_keys()
    assert _run("--value", "1000", "--create") == "default/visitor_count: created at 1000"


@pytest.mark.parametrize("bad", ["a b", "{x}", "a:b", "x" * 65, "a/b/c"])
def test_bad_counter_name_is_a_clear_error(bad):
    with pytest.raises(CommandError, match="invalid"):
        _run(bad)


def test_a_name_of_too_many_parts_is_named_whole():
    with pytest.raises(CommandError) as refused:
        _run("a/b/c")
    message = str(refused.value)
    assert message.startswith("invalid counter name 'a/b/c': 3 parts")
    assert "'b/c'" not in message


def test_a_reset_starts_the_history_over(client, day):
    """After a reset no day shows more hits than the total (it showed today's 8 for a total
    of 1): the history, uniques and bot hits are cleared with the total."""
    counter = Counter("site", "home")
    for visitor in "abcdefgh":
        store.hit(counter, visitor_id=visitor)
    store.bot_hit(counter)
    assert _run("site/home") == "site/home: 8 -> 0"
    store.hit(counter, visitor_id="a")
    shown = client.get("/api/v1/counters/site/home").json()
    assert (shown["total"], shown["today"]["hits"], shown["bots"]) == (1, 1, 0)
    after = store.stats(counter, days=7)
    assert (after.total, after.bots, after.unique_visitor_days) == (1, 0, 1)
    assert (after.today.hits, after.today.uniques) == (1, 1)
    assert sum(d.hits for d in after.days) == 1


def test_negative_value_is_refused():
    with pytest.raises(CommandError, match="0 or more"):
        _run("--value", "-1")


def test_a_short_name_of_an_earlier_version_can_still_be_reset(client):
    """Names of 1-2 characters were valid before CountAPI's rule: the commands reach them."""
    short = Counter("ab", "c")
    store.hit(short, visitor_id="v")  # stored as an earlier version did
    assert client.get("/get/ab/c").status_code == 400
    assert _run("ab/c", "--value", "7") == "ab/c: 1 -> 7"
    assert store.total(short) == 7
