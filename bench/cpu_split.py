"""``make bench-cpu``: where each request's CPU goes, seed against visitorsite, under wrk.

For each app on the same redis-server and the same gunicorn settings (bench/gunicorn_bench.py)
it reads /proc before and after a wrk run and prints the CPU per request of the web workers
(user and system), of redis-server and of wrk. On a machine where all of them share the cores,
req/s is about cores / (the sum of these), so this tells which side a gap comes from.

python bench/cpu_split.py [--rounds 2] [--seconds 8] [--worker-class gthread --threads 8]
(gunicorn.conf.py's worker class, gevent, unless told)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import app_env  # noqa: E402
from tests.servers import RedisServer, WebServer, free_port  # noqa: E402

BIN = Path(sys.executable).parent
TICK = 1 / os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> tuple[float, float]:
    """(user, system) seconds of one process, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) * TICK, int(fields[12]) * TICK


def family(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--threads", default="8")
    parser.add_argument("--worker-class", default="gevent")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="visitorsite-cpu-"))
    redis = RedisServer(workdir / "redis").start()
    redis_pid = redis.process.pid
    gunicorn = {"workers": args.workers, "threads": args.threads, "worker_class": args.worker_class}
    common = app_env(redis, gunicorn)
    apps = {
        "seed": ("bench.seed_app:app", {}),
        "visitorsite": (
            "visitorsite.wsgi",
            {
                "DATA_DIR": str(workdir / "data"),
                "SECRET_KEY": "bench-only-not-secret",
                "TRUSTED_PROXIES": "127.0.0.1",  # the load's X-Forwarded-For are its visitors
            },
        ),
    }
    servers: dict[str, WebServer] = {}
    try:
        for name, (module, extra) in apps.items():
            port = free_port()
            env = {**common, **extra, "BENCH_BIND": f"127.0.0.1:{port}"}
            command = [str(BIN / "gunicorn"), "-c", "bench/gunicorn_bench.py", module]
            log = workdir / f"{name}.log"
            servers[name] = WebServer(command, env=env, port=port, log=log, ready_path="/count")
            servers[name].start(timeout=60)
        print(f"gunicorn {args.worker_class} {args.workers} x {args.threads}; us per request:")
        for _ in range(args.rounds):
            for name, server in servers.items():
                pids = [*family(server.process.pid), redis_pid]
                before = {pid: cpu(pid) for pid in pids}
                started = os.times()
                out = subprocess.run(
                    ["wrk", "-t2", "-c32", f"-d{args.seconds}s", "-s", "bench/load.lua",
                     server.url + "/count"],
                    cwd=REPO, capture_output=True, text=True, check=True,
                ).stdout  # fmt: skip
                ended = os.times()
                requests = int(re.search(r"(\d+) requests in", out).group(1))
                spent = {
                    pid: [a - b for a, b in zip(cpu(pid), before[pid], strict=True)] for pid in pids
                }
                web_user = sum(spent[pid][0] for pid in pids[:-1])
                web_system = sum(spent[pid][1] for pid in pids[:-1])
                load = (ended.children_user + ended.children_system) - (
                    started.children_user + started.children_system
                )
                us = 1e6 / requests
                print(
                    f"{name:12} {requests / args.seconds:7.0f} req/s   web user "
                    f"{web_user * us:4.0f} + system {web_system * us:4.0f}   redis "
                    f"{sum(spent[redis_pid]) * us:3.0f}   wrk {load * us:3.0f}"
                )
    finally:
        for server in servers.values():
            server.stop()
        redis.stop()


if __name__ == "__main__":
    main()
