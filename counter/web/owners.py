"""How a dashboard knows its owner: the signed cookie that opens a private counter's
dashboard (set by entering the admin key), bound to that dashboard's URL alone, and the token
that proves a form was sent from the owner's page (a cookie goes with any request)."""

import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.core.signing import BadSignature
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from counter.names import Counter


def dashboard_url(counter: Counter) -> str:
    """The counter's dashboard: its owner's cookie is sent to this path only."""
    return reverse("dashboard", kwargs={"path": f"{counter.namespace}/{counter.key}"})


def _cookie_name(counter: Counter) -> str:
    return "vs_owner_" + hashlib.sha256(str(counter).encode()).hexdigest()[:16]


def is_owner(request: HttpRequest, counter: Counter, meta: dict) -> bool:
    """Whether the request carries the owner's cookie for the admin key ``meta`` holds."""
    stored = meta.get("admin_key_sha256", "")
    try:
        value = request.get_signed_cookie(
            _cookie_name(counter), salt="owner", max_age=settings.OWNER_COOKIE_AGE
        )  # the signature's own age: a copied cookie does not outlive its lifetime
    except (KeyError, BadSignature):
        return False
    return bool(stored) and hmac.compare_digest(value, stored)


def remember(request: HttpRequest, response: HttpResponse, counter: Counter, stored: str) -> None:
    """Set the owner's cookie on ``response``: signed, HttpOnly, SameSite=Strict, for this
    counter's dashboard only. Visitors of counted pages never get a cookie."""
    response.set_signed_cookie(
        _cookie_name(counter),
        stored,
        salt="owner",
        max_age=settings.OWNER_COOKIE_AGE,
        path=dashboard_url(counter),
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def owner_token(counter: Counter, stored: str) -> str:
    """What the owner's page sends back with a form: the owner's cookie alone is no proof
    that the owner sent it (a cookie goes with any request), this token is (no other page
    can read it). Bound to the counter and its admin key (a new key ends it)."""
    return signing.dumps(str(counter), salt=f"timezone:{stored}")


def holds_token(token: str, counter: Counter, stored: str) -> bool:
    try:
        found = signing.loads(token, salt=f"timezone:{stored}", max_age=settings.OWNER_COOKIE_AGE)
    except BadSignature:
        return False
    return found == str(counter)
