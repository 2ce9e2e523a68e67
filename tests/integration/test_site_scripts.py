"""The page script's own counters on a real server too: keyed page names (the secret made
once, in the site's metadata), pages moved from unkeyed names, a claim, and crawlers that
make no keys."""

import hashlib
import io

from django.core.management import call_command

from counter import clock, store
from counter.names import Counter
from counter.store import pages as store_pages
from counter.store.connection import get_client
from counter.store.keys import counter_key
from tests.page_names import page_counter

SITE = Counter("real.example", "site")
BROWSER = {"content_type": "text/plain", "HTTP_USER_AGENT": "Mozilla/5.0 Firefox/133.0"}
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _view(client, path: str) -> None:
    assert client.post(f"/e/{SITE.namespace}", data=path, **BROWSER).status_code == 204


def _keys() -> set[str]:
    return {counter.key for counter in store.iter_counters(namespace=SITE.namespace)}


def test_the_site_secret_is_made_once_and_keys_its_pages(any_store, client):
    _view(client, "/x")
    secret = store.info(SITE).meta["page_secret"]
    assert len(bytes.fromhex(secret)) == 32
    store_pages._kept_secrets().clear()  # another process: reads the same secret
    _view(client, "/x")
    assert store.info(SITE).meta["page_secret"] == secret
    page = page_counter(SITE.namespace, "/x")
    assert _keys() == {"site", page.key}
    assert store.total(page) == 2


def test_unkeyed_pages_move_on_the_first_view(real_store, client):
    # A real server only: fakeredis cannot read a HyperLogLog as the string it is.
    old = Counter(SITE.namespace, "p." + hashlib.blake2b(b"/old", digest_size=8).hexdigest())
    today = clock.now().strftime("%Y%m%d")
    raw = get_client()
    raw.set(counter_key(SITE, "n"), 3)
    raw.set(counter_key(old, "n"), 3)
    raw.hset(counter_key(old, "m"), "path", "/old")
    raw.hset(counter_key(old, "d"), today, 3)
    raw.pfadd(counter_key(old, f"u:{today}"), "a", "b")
    raw.zadd(counter_key(SITE, "pages"), {old.key: 3})
    _view(client, "/old")
    new = page_counter(SITE.namespace, "/old")
    assert _keys() == {"site", new.key}
    figures = store.stats(new, days=1)
    assert (figures.total, figures.today.hits, figures.today.uniques) == (4, 4, 3)
    assert [tuple(page) for page in store.top_pages(SITE)] == [("/old", 4, new.key)]


def test_the_claim_script_makes_or_keeps_the_site(any_store, client):
    out = io.StringIO()
    call_command("claim_site", SITE.namespace, "--private", stdout=out)
    key = out.getvalue().split()[-1]
    assert store.total(SITE) == 0
    _view(client, "/")
    call_command("claim_site", SITE.namespace, "--public", stdout=io.StringIO())
    meta = store.info(SITE).meta
    assert meta["private"] == "0"
    assert meta["admin_key_sha256"] != hashlib.sha256(key.encode()).hexdigest()
    assert store.total(SITE) == 1


def test_crawlers_make_no_keys(any_store, client):
    client.get("/badge/real.example/home.svg", HTTP_USER_AGENT=GOOGLEBOT)
    client.post("/e/real.example", data="/", content_type="text/plain", HTTP_USER_AGENT=GOOGLEBOT)
    assert _keys() == set()
    client.get("/hit/real.example/home")
    client.get("/hit/real.example/home", HTTP_USER_AGENT=GOOGLEBOT)
    assert store.stats(Counter(SITE.namespace, "home"), days=1).bots == 1
