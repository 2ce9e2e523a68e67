"""gunicorn settings for visitorsite: ``gunicorn -c gunicorn.conf.py visitorsite.wsgi``.

Each value can be overridden by an environment variable (see README). Worker class and counts
are the measured defaults recorded in docs/BENCHMARKS.md.
"""

import os

# gevent (the default worker class, see below) patches the standard library here, in the master,
# before Django, redis-py and their locks are imported: the worker would patch them only after
# the fork, too late for the objects the master made (gevent warns, and inspects them all).
worker_class = os.environ.get("WEB_WORKER_CLASS", "gevent")
if worker_class == "gevent":
    from gevent import monkey

    monkey.patch_all()
    worker_class = "visitorsite.gunicorn_workers.GeventWorker"  # quiet on Ctrl-C, see below

import atexit  # noqa: E402
import glob  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from visitorsite.connection_limits import ConnectionLimits  # noqa: E402
from visitorsite.environment import (  # noqa: E402
    env_count,
    env_networks,
    env_text,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "visitorsite.settings")
# Prometheus multiprocess mode (counter/metrics.py): the workers' samples go to files here.
# Set before any worker imports prometheus_client; emptied at start, as its docs require.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="visitorsite-metrics-")
    _MASTER = os.getpid()

    def _remove_metrics_dir() -> None:
        if os.getpid() == _MASTER:  # forked workers inherit exit handlers too
            shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

    atexit.register(_remove_metrics_dir)

bind = env_text("BIND", "127.0.0.1:8000")
# worker_class (set above): gevent, a greenlet per client connection, so a hit waiting on Redis
# costs no thread switch and no GIL hand-off. Measured against gthread (2 x 8) on the same load:
# +15-20 % req/s, a lower p99, half the kernel time per request (docs/BENCHMARKS.md).
# `WEB_WORKER_CLASS=gthread` goes back to threads.

# Every number is read as settings.py reads its variables (visitorsite/environment.py): a bad
# value is one line naming the variable, and gunicorn exits before starting anything.
try:
    workers = env_count("WEB_CONCURRENCY", 2)
    threads = env_count("WEB_THREADS", 8)  # per gthread worker
    # Requests are a few milliseconds; a worker stuck longer than this is killed and
    # replaced. 0 is gunicorn's "no limit".
    timeout = env_count("WEB_TIMEOUT", 30, low=0)
    graceful_timeout = env_count("WEB_GRACEFUL_TIMEOUT", 20, low=0)
    # Facing strangers (docs/OPERATIONS.md): a gevent worker holds this many connections, so
    # that the limits below, not the workers, are what a crowd of slow or idle clients runs
    # into. Each costs a greenlet and a socket (a few KiB); the worker raises its open-files
    # limit to match.
    worker_connections = env_count("WEB_CONNECTIONS", 10000)  # per gevent worker
    # REQUEST_DEADLINE, MAX_BODY_BYTES, CONNECTIONS_PER_ADDRESS (gevent worker only)
    _limits = ConnectionLimits.from_environ(os.environ)
    # Behind a proxy every connection comes from the proxy's address, so
    # CONNECTIONS_PER_ADDRESS caps the proxy, which must limit its clients itself (said at start).
    _trusted_proxies = env_networks("TRUSTED_PROXIES")
except ImproperlyConfigured as _error:
    sys.exit(f"visitorsite: {_error}")
if worker_class == "visitorsite.gunicorn_workers.GeventWorker":
    from visitorsite.gunicorn_workers import GeventWorker

    GeventWorker.limits = _limits

keepalive = 5
accesslog = os.environ.get("ACCESS_LOG") or None
# Off by default (visitorsite logs one line per request itself). When turned on it must stay
# private too: no client address, no User-Agent, no query string (it may carry ?token=).
access_log_format = "%(m)s %(U)s %(s)s %(b)s %(L)ss"
errorlog = "-"
logger_class = "visitorsite.gunicorn_logging.PrivateLogger"  # no client address in any line
# gunicorn 24+ opens a control socket in ~/.gunicorn by default: one path for every instance
# of a user, so a second instance (another port, a test) would fight over it. Not used here.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def on_starting(server):
    """In the master, before workers fork: start (or find) Redis and say which one is used.

    The listen address is checked first: on a taken port gunicorn would try five times, a
    second apart, and exit with the embedded server it had started still running.
    """
    _exit_if_address_taken(server)
    if _trusted_proxies:
        server.log.info(
            "Behind a proxy: connections are capped per proxy address "
            "(CONNECTIONS_PER_ADDRESS=%s a worker); the proxy must limit each client itself",
            _limits.connections_per_address,
        )
    for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(stale)
    import django

    django.setup()
    from counter.embedded import announce

    announce()  # a server started here is stopped by on_exit (or at exit, if never ready)


def on_exit(server):
    """The master's last act on a stop by SIGINT, SIGTERM or SIGQUIT: its workers are gone, so
    no request can see the embedded server vanish. Stop it if this master started it; one
    that was already running is left alone. (A master that exits before it serves, a bind
    lost to a race, stops it from the exit handler embedded_redis registers.)"""
    from counter.embedded import stop_started_here

    stop_started_here()


def _exit_if_address_taken(server):
    import socket

    if os.environ.get("GUNICORN_FD") or os.environ.get("LISTEN_FDS"):
        return  # re-exec or socket activation: the sockets are already bound
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a Unix socket path: gunicorn replaces a stale one itself
        host, port = address[0], address[1]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
            try:
                probe.bind((host, port))
            except OSError as exc:
                shown = f"[{host}]" if family == socket.AF_INET6 else host
                print(
                    f"visitorsite: cannot listen on {shown}:{port} ({exc.strerror}); "
                    f"choose another address, e.g. BIND={shown}:{port + 1} make run",
                    file=sys.stderr,
                    flush=True,
                )
                sys.exit(1)


def child_exit(server, worker):
    """A worker is gone: drop its live gauges from the merged metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
