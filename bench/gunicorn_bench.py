"""The one gunicorn configuration every app in the benchmark runs under (from BENCH_* env)."""

import os

bind = os.environ["BENCH_BIND"]
workers = int(os.environ.get("BENCH_WORKERS", "2"))
threads = int(os.environ.get("BENCH_THREADS", "8"))
worker_class = os.environ.get("BENCH_WORKER_CLASS", "gevent")
keepalive = 5
loglevel = "warning"
control_socket_disable = True
