"""A site's time zone from its dashboard: shown, and set by its owner through a form (the
API's store.set_zone), with a wrong key or an unknown zone said on a 4xx page."""

import re

import pytest

from counter import store
from counter.domain.permissions import hash_admin_key
from counter.names import Counter
from counter.store.connection import get_client
from counter.store.keys import counter_key

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SITE = Counter("zone.example", "site")
KEY = "the-sites-admin-key-0123456789"
TOKEN = "operator-token-0123456789"
FORM = "/d/zone.example/site/timezone"


@pytest.fixture
def web(client, day, settings):
    settings.ADMIN_TOKEN = TOKEN
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    assert client.post("/e/zone.example", data=b"/", content_type="text/plain").status_code == 204
    return client


def _own(private: bool) -> None:
    meta = {"admin_key_sha256": hash_admin_key(KEY), **({"private": "1"} if private else {})}
    get_client().hset(counter_key(SITE, "m"), mapping=meta)


def _page(web, url: str = "/d/zone.example/site") -> str:
    response = web.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_sites_dashboard_names_its_zone_and_offers_the_form_asking_for_the_key(web):
    body = _page(web)
    assert "uniques, per UTC day</figcaption>" in body
    assert "<summary>Time zone: UTC</summary>" in body
    form = re.search(r'<form class="zone" method="post" action="([^"]+)">(.*?)</form>', body, re.S)
    assert form[1] == FORM
    assert "<option selected>UTC</option>" in form[2]
    assert "<option>Europe/Paris</option>" in form[2]
    assert form[2].count("<option") == len(store.ZONE_NAMES)  # the API's list
    assert 'name="admin_key"' in form[2]  # no owner's cookie here: the key is asked
    assert 'name="owner"' not in form[2]


def test_the_admin_key_sets_the_zone_and_the_dashboard_confirms_it(web):
    _own(private=False)
    sent = web.post(FORM, {"timezone": "Etc/GMT+5", "admin_key": KEY})
    assert sent.status_code == 302
    assert sent["Location"] == "/d/zone.example/site?timezone=Etc%2FGMT%2B5#timezone"
    assert store.zone_name(SITE) == "Etc/GMT+5"
    body = _page(web, sent["Location"])
    assert 'role="status" id="zone-set">Time zone set' in body
    assert "in Etc/GMT+5.</p>" in body
    assert "uniques, per day in Etc/GMT+5</figcaption>" in body
    assert "<option selected>Etc/GMT+5</option>" in body
    # ADMIN_TOKEN, the key to every counter, sets it too
    assert web.post(FORM, {"timezone": "Asia/Tokyo", "admin_key": TOKEN}).status_code == 302
    assert store.zone_name(SITE) == "Asia/Tokyo"
    # the site's pages are dated in it: their captions say so
    page = re.search(r'<a href="(/d/zone\.example/p\.[0-9a-f]+)">', _page(web))[1]
    assert "uniques, per day in Asia/Tokyo</figcaption>" in _page(web, page)
    assert 'class="zone"' not in _page(web, page)  # the form is the site's only


@pytest.mark.parametrize(
    ("form", "status", "said"),
    [
        ({"timezone": "Europe/Paris", "admin_key": "wrong"}, 403, "That is not this site"),
        ({"timezone": "Europe/Paris"}, 403, "The admin key is needed"),
        ({"timezone": "Mars/Olympus_Mons", "admin_key": KEY}, 400, "unknown time zone"),
        ({"timezone": "", "admin_key": KEY}, 400, "unknown time zone"),
    ],
)
def test_a_wrong_key_or_an_unknown_zone_is_a_visible_4xx(web, form, status, said):
    _own(private=False)
    answer = web.post(FORM, form)
    assert answer.status_code == status
    body = answer.content.decode()
    assert re.search(r'<p class="error" role="alert" id="zone-error">([^<]*)</p>', body)
    assert said in body
    assert 'class="zone"' in body  # the form again, its key to type again
    assert KEY not in body
    assert answer["Content-Security-Policy"]
    assert store.zone_name(SITE) == "UTC"


def test_a_private_sites_owner_sets_it_without_typing_the_key_and_a_forged_post_cannot(web):
    _own(private=True)
    assert web.post("/d/zone.example/site/unlock", {"admin_key": KEY}).status_code == 302
    body = _page(web)
    form = re.search(r'<form class="zone".*?</form>', body, re.S)[0]
    assert 'name="admin_key"' not in form  # the page holds the owner's proof
    token = re.search(r'name="owner" value="([^"]+)"', form)[1]
    # Another site's page can make the owner's browser post, with the owner's cookie, but
    # cannot read the token: without it, nothing is set.
    assert web.post(FORM, {"timezone": "Europe/Paris"}).status_code == 403
    assert web.post(FORM, {"timezone": "Europe/Paris", "owner": "forged"}).status_code == 403
    assert store.zone_name(SITE) == "UTC"
    assert web.post(FORM, {"timezone": "Europe/Paris", "owner": token}).status_code == 302
    assert store.zone_name(SITE) == "Europe/Paris"
    # the token without the cookie is no key either
    web.cookies.clear()
    assert web.post(FORM, {"timezone": "Asia/Tokyo", "owner": token}).status_code == 403
    assert store.zone_name(SITE) == "Europe/Paris"
    # nor once the admin key changed
    get_client().hset(counter_key(SITE, "m"), "admin_key_sha256", hash_admin_key("new-key"))
    assert web.post(FORM, {"timezone": "Asia/Tokyo", "owner": token}).status_code == 403


def test_a_counter_not_a_site_has_no_zone_form(web):
    store.reset(Counter("plain.example", "home"), value=3, create=True)
    body = _page(web, "/d/plain.example/home")
    assert "uniques, per UTC day</figcaption>" in body
    assert 'class="zone"' not in body
    refused = web.post("/d/plain.example/home/timezone", {"timezone": "UTC", "admin_key": KEY})
    assert refused.status_code == 400
