from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

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


def test_never_hit_counter_reports_zero_before():
    assert _run("fresh", "--value", "5") == "default/fresh: 0 -> 5"


@pytest.mark.parametrize("bad", ["a b", "{x}", "a:b", "x" * 65, "a/b/c"])
def test_bad_counter_name_is_a_clear_error(bad):
    with pytest.raises(CommandError, match="invalid"):
        _run(bad)


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
