"""The v1 API's admin routes: rotate a counter's admin key, claim a page script's site."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from counter import store
from counter.domain import claims
from counter.domain.permissions import (
    check_rate,
    hash_admin_key,
    is_operator,
    new_admin_key,
    presented_key,
)
from counter.names import (
    SITE_KEY,
    Counter,
    governing,
)
from counter.web.api.apiview import (
    api_view,
    bool_param,
    is_admin,
    param,
)
from counter.web.errors import BadRequest, KeyRequired
from counter.web.responses import json_response


@api_view(cors=False, countapi=False, writes=True)
def rotate_admin_key(request: HttpRequest, counter: Counter) -> HttpResponse:
    """A new admin key for the counter (POST, with the current key or ADMIN_TOKEN); the old
    key stops working at once. The new key is shown in this answer only. A page counter has
    no key of its own: its site's is rotated, and the answer names the site."""
    if request.method != "POST":
        return json_response(
            request, {"error": "POST to rotate the admin key"}, status=405, cors=False
        )
    is_admin(request, counter, required=True)
    counter = governing(counter)  # a page's key is its site's: the one that rules the page
    expected = store.info(counter).meta.get("admin_key_sha256", "")
    admin_key, admin_hash = new_admin_key()
    status = store.replace_admin_key(counter, expected=expected, new=admin_hash)
    if status == -1:
        return json_response(request, {"error": "Key not found"}, status=404, cors=False)
    if status == 0:
        return json_response(
            request, {"error": "the admin key changed meanwhile"}, status=409, cors=False
        )
    payload = {"namespace": counter.namespace, "key": counter.key, "admin_key": admin_key}
    return json_response(request, payload, cors=False, counter=counter)  # no-store, as all


@api_view(cors=False, countapi=False)
def claim(request: HttpRequest, counter: Counter) -> HttpResponse:
    """Take ownership of a site the page script made (docs/API.md, "Who owns a site").

    GET: how, with a fresh admin key to claim with (nothing is stored). POST with that key
    (Authorization: Bearer): the proof is fetched and checked, and the site's admin key
    becomes that key, replacing any other. POST with ADMIN_TOKEN: no proof, a fresh key is
    made and answered. ``private=1/0`` sets the site's privacy at the same time.
    """
    if counter.key != SITE_KEY:
        raise BadRequest(
            f"only a page script's site is claimed (/api/v1/counters/{counter.namespace}/site"
            "/claim); a counter made by create has its admin key already"
        )
    if request.method != "POST":
        admin_key, admin_hash = new_admin_key()
        try:
            url = claims.proof_url(counter.namespace)
        except claims.NotAHost as exc:
            raise BadRequest(str(exc)) from None
        payload = {
            "namespace": counter.namespace,
            "key": counter.key,
            "admin_key": admin_key,
            "proof_url": url,
            "proof": claims.proof_line(admin_hash),
            "next": "publish the proof line at proof_url, then POST to this URL with "
            "Authorization: Bearer <admin_key>",
        }
        return json_response(request, payload, cors=False, counter=counter)
    private = param(request, "private")
    private = None if private in (None, "") else bool_param(request, "private", False)
    key = presented_key(request)
    if key is None:
        raise KeyRequired
    headers = check_rate(request, action="claim", rule=settings.CREATE_RATE_LIMIT)
    admin_key = None
    if is_operator(key):  # the operator claims for the owner: a fresh key, answered once
        admin_key, admin_hash = new_admin_key()
    else:
        admin_hash = hash_admin_key(key)
        try:
            claims.check_proof(counter.namespace, admin_hash)
        except claims.NotAHost as exc:  # no host to prove: the operator's only
            raise BadRequest(str(exc)) from None
        except claims.ProofError as exc:
            return json_response(
                request, {"error": f"no proof: {exc}"}, status=403, cors=False, headers=headers
            )
    value = store.claim(counter, admin_key_sha256=admin_hash, private=private)
    payload = {"namespace": counter.namespace, "key": counter.key, "value": value}
    if admin_key is not None:
        payload["admin_key"] = admin_key
    return json_response(request, payload, cors=False, counter=counter, headers=headers)
