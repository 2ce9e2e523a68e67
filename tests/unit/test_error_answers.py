"""The one table from an exception to its answer (counter/web/errors.py), in each of the
request's languages (responses.answer_format): the bodies, statuses and headers the API's
clients and the counting routes have always had."""

import json

import pytest
from django.test import RequestFactory

from counter import store
from counter.domain import magic
from counter.domain.dimension_values import BadBeacon
from counter.domain.permissions import HiddenPage, RateLimited
from counter.domain.visits import MadeByPageScript
from counter.names import Counter, InvalidName
from counter.render.badges import BadgeOptionError
from counter.web import errors
from counter.web.responses import answer_format, document, text

BLOG = Counter("blog", "home")
rf = RequestFactory()


def _json(exception, **options):
    response = errors.respond(rf.get("/hit/blog/home"), exception, **options)
    return response.status_code, json.loads(response.content), response


def _text(exception):
    response = errors.respond(rf.get("/count/blog/home"), exception)
    return response.status_code, response.content.decode(), response


def test_one_function_says_which_language_a_request_is_answered_in():
    assert answer_format(rf.get("/hit/blog/home")) == "json"
    assert answer_format(rf.get("/api/v1/counters/blog/home")) == "json"
    assert answer_format(rf.post("/create")) == "json"
    assert answer_format(rf.get("/count")) == "text"
    assert answer_format(rf.get("/badge/blog/home.svg")) == "text"
    page = rf.get("/d/blog/home")
    document(lambda request: text("ok"))(page)
    assert answer_format(page) == "page"


@pytest.mark.parametrize(
    ("exception", "options", "status", "message"),
    [
        (InvalidName("bad"), {"countapi": True}, 400, errors.MALFORMED),
        (InvalidName("bad name: why"), {}, 400, "bad name: why"),
        (magic.MagicUnresolved("no host"), {"countapi": True}, 400, "no host"),
        (errors.BadRequest("n is required"), {"countapi": True}, 400, "n is required"),
        (errors.UnsupportedMediaType("text/xml"), {}, 415,
         "unsupported body type 'text/xml': send a form or JSON"),
        (errors.WrongKey(), {}, 403, "wrong admin key"),
        (errors.PrivateCounter(), {}, 403, "this counter is private: send its admin key"),
        (errors.KeyRequired(), {}, 401,
         "an admin key is required (Authorization: Bearer <key>, or ?token=)"),
        (RateLimited(30, 0, 120), {}, 429, "rate limit of 30 reached; retry in 120 s"),
        (store.CounterAtLimit(), {}, 409, str(store.CounterAtLimit()).capitalize() + "."),
        (HiddenPage(BLOG), {}, 404, "Not found: no counter blog/home."),
    ],
)  # fmt: skip
def test_json_answers(exception, options, status, message):
    got_status, body, _ = _json(exception, **options)
    assert (got_status, body) == (status, {"error": message})


def test_json_answers_carry_their_headers_and_the_views_cors_choice():
    *_, response = _json(errors.KeyRequired(), cors=False)
    assert response["WWW-Authenticate"] == 'Bearer realm="visitorsite"'
    assert "Access-Control-Allow-Origin" not in response
    *_, response = _json(RateLimited(30, 0, 120))
    assert response["Access-Control-Allow-Origin"] == "*"
    assert (response["Retry-After"], response["RateLimit-Limit"]) == ("120", "30")
    assert (response["RateLimit-Remaining"], response["RateLimit-Reset"]) == ("0", "120")


@pytest.mark.parametrize(
    ("exception", "status", "message", "retry_after"),
    [
        (RateLimited(60, 0, 300), 429,
         "Too many new counters: rate limit of 60 reached; retry in 300 s.", "300"),
        (store.HitRateLimited(7), 429, "Too many hits from this visitor; retry in 7 s.", "7"),
        (MadeByPageScript(Counter("blog", "site")), 404,
         "Not found: no counter blog/site: 'site' and 'p.*' counters are made by the page "
         "script.", None),
        (store.StoreUnavailable("down"), 503, errors.UNAVAILABLE, "5"),
        (InvalidName("bad name: why"), 400, "Bad request: bad name: why", None),
        (BadgeOptionError("style must be flat"), 400, "Bad request: style must be flat", None),
        (BadBeacon("not JSON"), 400, "Bad request: not JSON", None),
    ],
)  # fmt: skip
def test_text_answers(settings, exception, status, message, retry_after):
    settings.STORE_RETRY_AFTER = 5
    got_status, body, response = _text(exception)
    assert (got_status, body) == (status, message + "\n")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.get("Retry-After") == retry_after
    assert "RateLimit-Limit" not in response


def test_a_store_outage_on_a_page_is_a_page():
    request = rf.get("/d/blog/home")
    request.is_document = True
    response = errors.respond(request, store.StoreUnavailable("down"))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store"
    # Errors without a page of their own stay one line of text there too.
    response = errors.respond(request, store.HitRateLimited(7))
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_an_exception_the_table_does_not_know_is_left_to_django():
    assert errors.respond(rf.get("/count"), KeyError("x")) is None
