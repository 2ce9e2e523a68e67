"""visitorsite's WSGI application with Django's request-signal receivers that counter/apps.py
disconnects connected again, for ``make bench-signals`` to measure what each disconnection
buys. BENCH_RECEIVERS names them, comma-separated: ``db`` (reset_queries and
close_old_connections), ``cache`` (close_caches), ``urlconf`` (reset_urlconf)."""

import os

from django.core import signals
from django.core.cache import close_caches
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries

from visitorsite.wsgi import application

RECEIVERS = {
    "db": [
        (signals.request_started, reset_queries),
        (signals.request_started, close_old_connections),
        (signals.request_finished, close_old_connections),
    ],
    "cache": [(signals.request_finished, close_caches)],
    "urlconf": [(signals.request_finished, reset_urlconf)],
}

for name in filter(None, os.environ.get("BENCH_RECEIVERS", "").split(",")):
    for signal, receiver in RECEIVERS[name]:
        signal.connect(receiver)

__all__ = ["application"]
