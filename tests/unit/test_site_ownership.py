"""Who owns a site the page script made, and why strangers cannot guess or take its pages.

The proof of a claim is fetched over real HTTP from a loopback web site (tests.servers)."""

import hashlib
import io

import pytest
from django.core.management import call_command

from counter import clock, store
from counter.names import Counter
from counter.store.connection import get_client
from counter.store.keys import counter_key
from tests.page_names import page_counter
from tests.servers import ProofSite

SITE = Counter("owner.example", "site")
BROWSER = {"content_type": "text/plain", "HTTP_USER_AGENT": "Mozilla/5.0 Firefox/133.0"}


def _view(client, path: str, namespace: str = SITE.namespace) -> None:
    assert client.post(f"/e/{namespace}", data=path, **BROWSER).status_code == 204


def _keys_of(namespace: str) -> set[str]:
    return {counter.key for counter in store.iter_counters(namespace=namespace)}


@pytest.fixture
def proof_site(settings):
    with ProofSite() as site:
        settings.CLAIM_PROOF_URL = f"http://127.0.0.1:{site.port}/{{namespace}}/claim.txt"
        settings.CLAIM_PRIVATE_ADDRESSES = True
        yield site


# Names only the page script makes -------------------------------------------------------


@pytest.mark.parametrize("key", ["site", "p.0123456789abcdef", "p.other"])
def test_create_and_the_form_refuse_the_page_scripts_names(client, key):
    response = client.get("/create", {"namespace": SITE.namespace, "key": key, "private": "1"})
    assert response.status_code == 400
    assert "page script" in response.json()["error"]
    form = client.post("/new", {"namespace": SITE.namespace, "key": key, "private": "on"})
    assert form.status_code == 400
    assert b"page script" in form.content
    assert _keys_of(SITE.namespace) == set()


@pytest.mark.parametrize(
    "url",
    [
        "/hit/owner.example/site",
        "/count/owner.example/p.0123456789abcdef",
        "/badge/owner.example/site.svg",
        "/i/owner.example/p.other.gif",
    ],
)
def test_a_hit_does_not_make_a_page_script_counter(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "page script" in response.content.decode()
    assert _keys_of(SITE.namespace) == set()


def test_a_hit_on_a_site_the_page_script_made_counts(client):
    _view(client, "/")
    assert client.get("/hit/owner.example/site").json() == {"value": 2}


def test_a_stranger_can_neither_lock_nor_rewrite_a_site(client):
    _view(client, "/pricing")
    [page] = _keys_of(SITE.namespace) - {"site"}
    for path in ("site", page):
        counter = f"owner.example/{path}"
        assert client.get(f"/set/{counter}?value=0").status_code == 403
        assert client.get(f"/update/{counter}?amount=-5000").status_code == 403
        assert client.get(f"/reset/{counter}").status_code == 401
        assert client.get(f"/delete/{counter}").status_code == 401
        assert client.get(f"/get/{counter}").json() == {"value": 1}
    assert client.post(f"/api/v1/counters/{SITE}/claim").status_code == 401


# Keyed page names --------------------------------------------------------------------------


def test_page_names_are_keyed_by_a_secret_of_each_site(client):
    _view(client, "/pricing")
    _view(client, "/pricing", namespace="other.example")
    unkeyed = "p." + hashlib.blake2b(b"/pricing", digest_size=8).hexdigest()
    [mine] = _keys_of(SITE.namespace) - {"site"}
    [theirs] = _keys_of("other.example") - {"site"}
    assert mine != theirs
    assert unkeyed not in {mine, theirs}
    assert client.get(f"/get/owner.example/{unkeyed}").status_code == 404
    assert page_counter(SITE.namespace, "/pricing").key == mine
    # The secret is never shown; the site's detail names its pages for whoever may see them.
    assert "page_secret" not in client.get(f"/info/{SITE}").content.decode()
    detail = client.get(f"/api/v1/counters/{SITE}").json()
    assert detail["pages"] == [{"path": "/pricing", "hits": 1, "key": mine}]
    assert "page_secret" not in str(detail)


def test_pages_named_before_secrets_move_to_their_keyed_names(client):
    """A site from before page secrets: its pages named by the unkeyed hash of the path."""
    old = Counter(SITE.namespace, "p." + hashlib.blake2b(b"/a", digest_size=8).hexdigest())
    raw = get_client()
    raw.set(counter_key(SITE, "n"), 7)
    raw.set(counter_key(old, "n"), 7)
    raw.hset(counter_key(old, "m"), mapping={"path": "/a", "created": "1"})
    raw.hset(counter_key(old, "d"), clock.now().strftime("%Y%m%d"), 7)
    raw.zadd(counter_key(SITE, "pages"), {old.key: 7})
    _view(client, "/a")  # the first view after the upgrade gives the site its secret
    new = page_counter(SITE.namespace, "/a")
    assert new != old
    assert _keys_of(SITE.namespace) == {"site", new.key}
    assert store.total(new) == 8
    assert store.stats(new, days=1).today.hits == 8
    assert store.top_pages(SITE) == [store.Page("/a", 8, new.key)]
    assert store.rekey_pages(SITE, store.page_secret(SITE)) == 0  # idempotent


# Claims ----------------------------------------------------------------------------------


def _instructions(client, site=SITE) -> dict:
    response = client.get(f"/api/v1/counters/{site}/claim")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.json()


def test_the_owner_claims_a_site_by_publishing_the_proof(client, proof_site):
    _view(client, "/pricing")
    how = _instructions(client)
    key = how["admin_key"]
    assert how["proof"] == f"visitorsite-claim={hashlib.sha256(key.encode()).hexdigest()}"
    assert how["proof_url"] == f"http://127.0.0.1:{proof_site.port}/owner.example/claim.txt"
    url = f"/api/v1/counters/{SITE}/claim"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    refused = client.post(url, **auth)  # not published yet
    assert refused.status_code == 403
    assert "HTTP 404" in refused.json()["error"]
    assert client.get(f"/set/{SITE}?value=0", **auth).status_code == 403
    proof_site.files["/owner.example/claim.txt"] = f"other-line\n  {how['proof']}  \n"
    claimed = client.post(url, {"private": "1"}, **auth)
    assert claimed.status_code == 200
    assert claimed.json() == {"namespace": SITE.namespace, "key": "site", "value": 1}
    assert "admin_key" not in claimed.json()
    # The key rules the site and its pages; the site is private now.
    assert client.get(f"/info/{SITE}").status_code == 403
    assert client.get(f"/info/{SITE}", **auth).status_code == 200
    [page] = _keys_of(SITE.namespace) - {"site"}
    assert client.get(f"/reset/owner.example/{page}", **auth).status_code == 200
    assert client.get(f"/get/{SITE}").json() == {"value": 1}  # the total stays public


def test_a_stranger_cannot_claim_without_the_proof_nor_undo_the_owners(client, proof_site):
    _view(client, "/")
    owner = _instructions(client)
    proof_site.files["/owner.example/claim.txt"] = owner["proof"]
    url = f"/api/v1/counters/{SITE}/claim"
    assert client.post(url, HTTP_AUTHORIZATION=f"Bearer {owner['admin_key']}").status_code == 200
    stranger = _instructions(client)["admin_key"]
    assert client.post(url, HTTP_AUTHORIZATION=f"Bearer {stranger}").status_code == 403
    reset = f"/reset/{SITE}"
    assert client.get(reset, HTTP_AUTHORIZATION=f"Bearer {stranger}").status_code == 403
    assert client.get(reset, HTTP_AUTHORIZATION=f"Bearer {owner['admin_key']}").status_code == 200


def test_a_claim_before_the_first_view_makes_the_site(client, proof_site):
    how = _instructions(client)
    proof_site.files["/owner.example/claim.txt"] = how["proof"]
    url = f"/api/v1/counters/{SITE}/claim"
    assert client.post(url, HTTP_AUTHORIZATION=f"Bearer {how['admin_key']}").status_code == 200
    _view(client, "/")
    assert client.get(f"/get/{SITE}").json() == {"value": 1}


def test_no_proof_is_fetched_from_a_private_address_by_default(client, settings, proof_site):
    settings.CLAIM_PRIVATE_ADDRESSES = False
    how = _instructions(client)
    proof_site.files["/owner.example/claim.txt"] = how["proof"]
    url = f"/api/v1/counters/{SITE}/claim"
    response = client.post(url, HTTP_AUTHORIZATION=f"Bearer {how['admin_key']}")
    assert response.status_code == 403
    assert "non-public address" in response.json()["error"]
    assert proof_site.asked == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("no_dots/site", "not a host name"),
        ("owner.example/home", "only a page script's site"),
    ],
)
def test_what_cannot_be_claimed_by_proof_is_a_400(client, path, reason):
    response = client.get(f"/api/v1/counters/{path}/claim")
    assert response.status_code == 400
    assert reason in response.json()["error"]
    key = {"HTTP_AUTHORIZATION": "Bearer some-key-0123456789"}
    response = client.post(f"/api/v1/counters/{path}/claim", **key)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_the_operator_claims_for_the_owner(client, settings):
    settings.ADMIN_TOKEN = "operator-token-0123456789"
    _view(client, "/")
    url = f"/api/v1/counters/{SITE}/claim"
    response = client.post(url, HTTP_AUTHORIZATION=f"Bearer {settings.ADMIN_TOKEN}")
    assert response.status_code == 200
    key = response.json()["admin_key"]
    assert client.get(f"/reset/{SITE}", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    out = io.StringIO()
    call_command("claim_site", SITE.namespace, "--private", stdout=out)
    newer = out.getvalue().split()[-1]
    assert client.get(f"/reset/{SITE}", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 403
    assert client.get(f"/info/{SITE}", HTTP_AUTHORIZATION=f"Bearer {newer}").status_code == 200
    assert client.get(f"/info/{SITE}").status_code == 403


def test_one_address_cannot_fill_a_sites_pages(client, settings):
    """New page counters spend the address' new-counter budget too; past it, its views of
    new paths count on the site's "other" page, as past PAGES_PER_SITE."""
    settings.NEW_COUNTER_RATE_LIMIT = (3, 3600)
    _view(client, "/")  # the site (and its first page), made by someone
    flood = {"content_type": "text/plain", "REMOTE_ADDR": "198.51.100.9"}
    for n in range(6):
        agent = {"HTTP_USER_AGENT": f"Mozilla/5.0 Firefox/{100 + n}.0"}  # a new visitor each
        response = client.post(f"/e/{SITE.namespace}", data=f"/r/{n}", **flood, **agent)
        assert response.status_code == 204
    pages = {page.path: page.hits for page in store.top_pages(SITE, limit=20)}
    assert pages == {"/": 1, "/r/0": 1, "/r/1": 1, "/r/2": 1, "(other pages)": 3}
    # No key left by the refused pages: the site, its pages, and "other".
    listed = {page.key for page in store.top_pages(SITE, limit=20)}
    assert _keys_of(SITE.namespace) == {"site"} | listed
    assert store.total(SITE) == 7  # every view counted on the site
    _view(client, "/r/9")  # another address still makes its page
    assert "/r/9" in {page.path for page in store.top_pages(SITE, limit=20)}
