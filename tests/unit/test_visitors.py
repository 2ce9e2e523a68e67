"""Visitor identity without cookies or stored IPs; bots; proxies; salt rotation."""

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory

from counter import store
from counter.domain import visitors
from counter.names import Counter
from counter.store.connection import get_client
from counter.store.keys import salt_key

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SITE = Counter("site", "home")


def _request(ip="203.0.113.9", ua=CHROME, method="get", **headers):
    factory = RequestFactory()
    return getattr(factory, method)("/count", REMOTE_ADDR=ip, HTTP_USER_AGENT=ua, **headers)


@pytest.fixture(autouse=True)
def _fresh_salts():
    visitors._salts.clear()
    yield
    visitors._salts.clear()


def test_same_visitor_same_day_same_id_and_no_raw_data(day):
    first = visitors.identify(_request(), namespace="site")
    second = visitors.identify(_request(), namespace="site")
    assert first == second
    assert len(first.id) == 16
    assert "203.0.113.9" not in first.id


def test_id_depends_on_ip_user_agent_and_namespace(day):
    base = visitors.identify(_request(), namespace="site").id
    assert visitors.identify(_request(ip="203.0.113.10"), namespace="site").id != base
    assert visitors.identify(_request(ua=CHROME + " x"), namespace="site").id != base
    assert visitors.identify(_request(), namespace="other").id != base


def test_daily_rotation_changes_the_id_next_day(day):
    first = visitors.identify(_request(), namespace="site").id
    day.set(day.current + timedelta(days=1))
    assert visitors.identify(_request(), namespace="site").id != first


def test_monthly_rotation_keeps_the_id_within_the_month(day, settings):
    settings.VISITOR_SALT_ROTATION = "monthly"
    day.set(datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC))
    first = visitors.identify(_request(), namespace="site").id
    day.set(datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    assert visitors.identify(_request(), namespace="site").id == first
    day.set(datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC))
    assert visitors.identify(_request(), namespace="site").id != first


def test_salt_is_shared_through_redis_between_processes(day):
    first = visitors.identify(_request(), namespace="site").id
    visitors._salts.clear()  # another worker: empty memory, same Redis
    assert visitors.identify(_request(), namespace="site").id == first


def test_salt_expires_shortly_after_its_day(day):
    visitors.identify(_request(), namespace="site")
    ttl = get_client().ttl(salt_key("d20260310"))
    assert 12 * 3600 < ttl <= 12 * 3600 + 600  # noon now: the rest of the day plus grace


def test_same_visitor_on_two_days_is_two_visitor_days(day):
    for _ in range(3):
        store.hit(SITE, visitor_id=visitors.identify(_request(), namespace="site").id)
    day.set(day.current + timedelta(days=1))
    store.hit(SITE, visitor_id=visitors.identify(_request(), namespace="site").id)
    stats = store.stats(SITE, days=2)
    assert [d.uniques for d in stats.days] == [1, 1]
    assert stats.unique_visitor_days == 2


def test_same_visitor_across_a_month_is_one_unique_with_monthly_rotation(day, settings):
    settings.VISITOR_SALT_ROTATION = "monthly"
    for offset in range(30):
        day.set(datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(days=offset))
        store.hit(SITE, visitor_id=visitors.identify(_request(), namespace="site").id)
    stats = store.stats(SITE, days=30)
    assert stats.uniques == 1
    assert stats.unique_visitor_days == 30


@pytest.mark.parametrize(
    "ua", [GOOGLEBOT, "Mozilla/5.0 (compatible; bingbot/2.0)", "HeadlessChrome/120"]
)
def test_crawlers_are_bots(ua):
    assert visitors.is_bot(ua)


@pytest.mark.parametrize(
    "ua",
    [CHROME, "curl/8.5.0", "python-requests/2.32", "Python-urllib/3.11", "github-camo (876de43e)"],
)
def test_people_and_the_tools_they_use_are_not_bots(ua):
    assert not visitors.is_bot(ua)


def test_bot_visitor_has_no_id(day):
    assert visitors.identify(_request(ua=GOOGLEBOT), namespace="site") == visitors.Visitor("", True)


@pytest.mark.parametrize(
    ("method", "headers", "counted"),
    [
        ("get", {}, True),
        ("head", {}, False),
        ("get", {"HTTP_SEC_PURPOSE": "prefetch"}, False),
        ("get", {"HTTP_SEC_PURPOSE": "prefetch;prerender"}, False),
        ("get", {"HTTP_PURPOSE": "prefetch"}, False),
        ("get", {"HTTP_X_MOZ": "prefetch"}, False),
    ],
)
def test_head_and_prefetch_do_not_count(method, headers, counted):
    assert visitors.should_count(_request(method=method, **headers)) is counted


def test_forwarded_for_is_ignored_without_trusted_proxies():
    request = _request(ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert visitors.client_ip(request) == "10.0.0.1"


def test_forwarded_for_from_a_trusted_proxy_gives_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = _request(ip="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7, 10.0.0.2")
    assert visitors.client_ip(request) == "198.51.100.7"  # nearest untrusted hop, not a forgery


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = _request(ip="198.51.100.99", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert visitors.client_ip(request) == "198.51.100.99"


def test_garbage_forwarded_for_falls_back_to_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = _request(ip="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip\r\nX: y")
    assert visitors.client_ip(request) == "10.0.0.1"


def test_forwarded_ipv6_spellings_are_one_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    spellings = ["2001:db8:0:0:0:0:0:1", "2001:DB8::1", " 2001:db8::0:1 "]
    seen = {
        visitors.client_ip(_request(ip="10.0.0.1", HTTP_X_FORWARDED_FOR=spelling))
        for spelling in spellings
    }
    assert seen == {"2001:db8::1"}


def test_forwarded_hops_are_read_like_ipaddress_reads_them(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.128/25", "fd00::/8"]
    networks = [ipaddress.ip_network(proxy) for proxy in settings.TRUSTED_PROXIES]

    def expected(hop: str) -> str:
        try:
            ip = ipaddress.ip_address(hop.strip())
        except ValueError:
            return "10.0.0.1"  # not an address: the proxy itself
        return "10.0.0.1" if any(ip in net for net in networks) else str(ip)

    hops = ["192.0.2.127", "192.0.2.128", "192.0.2.255", "10.255.255.255", "11.0.0.0",
            "01.2.3.4", "1.2.3", "256.1.1.1", "0x1.2.3.4", "::ffff:1.2.3.4", "fd12::1",
            "FE80::1", "2001:db8::", "", " 8.8.8.8 "]  # fmt: skip
    for hop in hops:
        got = visitors.client_ip(_request(ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{hop}, 10.1.1.1"))
        assert got == expected(hop), hop


def test_an_ipv6_proxy_is_trusted_and_a_settings_change_is_seen(settings):
    settings.TRUSTED_PROXIES = ["fd00::/8"]
    request = _request(ip="fd00::2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert visitors.client_ip(request) == "203.0.113.9"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert visitors.client_ip(request) == "fd00::2"
