"""The gevent worker's limits (visitorsite/connection_limits.py): settings read from the
environment, how client addresses are grouped and counted, and the worker's own answers."""

import json
import re
import subprocess
import sys

import pytest

from tests.servers import REPO
from visitorsite.connection_limits import (
    INCOMPLETE,
    LATE,
    MALFORMED,
    TOO_LARGE,
    TOO_MANY,
    UNKNOWN_CODING,
    AddressCount,
    ConnectionLimits,
    address_group,
)
from visitorsite.environment import env_networks


def test_the_defaults_hold_when_nothing_is_set():
    limits = ConnectionLimits.from_environ({})
    assert limits == ConnectionLimits(
        request_deadline=10.0, max_body_bytes=65536, connections_per_address=256
    )


def test_each_setting_is_read_from_its_variable():
    limits = ConnectionLimits.from_environ(
        {"REQUEST_DEADLINE": "2.5", "MAX_BODY_BYTES": "4096", "CONNECTIONS_PER_ADDRESS": " 9 "}
    )
    assert limits == ConnectionLimits(2.5, 4096, 9)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REQUEST_DEADLINE", "soon", "REQUEST_DEADLINE='soon' is not a number"),
        ("REQUEST_DEADLINE", "0", "REQUEST_DEADLINE must be a positive number"),
        ("REQUEST_DEADLINE", "nan", "REQUEST_DEADLINE must be a positive number"),
        ("REQUEST_DEADLINE", "inf", "REQUEST_DEADLINE must be a positive number"),
        ("MAX_BODY_BYTES", "64k", "MAX_BODY_BYTES must be a whole number, got '64k'"),
        ("CONNECTIONS_PER_ADDRESS", "0", "CONNECTIONS_PER_ADDRESS must be 1 or more, got '0'"),
    ],
)
def test_a_bad_value_is_named_with_what_is_wrong(name, value, message):
    with pytest.raises(match=re.escape(message)):
        ConnectionLimits.from_environ({name: value})


def test_trusted_proxies_are_checked_as_the_settings_check_them():
    proxies = {"TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"}
    assert env_networks("TRUSTED_PROXIES", environ=proxies) == ["10.0.0.1", "192.168.0.0/16"]
    with pytest.raises(match=re.escape("'proxy.local' is not an address")):
        env_networks("TRUSTED_PROXIES", environ={"TRUSTED_PROXIES": "proxy.local"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REQUEST_DEADLINE", "-1", "REQUEST_DEADLINE must be a positive number, got '-1'"),
        ("WEB_CONCURRENCY", "two", "WEB_CONCURRENCY must be a whole number, got 'two'"),
        ("WEB_THREADS", "0", "WEB_THREADS must be 1 or more, got '0'"),
        ("WEB_TIMEOUT", "2.5", "WEB_TIMEOUT must be a whole number, got '2.5'"),
        ("WEB_GRACEFUL_TIMEOUT", "-1", "WEB_GRACEFUL_TIMEOUT must be 0 or more, got '-1'"),
    ],
)
def test_gunicorn_refuses_to_start_on_a_bad_value_with_a_clear_message(name, value, message):
    result = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"],
        env={"WEB_WORKER_CLASS": "sync", name: value, "PATH": ""},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith(f"visitorsite: {message}")


@pytest.mark.parametrize(
    ("peer", "group"),
    [
        (("203.0.113.7", 50000), "203.0.113.7"),
        (("2001:db8:1:2:aaaa::1", 50000, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff:ffff:ffff:ffff", 1, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:3::1", 1, 0, 0), "2001:db8:1:3::/64"),
        (("::ffff:198.51.100.1", 1, 0, 0), "198.51.100.1"),
        (("fe80::1%eth0", 1, 0, 2), "fe80::/64"),
        ("", None),  # a Unix socket's peer
        (b"", None),
    ],
)
def test_an_ipv6_client_is_one_address_per_64(peer, group):
    assert address_group(peer) == group


def test_the_count_refuses_past_the_cap_and_forgets_what_was_given_back():
    count = AddressCount(cap=2)
    assert count.take("a")
    assert count.take("a")
    assert not count.take("a")
    assert count.take("b")  # another address has its own share
    count.give_back("a")
    assert count.take("a")
    for group in ("a", "a", "b"):
        count.give_back(group)
    assert count.held == {}  # no entry left behind for an address gone


@pytest.mark.parametrize("refusal", [LATE, TOO_LARGE, INCOMPLETE, MALFORMED, TOO_MANY])
def test_the_workers_answers_are_short_plain_text_that_close(refusal):
    head, _, body = refusal.answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == f"HTTP/1.1 {refusal.status} {refusal.reason}"
    fields = dict(line.split(": ", 1) for line in lines[1:])
    assert fields["Connection"] == "close"
    assert fields["Content-Type"] == "text/plain; charset=utf-8"
    assert int(fields["Content-Length"]) == len(body) < 64
    assert ("Retry-After" in fields) == (refusal.status == 429)


def _parsed(answer: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    return status, dict(line.split(": ", 1) for line in lines), body


@pytest.mark.parametrize(
    "refusal", [LATE, TOO_LARGE, INCOMPLETE, MALFORMED, UNKNOWN_CODING, TOO_MANY]
)
def test_on_the_apis_paths_the_workers_answers_are_json_as_the_apis_errors(refusal):
    """docs/API.md: the API's errors are always JSON, the worker's own included."""
    for path in ("/api/v1/counters/blog/site", "/hit/blog/home?x=1", "/create", "/%61pi/v1/x"):
        status, fields, body = _parsed(refusal.answer_to(path))
        assert status == f"HTTP/1.1 {refusal.status} {refusal.reason}"
        assert fields["Content-Type"] == "application/json"
        assert fields["Connection"] == "close"
        assert int(fields["Content-Length"]) == len(body)
        assert json.loads(body) == {"error": refusal.text}
        assert fields.get("Retry-After") == (None if refusal.retry_after is None else "10")
    for path in ("/e/blog.example", "/count/blog/home", "/new", "/", None):  # elsewhere: text
        assert refusal.answer_to(path) == refusal.answer


def test_the_worker_and_the_app_share_one_rule_for_the_apis_paths(rf):
    """counter.names.is_api_path decides for both (the worker imports no Django)."""
    from counter.names import is_api_path
    from counter.web.responses import answer_format

    for path in ("/api/v1/counters/a/b", "/hit/a/b", "/stats", "/count/a/b", "/e/a", "/d/a/b"):
        assert (answer_format(rf.get(path)) == "json") == is_api_path(path)
    code = "import sys, counter.names; print('django' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert run.stdout.strip() == "False", run.stderr
