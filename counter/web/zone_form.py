"""A site's time zone, set by its owner from its dashboard: the form the dashboard shows
(``zone_context``) and the view it posts to (``set_timezone``), which sets the zone as the
API's PATCH does (``store.set_zone``)."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from counter import store
from counter.domain.permissions import opens, ruling_meta
from counter.names import SITE_KEY, Counter, InvalidName, counter_from_path
from counter.web.owners import dashboard_url, holds_token, is_owner, owner_token
from counter.web.responses import document


def zone_context(request: HttpRequest, counter: Counter, rules: dict) -> dict:
    """The zone the counter's days are dated in (its site's; UTC for any other counter) and,
    on a site's dashboard, its owner's form to change it (``zone_form``): with the owner's
    cookie the form carries a token of this page (no key to type), else it asks for the
    admin key. ``?timezone=<name>`` after the form: the confirmation."""
    zone = store.zone_name(counter)
    if counter.key != SITE_KEY:
        return {"zone": zone, "zone_form": None, "zone_set": None}
    just_set = request.GET.get("timezone")
    if just_set in store.ZONE_NAMES:  # this worker may keep the zone before for a minute
        zone = just_set
    else:
        just_set = None
    stored = rules.get("admin_key_sha256", "")
    owner = bool(stored) and is_owner(request, counter, rules)
    return {
        "zone": zone,
        "zone_set": just_set,
        "zone_form": _form(counter, zone, owner_token(counter, stored) if owner else None),
    }


def _form(counter: Counter, chosen: str, token: str | None) -> dict:
    names = store.ZONE_NAMES
    return {
        "action": reverse("dashboard-timezone", kwargs={"path": str(counter)}),
        "zones": names if chosen in names else (chosen, *names),
        "chosen": chosen,
        "token": token,
    }


@document
@require_http_methods(["POST"])
def set_timezone(request: HttpRequest, path: str) -> HttpResponse:
    """The site dashboard's form: the site's time zone, set as the API's PATCH sets it
    (``store.set_zone``), by its owner: the owner's cookie with the page's token, or the
    admin key (or ADMIN_TOKEN) typed in. Then back to the dashboard, which confirms it; a
    wrong key (403) or an unknown zone (400) is said on a page with the form again."""
    try:
        counter = counter_from_path(path)
    except InvalidName as exc:
        return render(request, "counter/not_found.html", {"reason": str(exc)}, status=400)
    if counter.key != SITE_KEY:
        reason = f"only a page script's site has a time zone: {counter.namespace}/{SITE_KEY}"
        return render(request, "counter/not_found.html", {"reason": reason}, status=400)
    rules = ruling_meta(counter)
    stored = rules.get("admin_key_sha256", "")
    name = request.POST.get("timezone", "").strip()
    entered = request.POST.get("admin_key", "").strip()
    token = request.POST.get("owner", "")
    owner = bool(stored and token) and (
        is_owner(request, counter, rules) and holds_token(token, counter, stored)
    )
    keyed = bool(entered) and opens(entered, rules)
    if not (owner or keyed):
        message = "That is not this site's admin key." if entered else "The admin key is needed."
        return _error(request, counter, name, message, status=403)
    try:
        found = store.set_zone(counter, name)
    except store.UnknownZone as exc:
        return _error(request, counter, name, f"That is an {exc}.", status=400)
    if not found:
        return render(request, "counter/not_found.html", {"counter": counter}, status=404)
    query = urlencode({"timezone": name})  # Etc/GMT+5: "+" is not a space
    return HttpResponseRedirect(f"{dashboard_url(counter)}?{query}#timezone")


def _error(
    request: HttpRequest, counter: Counter, name: str, message: str, *, status: int
) -> HttpResponse:
    """The form again, with what went wrong, and the zone as it was chosen (not the site's:
    a stranger learns nothing of a private site here). The admin key is typed again."""
    chosen = name if name in store.ZONE_NAMES else "UTC"
    context = {
        "counter": counter,
        "error": message,
        "zone_form": _form(counter, chosen, None),
        "dashboard": dashboard_url(counter),
    }
    response = render(request, "counter/timezone.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
