"""The dimensions' parsers: the beacon's body, referrer names, User-Agents, countries."""

import json
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counter.domain import dimension_values
from counter.domain.dimension_values import BadBeacon, Beacon, parse_beacon, referrer_name

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)


def _body(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_a_landing_beacon_keeps_the_referrers_host_and_the_campaign():
    sent = parse_beacon(_body(p="/a?b#c", r="WWW.News.Example.", s="newsletter", m="email", w="l"))
    assert sent == Beacon(
        path="/a?b", referrer="news.example", campaign="newsletter / email", width="l"
    )


def test_a_plain_path_is_the_first_scripts_page_view():
    assert parse_beacon(b"/old") == Beacon(path="/old", referrer="")
    with pytest.raises(BadBeacon, match="too long"):
        parse_beacon(b"/" * 5000)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not valid JSON"),
        (b'{"p": 1}', "p .* must be a string"),
        (b'{"e": ""}', "1 to 64"),
        (b'{"e": ["x"]}', "'e' must be a string, number"),
        (b'{"s": {"a": 1}}', "'s' must be a string, number"),
        (b'{"p": "/", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}", "'x' must be .* no nested"),
        (b'{"p": ' + b"{" * 1000, "'p' must be .* no nested"),
    ],
)
def test_bad_beacons_say_what_is_wrong(body, reason):
    with pytest.raises(BadBeacon, match=reason):
        parse_beacon(body)


def test_text_values_are_one_line_short_and_never_the_services_own():
    sent = parse_beacon(_body(e="(other)", s="a\nb\x00c " + "x" * 100))
    assert sent.event == "other)"
    assert sent.campaign == ("a b c " + "x" * 100)[:64]


@pytest.mark.parametrize("field", ["p", "r", "s", "m", "c", "e"])
def test_lone_surrogates_and_control_characters_are_not_kept(field):
    sent = parse_beacon(json.dumps({field: "/a\ud800b\x00c\udfff"}).encode())
    for value in (sent.path, sent.referrer or "", sent.campaign, sent.event or ""):
        value.encode("utf-8")  # storable
        assert "\x00" not in value


def test_a_referrer_that_is_not_a_host_is_not_kept():
    for bad in ("https://a.example/path", "a b", "ex@mple.com", "x" * 300, "a\nb.example"):
        assert parse_beacon(_body(r=bad)).referrer == ""
    assert parse_beacon(_body(r="[::1]")).referrer == "[::1]"
    assert parse_beacon(_body(w="huge")).width == ""
    for nested in (["s"], {"s": 1}):
        with pytest.raises(BadBeacon, match="'w' must be a string, number"):
            parse_beacon(_body(w=nested))


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("google.com", "Google"),
        ("google.co.uk", "Google"),
        ("news.google.de", "Google"),
        ("googleusercontent.com", "googleusercontent.com"),
        ("l.facebook.com", "Facebook"),
        ("t.co", "Twitter / X"),
        ("news.ycombinator.com", "Hacker News"),
        ("ycombinator.com", "ycombinator.com"),
        ("old.reddit.com", "Reddit"),
        ("blog.example", "blog.example"),
        ("notbing.com", "notbing.com"),
    ],
)
def test_search_engines_and_social_sites_are_named(host, name):
    assert referrer_name(host) == name


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (CHROME_ANDROID, ("Chrome Mobile", "Android", "mobile")),
        (ANDROID_TABLET, ("Chrome", "Android", "tablet")),
        (IPAD, ("Mobile Safari", "iOS", "tablet")),
        (MAC_SAFARI, ("Safari", "Mac OS X", "desktop")),
        ("curl/8.5.0", ("curl", "(unknown)", "")),
        ("", ("(unknown)", "(unknown)", "")),
    ],
)
def test_user_agents_give_browser_os_and_device(agent, expected):
    assert dimension_values.agent(agent) == expected


def test_the_width_decides_the_device_only_when_the_user_agent_does_not():
    def device(agent: str, width: str) -> str:
        pairs = dimension_values.of_view(
            Beacon(path="/", width=width), namespace="a.example", user_agent=agent, address=""
        )
        return dict(zip(pairs[::2], pairs[1::2], strict=True))["device"]

    assert device("curl/8.5.0", "s") == "mobile"
    assert device("curl/8.5.0", "m") == "tablet"
    assert device("curl/8.5.0", "") == "(unknown)"
    assert device(MAC_SAFARI, "s") == "desktop"
    assert device(CHROME_ANDROID, "x") == "mobile"


def test_a_touch_screen_behind_a_mac_user_agent_is_a_tablet():
    """iPadOS Safari sends a Mac's User-Agent; the script tells by its touch points (t: 1)."""

    def device(agent: str, body: bytes) -> str:
        pairs = dimension_values.of_view(
            parse_beacon(body), namespace="a.example", user_agent=agent, address=""
        )
        return dict(zip(pairs[::2], pairs[1::2], strict=True))["device"]

    assert parse_beacon(_body(p="/", w="l", t=1)).tablet
    assert not parse_beacon(_body(p="/", t="yes")).tablet
    assert device(MAC_SAFARI, _body(p="/", w="l", t=1)) == "tablet"
    assert device(MAC_SAFARI, _body(p="/", w="l")) == "desktop"  # a Mac without a touch screen
    assert device(CHROME_ANDROID, _body(p="/", t=1)) == "mobile"  # the hint only beats desktop
    assert device("curl/8.5.0", _body(p="/", w="x", t=1)) == "tablet"


def test_the_user_agent_cache_is_bounded():
    assert dimension_values.agent.cache_info().maxsize == 2048


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("81.2.69.142", "GB"),
        ("8.8.8.8", "US"),
        ("2a02:c7f::1", "GB"),
        ("127.0.0.1", "(unknown)"),
        ("10.1.2.3", "(unknown)"),
        ("not an address", "(unknown)"),
        ("", "(unknown)"),
    ],
)
def test_countries_come_from_the_shipped_table(address, code):
    assert dimension_values.country(address) == code


def test_a_view_records_referrer_only_from_elsewhere():
    def referrer(beacon: Beacon) -> str | None:
        pairs = dimension_values.of_view(
            beacon, namespace="www.shop.example", user_agent="", address=""
        )
        return dict(zip(pairs[::2], pairs[1::2], strict=True)).get("referrer")

    assert referrer(Beacon(path="/")) == "(none)"  # a landing without a referrer
    assert referrer(Beacon(path="/", referrer="")) is None  # from the site itself
    assert referrer(Beacon(path="/", referrer="shop.example")) is None
    assert referrer(Beacon(path="/", referrer="blog.example")) == "blog.example"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_served_script_is_valid_javascript(client, tmp_path):
    response = client.get("/js/v1/site.js")
    script = tmp_path / "site.js"
    script.write_bytes(response.content)
    subprocess.run(["node", "--check", str(script)], check=True)


@given(
    st.one_of(
        st.binary(max_size=300),
        st.dictionaries(
            st.sampled_from(["p", "r", "s", "m", "c", "w", "e", "x"]),
            st.one_of(st.none(), st.integers(), st.text(max_size=80), st.lists(st.text())),
        ).map(lambda fields: json.dumps(fields).encode()),
    )
)
def test_any_body_is_a_beacon_or_a_bad_beacon(body):
    try:
        sent = parse_beacon(body)
    except BadBeacon:
        return
    assert sent.path.startswith("/")
    for value in (sent.path, sent.referrer or "", sent.campaign, sent.event or ""):
        value.encode("utf-8")  # storable: no lone surrogates
    assert sent.referrer is None or sent.referrer == "" or " " not in sent.referrer
