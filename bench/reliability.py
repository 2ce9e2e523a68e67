"""``make reliability``: what visitorsite survives and what it loses, in one table.

Every scenario runs against a real redis-server and real gunicorn on loopback, sends bounded
load, and reports requests, answers, acknowledged hits lost and latency. ``--small`` runs the
same scenarios at test size (tests/reliability/ asserts their verdicts); the full run writes
docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import write_results  # noqa: E402
from tests.servers import RedisServer, WebServer, gunicorn_service, http_get  # noqa: E402

# The load of a scenario stands for many visitors but comes from one address and User-Agent:
# the per-visitor limits would stop it after a few hundred hits, which is not what is tested.
MANY_VISITORS = {
    "HIT_RATE_LIMIT": "off",
    "ADDRESS_HIT_RATE_LIMIT": "off",
    "NEW_COUNTER_RATE_LIMIT": "off",
}

AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@dataclass
class Row:
    scenario: str
    requests: int = 0
    ok: int = 0
    unavailable: int = 0
    other: int = 0
    lost: int = 0
    p99_ms: float = 0.0
    passed: bool = False
    note: str = ""


@dataclass
class Load:
    """Results of a load: per request (status, ms, counter path, returned total)."""

    results: list[tuple[int, float, str, int | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *result) -> None:
        with self.lock:
            self.results.append(result)

    def statuses(self) -> Tally:
        return Tally(status for status, *_ in self.results)

    def p99(self, status: int | None = None) -> float:
        times = sorted(ms for s, ms, *_ in self.results if status is None or s == status)
        return times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0.0

    def ok_by_path(self) -> Tally:
        return Tally(path for status, _, path, _ in self.results if status == 200)


def drive(
    base: str,
    paths: Callable[[int, int], str],
    *,
    clients: int,
    per_client: int | None = None,
    until: threading.Event | None = None,
    headers: Callable[[int, int], dict] | None = None,
) -> Load:
    """``clients`` keep-alive clients, each sending ``per_client`` requests (or until
    ``until`` is set); a connection error counts as status 0 and reconnects."""
    load = Load()
    host, port = base.removeprefix("http://").split(":")

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        i = 0
        while (per_client is not None and i < per_client) or (
            until is not None and not until.is_set()
        ):
            path = paths(n, i)
            extra = headers(n, i) if headers else {}
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"User-Agent": AGENT, **extra})
                response = conn.getresponse()
                body = response.read().decode(errors="replace")
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                status, body = 0, ""
                time.sleep(0.01)
            ms = (time.perf_counter() - started) * 1000
            match = re.search(r"Visitor count: (\d+)", body)
            load.add(status, ms, path, int(match.group(1)) if match else None)
            i += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load


@contextmanager
def background(web: WebServer, path: str, *, clients: int) -> Iterator[list[Load]]:
    """Load ``path`` from ``clients`` clients while the block runs; the Load is in the list
    once the block has ended."""
    stop = threading.Event()
    result: list[Load] = []
    thread = threading.Thread(
        target=lambda: result.append(drive(web.url, lambda n, i: path, clients=clients, until=stop))
    )
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()


def total(redis: RedisServer, path: str) -> int:
    namespace, key = path.removeprefix("/count/").split("/")
    value = redis.client().get(f"visitorsite:1:c:{{{namespace}/{key}}}:n")
    return int(value or 0)


def _row(name: str, load: Load) -> Row:
    statuses = load.statuses()
    return Row(
        scenario=name,
        requests=sum(statuses.values()),
        ok=statuses[200],
        unavailable=statuses[503],
        other=sum(v for k, v in statuses.items() if k not in {200, 503}),
        p99_ms=round(load.p99(), 1),
    )


# Scenarios --------------------------------------------------------------------------------


def concurrency(work: Path, *, clients: int, hits: int, counters: int) -> Row:
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, **MANY_VISITORS)
    try:
        load = drive(
            web.url, lambda n, i: f"/count/rel/key{(n + i) % counters}", clients=clients,
            per_client=hits,
        )  # fmt: skip
        row = _row(f"{clients} clients x {hits} hits on {counters} counter(s)", load)
        answered = load.ok_by_path()
        row.lost = sum(max(0, answered[p] - total(redis, p)) for p in answered)
        extra = sum(total(redis, p) - answered[p] for p in answered)
        row.passed = row.ok == clients * hits and row.lost == 0 and extra == 0
        row.note = "totals exact" if row.passed else f"{extra} counted beyond the 200s"
    finally:
        web.stop(sig=15)
        redis.stop()
    return row


def worker_kill(work: Path, *, clients: int, seconds: float) -> Row:
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, **MANY_VISITORS)
    try:
        with background(web, "/count/rel/kill", clients=clients) as result:
            time.sleep(seconds / 2)
            workers = subprocess.run(
                ["pgrep", "-P", str(_gunicorn_master(web))], capture_output=True, text=True
            ).stdout.split()
            os.kill(int(workers[0]), signal.SIGKILL)
            time.sleep(seconds / 2)
        load = result[0]
        row = _row("kill -9 of a gunicorn worker under load", load)
        counted = total(redis, "/count/rel/kill")
        row.lost = max(0, row.ok - counted)
        row.passed = row.lost == 0 and row.ok > 0 and counted - row.ok <= clients
        row.note = f"{counted} counted for {row.ok} answered 200 (in flight at the kill: the rest)"
    finally:
        web.stop(sig=15)
        redis.stop()
    return row


def _gunicorn_master(web: WebServer) -> int:
    """The gunicorn master: the web process itself, or its child when started through make."""
    children = subprocess.run(
        ["pgrep", "-P", str(web.process.pid)], capture_output=True, text=True
    ).stdout.split()
    command = Path(f"/proc/{web.process.pid}/cmdline").read_bytes()
    return web.process.pid if b"gunicorn" in command else int(children[0])


def redis_kill(work: Path, *, fsync: str, clients: int, seconds: float) -> Row:
    redis = RedisServer(work / "redis", args=("--appendfsync", fsync)).start()
    web = gunicorn_service(work, redis.url, **MANY_VISITORS)
    try:
        with background(web, "/count/rel/aof", clients=clients) as result:
            time.sleep(seconds)
            redis.kill()
            time.sleep(0.5)
        load = result[0]
        answered = [v for s, _, _, v in load.results if s == 200]
        redis.start()  # same port and directory: replays the AOF
        counted = total(redis, "/count/rel/aof")
        row = _row(f"kill -9 of Redis under load, appendfsync {fsync}, restart from AOF", load)
        row.lost = max(0, max(answered, default=0) - counted)
        limit = 0 if fsync == "always" else int(len(answered) / seconds * 1.5) + clients
        row.passed = row.lost <= limit
        row.note = (
            f"{len(answered)} answered 200; highest total answered {max(answered, default=0)}, "
            f"{counted} after restart"
            + ("" if fsync == "always" else f" (Redis documents up to ~1 s of writes: <= {limit})")
        )
    finally:
        web.stop(sig=15)
        redis.stop()
    return row


def redis_unreachable(work: Path, *, clients: int, seconds: float) -> Row:
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, **MANY_VISITORS)
    try:
        with background(web, "/count/rel/outage", clients=clients) as result:
            time.sleep(0.5)
            redis.stop()
            time.sleep(seconds)
            redis.start()
            time.sleep(1.0)
        load = result[0]
        outage_load = Load(results=[r for r in load.results if r[0] == 503])
        row = _row(f"Redis unreachable for {seconds:g} s under load", load)
        row.p99_ms = round(outage_load.p99(), 1)
        recovered = http_get(f"{web.url}/count/rel/outage", headers={"User-Agent": AGENT})[0]
        healthy = http_get(f"{web.url}/healthz")[0]
        row.passed = (
            row.unavailable > 0 and row.other == 0 and row.p99_ms < 1000 and recovered == 200
            and healthy == 200
        )  # fmt: skip
        row.note = f"p99 of the 503s {row.p99_ms} ms; after Redis returned: {recovered}"
    finally:
        web.stop(sig=15)
        redis.stop()
    return row


def slow_redis(work: Path, *, clients: int) -> Row:
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, REDIS_TIMEOUT="0.3", **MANY_VISITORS)
    try:
        sleeper = threading.Thread(
            target=lambda: redis.client(socket_timeout=10).execute_command("DEBUG", "SLEEP", "2")
        )
        sleeper.start()
        time.sleep(0.1)
        load = drive(web.url, lambda n, i: "/count/rel/slow", clients=clients, per_client=3)
        sleeper.join()
        row = _row("slow Redis (DEBUG SLEEP 2, REDIS_TIMEOUT 0.3 s)", load)
        healthy = http_get(f"{web.url}/healthz")[0]
        after = http_get(f"{web.url}/count/rel/slow", headers={"User-Agent": AGENT})[0]
        slowest = max(ms for _, ms, *_ in load.results)
        row.passed = row.other == 0 and slowest < 1500 and healthy == 200 and after == 200
        row.note = f"slowest answer {slowest:.0f} ms; service up; next hit {after}"
    finally:
        web.stop(sig=15)
        redis.stop()
    return row


HOSTILE_PATHS = [
    "/count/" + "a" * 5000, "/count/%ff%fe", "/count/%00", "/count/..%2f..%2fetc", "/count/a/b/c",
    "/hit/%7Bx%7D", "/get/" + "%e2%82" * 50, "/badge/xxx.svg?style=" + "s" * 3000,
    "/badge/xxx.svg?color=%3Cscript%3E", "/hit/xxx?callback=alert(1)",
    "/hit/xxx?callback=%0d%0aX:1",
    "/create?key=" + "k" * 100, "/create?value=99999999999999999999999",
    "/set/xxx?value=1", "/update/xxx?amount=1000000", "/reset/xxx", "/delete/xxx",
    "/d/%ff", "/api/v1/counters/xxx/yyy?days=-1", "/api/v1/counters/xxx/yyy?days=abc",
    "/i/%c0%af.gif",
    "/e/x", "/js/v1/site.js?x=%00",
    "/api/v1/counters/xxx/site/breakdown", "/api/v1/counters/xxx/site/breakdown?dimension=%00",
    "/api/v1/counters/xxx/site/breakdown?dimension=page&limit=-1&days=99999",
    "/hit/:HOST:/:PATHNAME:", "/hit/:HOST:", "/create?value=%EF%BC%91",
    "/badge/xxx.svg?base=100000000000000000000", "/badge/xxx.svg?base=%D9%A3",
]  # fmt: skip


def hostile_input(work: Path, *, rounds: int) -> Row:
    """Malformed paths, queries and headers, forged X-Forwarded-For, admin attempts without
    a key: no 5xx, no other counter touched, no counter reset, set or deleted."""
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, ADMIN_TOKEN="operator-" + "x" * 20, **MANY_VISITORS)
    try:
        for _ in range(3):
            http_get(f"{web.url}/count/rel/victim", headers={"User-Agent": AGENT})
        http_get(f"{web.url}/create?namespace=rel&key=guarded&value=7")
        rng = random.Random(7)

        def path(n: int, i: int) -> str:
            if i % 3:
                return HOSTILE_PATHS[(n + i) % len(HOSTILE_PATHS)]
            raw = "".join(chr(rng.randint(0x20, 0x7E)) for _ in range(rng.randint(1, 80)))
            return "/" + raw.replace(" ", "%20").replace("#", "%23").replace("?", "%3F")

        def headers(n: int, i: int) -> dict:
            return {
                "X-Forwarded-For": rng.choice(["1.2.3.4", "not-an-ip", "::1, 10.0.0.1", "x" * 500]),
                "Authorization": rng.choice(["", "Bearer wrong", "Basic x", "Bearer " + "z" * 300]),
                "Sec-Purpose": rng.choice(["", "prefetch"]),
                # Broken URLs: urlsplit raises on them (magic names read both headers).
                "Origin": rng.choice(["", "http://[", "https://[::1", "https://example.com"]),
                "Referer": rng.choice(["", "https://[::1/page", "http://]", "http://a.example/"]),
                "Cookie": rng.choice(["", '\x01=\x02; ;;"', "vs_owner_x=" + "y" * 200]),
            }

        load = drive(web.url, path, clients=8, per_client=rounds, headers=headers)
        five_hundreds = sum(1 for s, *_ in load.results if s >= 500)
        victim = total(redis, "/count/rel/victim")
        guarded = total(redis, "/count/rel/guarded")
        row = _row("hostile input: malformed paths, queries, headers, admin without key", load)
        row.passed = five_hundreds == 0 and victim == 3 and guarded == 7
        row.note = f"{five_hundreds} answers 5xx; other counters untouched ({victim}, {guarded})"
    finally:
        web.stop(sig=15)
        redis.stop()
    return row


def privacy(work: Path, *, hits: int) -> Row:
    """After traffic with known addresses and User-Agents, none is found in any Redis key or
    value, nor in any log line."""
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, TRUSTED_PROXIES="127.0.0.1", ACCESS_LOG="-")
    addresses = [f"198.51.100.{i}" for i in range(1, 21)]
    agent = "PrivacyProbeBrowser/9.9 (Mozilla/5.0 compatible)"
    try:
        load = drive(
            web.url,
            lambda n, i: "/count/rel/privacy" if i % 2 else "/hit/rel/privacy",
            clients=4,
            per_client=hits,
            headers=lambda n, i: {"X-Forwarded-For": addresses[(n + i) % 20], "User-Agent": agent},
        )
        client = redis.client()
        dump = []
        for key in client.scan_iter(count=1000):
            dump.append(key)
            kind = client.type(key)
            if kind == b"string":
                dump.append(client.get(key) or b"")
            elif kind == b"hash":
                dump.extend(b"%s=%s" % kv for kv in client.hgetall(key).items())
            elif kind == b"zset":
                dump.extend(m for m, _ in client.zrange(key, 0, -1, withscores=True))
        blob = b"\n".join(dump)
    finally:
        web.stop(sig=15)
        redis.stop()
    log = (work / "web.log").read_bytes()
    # The server's data files (its AOF) too, as written when it stopped.
    files = b"".join(p.read_bytes() for p in (work / "redis").rglob("*") if p.is_file())
    # gunicorn's access log (ACCESS_LOG, off by default) sees the proxy's address, 127.0.0.1.
    found = [a for a in [*addresses, agent, "PrivacyProbe"] if a.encode() in blob + log + files]
    row = _row("privacy: every Redis key and value, data file and log line scanned", load)
    row.passed = not found and row.ok == 4 * hits
    row.note = "no address or User-Agent found" if not found else f"found: {found}"
    return row


def _request(web: WebServer, method: str, path: str, **headers) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        body = headers.pop("body", None)
        conn.request(method, path, body=body, headers={"User-Agent": AGENT, **headers})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def beacon_flood(work: Path, *, posts: int, cap: int) -> Row:
    """Random page paths through the page script's endpoint, each from a new address (a
    trusted proxy's X-Forwarded-For), so that no per-address or per-visitor limit stops the
    flood first: the page cap alone bounds the keys made."""
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, PAGES_PER_SITE=str(cap), TRUSTED_PROXIES="127.0.0.1")
    statuses: Tally = Tally()
    try:
        before = redis.client().dbsize()
        for n in range(posts):
            path = f"/r/{random.getrandbits(64):016x}"
            address = {"X-Forwarded-For": f"198.18.{n // 256}.{n % 256}"}  # a benchmark range
            status, _, _ = _request(web, "POST", "/e/flood.example", body=path, **address)
            statuses[status] += 1
        keys = list(redis.client().scan_iter(match="*flood.example*", count=1000))
        after = redis.client().dbsize()
    finally:
        web.stop(sig=15)
        redis.stop()
    pages = {key.split(b"}")[0] for key in keys if b"/p." in key}
    # Rate windows, per visitor (a minute) and per address (an hour): they expire.
    windows = sum(1 for key in keys if key.endswith((b":r", b":a")))
    # The site's dimensions: a hash a day and a HyperLogLog a value kept (the day's page
    # paths among them), at most DIMENSION_VALUES_PER_DAY (100) and "(other)" a dimension.
    dimensions = sum(1 for key in keys if b"}:x:" in key or b"}:xu:" in key)
    keys = [key for key in keys if not key.endswith((b":r", b":a")) and b"}:x" not in key]
    row = Row(
        f"beacon flood: {posts} random paths, a new address each (PAGES_PER_SITE {cap})",
        requests=posts,
        ok=statuses[204],
        unavailable=statuses[503],
        other=posts - statuses[204] - statuses[503],
    )
    per_page = (len(keys) - 4) / max(len(pages), 1)
    row.passed = (
        not any(s >= 500 for s in statuses)
        and len(pages) <= cap
        and per_page <= 4.5
        and dimensions <= 1 + 8 * 101
    )
    row.note = (
        f"keys {before} -> {after}; {len(pages)} page counters, {per_page:.1f} keys a page "
        f"(and {windows} rate windows, which expire; the site's dimensions: "
        f"{dimensions} keys, today's, at most {1 + 8 * 101}); "
        f"answers {dict(sorted(statuses.items()))}"
    )
    return row


_ROUTES = [
    ("GET", "/count"), ("GET", "/hit/oom/aaa"), ("GET", "/badge/oom/aaa.svg"),
    ("GET", "/i/oom/aaa.gif"),
    ("GET", "/create?namespace=oom&key=new"), ("POST", "/e/oom.example"), ("GET", "/readyz"),
]  # fmt: skip


def out_of_memory(work: Path, *, maxmemory: str) -> Row:
    """A Redis with maxmemory (noeviction) filled by new counters until it refuses writes;
    then every route: a 503 with Retry-After (and /readyz 503), never a 500."""
    redis = RedisServer(work / "redis", args=("--maxmemory", maxmemory)).start()
    redis.client().config_set("maxmemory-policy", "noeviction")
    web = gunicorn_service(work, redis.url, **MANY_VISITORS)
    load = Load()
    probes: dict[str, tuple[int, bool]] = {}
    try:
        refused, n = 0, 0
        while refused < 20 and n < 200_000:
            started = time.perf_counter()
            status, _, _ = _request(web, "GET", f"/hit/oom/key{n}")
            load.add(status, (time.perf_counter() - started) * 1000, "", None)
            refused = refused + 1 if status == 503 else 0
            n += 1
        # Right at maxmemory a write may still fit now and then (client buffers come and
        # go): the probes run a megabyte beyond it, so that every write is refused.
        client = redis.client()
        used = client.info("memory")["used_memory"]
        client.config_set("maxmemory", max(used - 2**20, 2**20))
        for method, path in _ROUTES:
            body = "/" if method == "POST" else None
            status, headers, _ = _request(web, method, path, body=body)
            probes[path] = (status, "Retry-After" in headers or path == "/readyz")
    finally:
        web.stop(sig=15)
        redis.stop()
    row = _row(f"out of memory: maxmemory {maxmemory}, filled by new counters", load)
    five_hundreds = sum(v for k, v in load.statuses().items() if k >= 500 and k != 503)
    row.passed = (
        five_hundreds == 0 and refused >= 20 and all(p == (503, True) for p in probes.values())
    )
    shown = ", ".join(f"{path.split('?')[0]} {status}" for path, (status, _) in probes.items())
    row.note = f"{n} hits until writes were refused; then {shown}, each with Retry-After"
    return row


_OPERATOR = "reliability-operator-token"


def private_probes(work: Path) -> Row:
    """Every route against a private counter and a private site's page, without the key;
    and a stranger's every way to make, lock or rewrite a site the page script made."""
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url, ADMIN_TOKEN=_OPERATOR)
    expected = {
        "/get/secret/ccc": 200, "/hit/secret/ccc": 200, "/badge/secret/ccc.svg": 200,
        "/info/secret/ccc": 403, "/api/v1/counters/secret/ccc": 403,
        "/badge/secret/ccc.svg?value=uniques": 403, "/badge/secret/ccc.svg?value=today/total": 403,
        "/badge/secret/ccc.json?value=today": 403, "/set/secret/ccc?value=0": 403,
        "/reset/secret/ccc": 401, "/delete/secret/ccc": 401,
        "/api/v1/counters/secret/ccc.csv": 403,
        "/api/v1/counters/secret.example/site/breakdown?dimension=page": 403,
        "/api/v1/counters/secret.example/site/breakdown?dimension=referrer": 403,
    }  # fmt: skip
    seen: dict[str, int] = {}
    leaked = False
    try:
        _request(web, "GET", "/create?namespace=secret&key=ccc&private=true")
        _request(web, "POST", "/e/secret.example", body="/launch-plans")
        claim = "/api/v1/counters/secret.example/site/claim?private=1"
        _request(web, "POST", claim, Authorization=f"Bearer {_OPERATOR}")
        pages = list(redis.client().scan_iter(match="*{secret.example/p.*}:n"))
        page = pages[0].decode().split("{")[1].split("}")[0]
        expected.update({f"/info/{page}": 404, f"/api/v1/counters/{page}": 404})
        expected.update({f"/get/{page}": 404, f"/hit/{page}": 404, f"/badge/{page}.svg": 404})
        for path in expected:
            seen[path] = _request(web, "GET", path)[0]
        status, _, body = _request(web, "GET", f"/d/{page}")
        leaked = b"launch-plans" in body
        seen[f"/d/{page} (no path shown)"] = status if not leaked else -1
        expected[f"/d/{page} (no path shown)"] = 200
        # A stranger squatting on victim.example, before and after its first page view:
        # (method, path, status expected); a POST sends a stranger's key.
        squats = [
            ("GET", "/create?namespace=victim.example&key=site&private=true", 400),
            ("GET", "/create?namespace=victim.example&key=p.0123456789abcdef", 400),
            ("GET", "/hit/victim.example/site", 404),
            ("GET", "/badge/victim.example/p.0123456789abcdef.svg", 404),
            ("VIEW", "/e/victim.example", 204),
            ("GET", "/set/victim.example/site?value=0", 403),
            ("GET", "/update/victim.example/site?amount=-5000", 403),
            ("GET", "/reset/victim.example/site", 401),
            ("POST", "/api/v1/counters/victim.example/site/claim", 403),
        ]
        for method, path, status in squats:
            if method == "VIEW":
                answer = _request(web, "POST", path, body="/pricing")
            else:
                stranger = {"Authorization": "Bearer stranger-key-0123456789"}
                answer = _request(web, method, path, **(stranger if method == "POST" else {}))
            seen[f"{method} {path}"], expected[f"{method} {path}"] = answer[0], status
    finally:
        web.stop(sig=15)
        redis.stop()
    wrong = {path: status for path, status in seen.items() if status != expected[path]}
    row = Row("private and owned: every route without the admin key", requests=len(seen))
    row.ok = sum(1 for s in seen.values() if s == 200)
    row.other = len(seen) - row.ok
    row.passed = not wrong and not leaked
    row.note = (
        "as documented (docs/API.md#private-counters, #who-owns-a-site)"
        if row.passed
        else f"{wrong}"
    )
    return row


def run(small: bool) -> list[Row]:
    size = {
        "clients": 16 if small else 64,
        "hits": 30 if small else 500,
        "seconds": 2.0 if small else 4.0,
        "outage": 2.0 if small else 10.0,
        "rounds": 40 if small else 400,
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="visitorsite-reliability-") as tmp:
        work = Path(tmp)

        def scenario(name: str, function, **kwargs) -> None:
            folder = work / name
            folder.mkdir()
            rows.append(function(folder, **kwargs))
            print(f"{rows[-1].scenario}: {'ok' if rows[-1].passed else 'FAILED'}", file=sys.stderr)

        c, h = size["clients"], size["hits"]
        scenario("one", concurrency, clients=c, hits=h, counters=1)
        scenario("many", concurrency, clients=c, hits=h, counters=100)
        scenario("worker", worker_kill, clients=16, seconds=size["seconds"])
        scenario("always", redis_kill, fsync="always", clients=16, seconds=size["seconds"])
        scenario("everysec", redis_kill, fsync="everysec", clients=16, seconds=size["seconds"])
        scenario("outage", redis_unreachable, clients=16, seconds=size["outage"])
        scenario("slow", slow_redis, clients=8)
        scenario("hostile", hostile_input, rounds=size["rounds"])
        scenario("privacy", privacy, hits=size["hits"])
        scenario("flood", beacon_flood, posts=300 if small else 2000, cap=50 if small else 1000)
        scenario("oom", out_of_memory, maxmemory="4mb")
        scenario("private", private_probes)
        from bench import crowds, hostile  # their scenarios use this module's Row

        scenario("names", hostile.new_names, requests=720 if small else 10_000)
        scenario("race", hostile.first_hits_race, clients=20 if small else 100)
        scenario("agents", hostile.rotating_agents, hits=700 if small else 1000)
        scenario("crowd", crowds.stalled_crowd, deadline=3.0 if small else 10.0)
        scenario("bodies", crowds.large_bodies, bodies=50 if small else 200)
    return rows


def table(rows: list[Row]) -> str:
    columns = "scenario | requests | 200 | 503 | other | acknowledged hits lost | p99 ms"
    lines = [f"| {columns} | result | notes |", "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        verdict = "pass" if r.passed else "**FAIL**"
        lines.append(
            f"| {r.scenario} | {r.requests} | {r.ok} | {r.unavailable} | {r.other} | {r.lost} "
            f"| {r.p99_ms} | {verdict} | {r.note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="test-sized load")
    parser.add_argument("--write", action="store_true", help="update docs/RELIABILITY.md")
    args = parser.parse_args()
    rows = run(small=args.small)
    markdown = table(rows)
    print(markdown)
    if args.write:
        write_results(REPO / "docs" / "RELIABILITY.md", "make reliability", markdown)
    sys.exit(0 if all(r.passed for r in rows) else 1)


if __name__ == "__main__":
    main()
