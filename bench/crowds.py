"""The hostile-connection scenarios of ``make reliability``: crowds of stalled bodies from
many loopback addresses, and many large bodies at once, against real gunicorn.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a client socket bound to
127.0.0.2 ... is another client address to the server. Every socket is closed, every wait
bounded. The socket helpers are shared with tests/reliability/test_hostile_connections.py.
"""

from __future__ import annotations

import contextlib
import re
import resource
import selectors
import shutil
import socket
import sys
import threading
import time
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.reliability import AGENT, Row
from tests.servers import RedisServer, gunicorn_service


def connect(port: int, source: str = "127.0.0.1", timeout: float = 5.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return sock


def until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes; raises if it has not closed in time."""
    sock.settimeout(timeout)
    received = b""
    end = time.monotonic() + timeout
    while chunk := sock.recv(65536):
        received += chunk
        sock.settimeout(max(end - time.monotonic(), 0.01))
    return received


def status_of(answer: bytes) -> int:
    """The answer's status, 0 when there is none."""
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    return int(match.group(1)) if match else 0


def request_head(method: str, path: str, *, length: int | None = None, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"User-Agent: {AGENT}"]
    if length is not None:
        lines += ["Content-Type: text/plain", f"Content-Length: {length}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def raise_open_files_limit(wanted: int) -> bool:
    """Let this process hold ``wanted`` sockets; False when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return True
    if hard != resource.RLIM_INFINITY and hard < wanted:
        return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return True


class Prober(threading.Thread):
    """From an address of its own, fresh connections asking /healthz and /count in turn
    until stopped: each answer's path, status and seconds."""

    def __init__(self, port: int, source: str):
        super().__init__(daemon=True)
        self.port, self.source = port, source
        self.answers: list[tuple[str, int, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        paths = ["/healthz", "/count/crowd/probe"]
        while not self.stop.is_set():
            path = paths[len(self.answers) % 2]
            start = time.monotonic()
            status = 0
            try:
                with connect(self.port, self.source, timeout=1.0) as sock:
                    sock.sendall(request_head("GET", path, Connection="close"))
                    status = status_of(until_closed(sock, 1.0))
            except OSError:
                pass  # a timeout: status 0, and the time it took
            self.answers.append((path, status, time.monotonic() - start))
            self.stop.wait(0.1)


def stall(port: int, crowds: list[tuple[str, int]], *, deadline: float) -> dict:
    """Each crowd (address, connections) sends a beacon's headers and one byte of its body,
    then nothing, while a prober asks from 127.0.0.250. Returns the answers the stalled
    connections got, how long each stayed open, and the probes."""
    stalled: list[tuple[socket.socket, float]] = []
    prober = Prober(port, "127.0.0.250")
    selector = selectors.DefaultSelector()
    answers: dict[socket.socket, bytes] = {}
    closed_after: dict[socket.socket, float] = {}
    try:
        prober.start()
        head = request_head("POST", "/e/crowd.example", length=1000) + b"/"
        for source, count in crowds:
            for _ in range(count):
                sock = connect(port, source)
                stalled.append((sock, time.monotonic()))
                with contextlib.suppress(OSError):  # refused at once (the cap) and closed
                    sock.sendall(head)
        opened = time.monotonic()
        connected = dict(stalled)
        for sock, _ in stalled:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            answers[sock] = b""
        while len(closed_after) < len(stalled) and time.monotonic() < opened + deadline + 5:
            for key, _ in selector.select(timeout=0.5):
                sock = key.fileobj
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                answers[sock] += chunk
                if not chunk:
                    closed_after[sock] = time.monotonic() - connected[sock]
                    selector.unregister(sock)
        prober.stop.set()
        prober.join(5)
    finally:
        prober.stop.set()
        selector.close()
        for sock, _ in stalled:
            sock.close()
    return {
        "connections": len(stalled),
        "open": len(stalled) - len(closed_after),
        "statuses": Tally(status_of(answer) for answer in answers.values()),
        "longest": max(closed_after.values(), default=0.0),
        "probes": prober.answers,
    }


def stalled_crowd(
    work: Path, *, deadline: float, cap: int | None = None, open_files: int | None = None
) -> Row:
    """2,000 connections from 127.0.0.1 and 50 from each of 127.0.0.2-21 trickle a body and
    stall: each is closed within REQUEST_DEADLINE (408), or at once past the per-address cap
    (429), while a fresh client's /healthz and /count answer within a second throughout.
    ``cap`` None is the shipped CONNECTIONS_PER_ADDRESS; ``open_files`` starts gunicorn with
    that soft limit of open files (prlimit), which its workers must raise to hold the crowds."""
    crowds = [("127.0.0.1", 2000)] + [(f"127.0.0.{i}", 50) for i in range(2, 22)]
    if not raise_open_files_limit(sum(n for _, n in crowds) + 256):
        return Row("stalled crowd", note="skipped: the open-files hard limit is too low")
    redis = RedisServer(work / "redis").start()
    settings = {"REQUEST_DEADLINE": str(deadline)}
    if cap is not None:
        settings["CONNECTIONS_PER_ADDRESS"] = str(cap)
    command = None
    if open_files is not None and shutil.which("prlimit"):  # util-linux
        gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
        command = ["prlimit", f"--nofile={open_files}:", *gunicorn, "visitorsite.wsgi"]
    web = gunicorn_service(work, redis.url, command=command, **settings)
    try:
        seen = stall(web.port, crowds, deadline=deadline)
    finally:
        web.stop(sig=15)
        redis.stop()
    probes = seen["probes"]
    slow = [probe for probe in probes if probe[1] != 200 or probe[2] >= 1.0]
    worst = max((probe[2] for probe in probes), default=0.0)
    row = Row(
        f"stalled crowd: 2,000 trickled bodies from one address and 50 from each of 20 "
        f"others (REQUEST_DEADLINE {deadline:g} s, CONNECTIONS_PER_ADDRESS "
        f"{cap if cap is not None else 'shipped'}), probes from another",
        requests=seen["connections"] + len(probes),
        ok=len(probes) - len(slow),
        other=seen["connections"],
        p99_ms=round(sorted(p[2] for p in probes)[int(len(probes) * 0.99)] * 1000, 1)
        if probes
        else 0.0,
    )
    row.passed = (
        bool(probes)
        and not slow
        and seen["open"] == 0
        and seen["longest"] < deadline + 1
        and set(seen["statuses"]) <= {408, 429}
    )
    row.note = (
        f"stalled connections answered {dict(seen['statuses'])}, the last closed after "
        f"{seen['longest']:.1f} s, {seen['open']} left open; {len(probes)} probes, "
        f"{len(slow)} failed or over 1 s, slowest {worst * 1000:.0f} ms"
    )
    return row


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))


ROUTES = ["/e/big.example", "/count/big/body", "/api/v1/counters/big/body", "/create"]


def send_large_bodies(port: int, master: int, *, bodies: int, size: int) -> dict:
    """``bodies`` bodies of ``size`` bytes at once to several routes, the workers' resident
    memory sampled meanwhile: the answers, and each worker's peak growth in MiB."""
    workers = worker_pids(master)
    for _ in range(20):  # warm the workers up: their first requests import and allocate
        with connect(port) as sock:
            sock.sendall(request_head("POST", "/e/warm.example", length=1, Connection="close"))
            sock.sendall(b"/")
            until_closed(sock, 2.0)
    before = {pid: rss_kib(pid) for pid in workers}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            for pid in workers:
                peak[pid] = max(peak[pid], rss_kib(pid))

    body = b"x" * size

    def send(i: int) -> int:
        with connect(port, timeout=20) as sock:
            sock.sendall(request_head("POST", ROUTES[i % len(ROUTES)], length=len(body)))
            with contextlib.suppress(OSError):  # refused mid-way
                sock.sendall(body)
            return status_of(until_closed(sock, 20))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with ThreadPoolExecutor(max_workers=bodies) as pool:
            statuses = Tally(pool.map(send, range(bodies)))
    finally:
        done.set()
        sampler.join(5)
    growth = {pid: (peak[pid] - before[pid]) / 1024 for pid in workers}
    return {"statuses": statuses, "growth_mib": growth}


def large_bodies(work: Path, *, bodies: int) -> Row:
    """``bodies`` 2.4 MB bodies at once to four routes: each refused (413) before it is
    read, no worker's resident memory growing by more than a few MB."""
    redis = RedisServer(work / "redis").start()
    web = gunicorn_service(work, redis.url)
    try:
        seen = send_large_bodies(web.port, web.process.pid, bodies=bodies, size=2_400_000)
    finally:
        web.stop(sig=15)
        redis.stop()
    statuses, growth = seen["statuses"], seen["growth_mib"]
    row = Row(
        f"large bodies: {bodies} of 2.4 MB at once to the beacon, /count, the API and /create",
        requests=bodies,
        ok=statuses[200],
        unavailable=statuses[503],
        other=bodies - statuses[200] - statuses[503],
    )
    row.passed = statuses == {413: bodies} and max(growth.values()) < 3
    shown = ", ".join(f"{mib:.1f}" for mib in growth.values())
    row.note = f"answers {dict(statuses)}; workers' resident memory grew {shown} MiB"
    return row
