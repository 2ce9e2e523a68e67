from django.urls import path, re_path

from counter import metrics
from counter.web import dashboard, embeds, live, operator, views, zone_form
from counter.web.api import admin, countapi, site, v1


def _counter_route(prefix: str, view, name: str):
    # Anything below the prefix reaches the view, so a bad name is a 400 with a reason.
    return re_path(rf"^{prefix}/(?P<path>[\s\S]*)\Z", view, name=name)


urlpatterns = [
    path("count", views.count, name="count"),
    _counter_route("count", views.count, "count-named"),
    path("", dashboard.landing, name="welcome"),
    path("new", dashboard.create, name="new"),
    path("operator", operator.overview, name="operator"),
    re_path(r"^d/(?P<path>[\s\S]*)/unlock\Z", dashboard.unlock, name="unlock"),
    re_path(r"^d/(?P<path>[\s\S]*)/timezone\Z", zone_form.set_timezone, name="dashboard-timezone"),
    re_path(r"^d/(?P<path>[\s\S]*)\Z", dashboard.dashboard, name="dashboard"),
    # CountAPI / Abacus compatible
    _counter_route("hit", countapi.hit, "api-hit"),
    _counter_route("get", countapi.get, "api-get"),
    _counter_route("info", countapi.info, "api-info"),
    _counter_route("set", countapi.set_value, "api-set"),
    _counter_route("update", countapi.update, "api-update"),
    _counter_route("reset", countapi.reset, "api-reset"),
    _counter_route("delete", countapi.delete, "api-delete"),
    path("create", countapi.create, name="api-create"),
    path("stats", countapi.stats, name="api-stats"),
    path("api/openapi.json", v1.openapi_json, name="api-openapi"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # Embeds (names chosen so that common filter lists do not block them)
    re_path(r"^badge/(?P<path>[\s\S]*)\.svg\Z", embeds.badge, name="badge"),
    re_path(r"^badge/(?P<path>[\s\S]*)\.json\Z", embeds.shields_endpoint, name="badge-json"),
    re_path(r"^i/(?P<path>[\s\S]*)\.gif\Z", embeds.pixel, name="pixel"),
    path("js/v1/site.js", embeds.script, name="script"),
    re_path(r"^e/(?P<namespace>[\s\S]*)\Z", embeds.beacon, name="beacon"),
    re_path(r"^live/(?P<path>[\s\S]*)\Z", live.live, name="live"),
    # visitorsite v1
    re_path(
        r"^api/v1/counters/(?P<path>[\s\S]*)/admin-key\Z",
        admin.rotate_admin_key,
        name="api-v1-admin-key",
    ),
    re_path(r"^api/v1/counters/(?P<path>[\s\S]*)/claim\Z", admin.claim, name="api-v1-claim"),
    re_path(r"^api/v1/counters/(?P<path>[\s\S]*)\.csv\Z", v1.counter_csv, name="api-v1-csv"),
    re_path(
        r"^api/v1/counters/(?P<path>[\s\S]*)/breakdown\Z",
        v1.breakdown,
        name="api-v1-breakdown",
    ),
    re_path(r"^api/v1/counters/(?P<path>[\s\S]*)/now\Z", site.now, name="api-v1-site-now"),
    re_path(r"^api/v1/counters/(?P<path>[^/]*/site)\Z", site.site, name="api-v1-site"),
    _counter_route("api/v1/counters", v1.counter_detail, "api-v1-counter"),
]
