"""The hostile-client scenarios of ``make reliability`` that are about what strangers can
write: new names on every route and method, first hits racing past a budget, rotating
User-Agents. Real redis-server and gunicorn with the shipped limits (none turned off)."""

from __future__ import annotations

import http.client
import threading
from collections import Counter as Tally
from pathlib import Path

from bench.reliability import AGENT, Row
from tests.servers import RedisServer, gunicorn_service

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# The routes a stranger can name a new counter on, one template each ({n}: a new name).
ROUTES = [
    "/count/flood/{n}",
    "/hit/flood/{n}",
    "/badge/flood/{n}.svg",
    "/badge/flood/{n}.json",
    "/i/flood/{n}.gif",
    "/e/{n}.example",
    "/hit/:HOST:/:PATHNAME:",
    "/hit/:HOST:",
    "/hit/:HOST:/{n}",
    "/get/flood/{n}",
    "/info/flood/{n}",
    "/update/flood/{n}?amount=1",
    "/set/flood/{n}?value=5",
    "/api/v1/counters/flood/{n}",
    "/api/v1/counters/flood/{n}/breakdown?dimension=page",
    "/api/v1/counters/flood/{n}.csv",
    "/d/flood/{n}",
    "/create?namespace=flood&key={n}",
]
METHODS = ["GET", "POST", "HEAD", "OPTIONS"]
# Who sends it: a person, a crawler, a prefetch, a person with Do-Not-Track.
SENDERS = [
    {"User-Agent": AGENT},
    {"User-Agent": BOT},
    {"User-Agent": AGENT, "Sec-Purpose": "prefetch"},
    {"User-Agent": AGENT, "DNT": "1"},
]


def _send(conn: http.client.HTTPConnection, method: str, path: str, headers: dict) -> int:
    body = b"/page" if method == "POST" else None
    if body is not None:
        headers = {**headers, "Content-Type": "text/plain"}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def new_names(work: Path, *, requests: int) -> Row:
    """``requests`` requests from one address, each naming a counter (or a site) nobody
    made, cycling through every counting route, method and kind of sender: the counters
    made stay within the address' budgets, each with a bounded number of keys that last."""
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url)
    statuses: Tally = Tally()
    client = redis.client()
    try:
        before = client.dbsize()
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
        for i in range(requests):
            name = f"n{i:06d}x"
            route = ROUTES[i % len(ROUTES)].format(n=name)
            method = METHODS[(i // len(ROUTES)) % len(METHODS)]
            sender = SENDERS[(i // (len(ROUTES) * len(METHODS))) % len(SENDERS)]
            page = {"Origin": f"https://{name}.example", "Referer": f"https://{name}.example/a"}
            try:
                status = _send(conn, method, route, {**sender, **page})
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
                status = 0
            statuses[status] += 1
        conn.close()
        keys = [key for key in client.scan_iter(count=1000) if b"c:{" in key]
        lasting = [key for key in keys if client.ttl(key) == -1]
        after = client.dbsize()
    finally:
        web.stop(sig=15)
        redis.stop()
    counters = {key.split(b"}")[0] for key in keys}
    per_counter = len(lasting) / max(len(counters), 1)
    # NEW_COUNTER_RATE_LIMIT (60/h) pays for a counter, or a site with its first page; the
    # CREATE_RATE_LIMIT (30/h) for /create.
    budget = 2 * 60 + 30
    row = Row(
        f"new names: {requests} requests from one address, every counting route, method "
        "and sender (person, crawler, prefetch, Do-Not-Track)",
        requests=requests,
        ok=statuses[200],
        unavailable=statuses[503],
        other=requests - statuses[200] - statuses[503],
    )
    row.passed = (
        not any(s >= 500 or s == 0 for s in statuses)
        and len(counters) <= budget
        and per_counter <= 6
    )
    row.note = (
        f"keys {before} -> {after}; {len(counters)} counters made (budgets: at most {budget}), "
        f"{len(lasting)} keys that last ({per_counter:.1f} a counter); "
        f"answers {dict(sorted(statuses.items()))}"
    )
    return row


def first_hits_race(work: Path, *, clients: int) -> Row:
    """``clients`` concurrent first hits on one new name, from an address whose new-counter
    budget is spent (all refused: nothing made, nothing answered 200) and from one within
    it (all counted: every answered value kept)."""
    redis = RedisServer(work / "redis").start()
    # The loopback is trusted as a proxy, so that X-Forwarded-For gives two addresses.
    web = gunicorn_service(
        work, redis.url, NEW_COUNTER_RATE_LIMIT="1/h", TRUSTED_PROXIES="127.0.0.1"
    )
    answers: dict[str, list[tuple[int, bytes]]] = {"spend": [], "spent": [], "paid": []}

    def hit(kind: str, n: int, address: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
        try:
            headers = {"User-Agent": f"{AGENT} {n}", "X-Forwarded-For": address}
            conn.request("GET", f"/hit/race/{kind}", headers=headers)
            response = conn.getresponse()
            answers[kind].append((response.status, response.read()))
        finally:
            conn.close()

    def burst(kind: str, address: str) -> None:
        threads = [threading.Thread(target=hit, args=(kind, n, address)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    try:
        hit("spend", 0, "198.18.0.1")  # spends 198.18.0.1's one new counter
        burst("spent", "198.18.0.1")
        burst("paid", "198.18.0.2")
        client = redis.client()
        kept = {
            kind: client.get(f"visitorsite:1:c:{{race/{kind}}}:n") for kind in ("spent", "paid")
        }
    finally:
        web.stop(sig=15)
        redis.stop()
    refused = Tally(status for status, _ in answers["spent"])
    counted = [status for status, _ in answers["paid"] if status == 200]
    row = Row(
        f"first hits racing: {clients} at once on a new name, past the budget and within it",
        requests=2 * clients,
        ok=len(counted) + refused[200],
        unavailable=refused[503],
        other=2 * clients - len(counted) - refused[200] - refused[503],
    )
    kept_paid = int(kept["paid"] or 0)
    row.lost = max(len(counted) - kept_paid, 0) + (refused[200] if kept["spent"] is None else 0)
    paid = Tally(status for status, _ in answers["paid"])
    row.passed = (
        refused == {429: clients}
        and kept["spent"] is None
        and set(paid) <= {200, 429}  # a racer the budget refused before the counter existed
        and kept_paid == len(counted) >= 1
    )
    row.note = (
        f"past the budget: {dict(refused)}, counter made: {kept['spent'] is not None}; "
        f"within it: {dict(paid)}, total kept {kept_paid}"
    )
    return row


def rotating_agents(work: Path, *, hits: int) -> Row:
    """``hits`` hits on one counter from one address, a new User-Agent each (a new visitor
    each): ADDRESS_HIT_RATE_LIMIT (600 an hour, shipped) caps what is counted."""
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url)
    statuses: Tally = Tally()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
        for n in range(hits):
            statuses[_send(conn, "GET", "/hit/rotate/agents", {"User-Agent": f"{AGENT} r{n}"})] += 1
        conn.close()
        total = int(redis.client().get("visitorsite:1:c:{rotate/agents}:n") or 0)
    finally:
        web.stop(sig=15)
        redis.stop()
    limit = 600
    row = Row(
        f"rotating User-Agents: {hits} hits from one address on one counter",
        requests=hits,
        ok=statuses[200],
        unavailable=statuses[503],
        other=hits - statuses[200] - statuses[503],
    )
    row.passed = total == min(hits, limit) == statuses[200] and statuses[429] == hits - total
    row.note = f"counted {total} (ADDRESS_HIT_RATE_LIMIT {limit}/h); answers {dict(statuses)}"
    return row
