"""Operations against a live gunicorn: metrics across workers, graceful shutdown."""

import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from counter import metrics
from tests.servers import RedisServer, gunicorn_service, http_get

pytestmark = pytest.mark.e2e
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}


def _sample(body: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_merge_all_workers_and_pass_promtool(live_service):
    before = _sample(http_get(f"{live_service.url}/metrics")[2], "visitorsite_hits_total")
    for _ in range(40):  # keep-alive is off in http_get: requests spread over both workers
        assert http_get(f"{live_service.url}/count/ops/metrics", headers=BROWSER)[0] == 200
    # Each worker writes its samples within WRITE_INTERVAL; then whichever worker answers,
    # the figure is the merged one.
    time.sleep(metrics.WRITE_INTERVAL + 0.5)
    readings = {
        _sample(http_get(f"{live_service.url}/metrics")[2], "visitorsite_hits_total")
        for _ in range(6)
    }
    assert readings == {before + 40}
    body = http_get(f"{live_service.url}/metrics")[2]
    promtool = shutil.which("promtool")
    if promtool is None and not os.environ.get("CI"):
        pytest.skip("promtool is missing (apt-get install prometheus)")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sigterm_under_load_loses_no_answered_hit(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    web = gunicorn_service(tmp_path, redis.url)
    answered: list[int] = []
    failures = [0]
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                status, _, body = http_get(f"{web.url}/count/ops/shutdown", headers=BROWSER)
            except OSError:
                failures[0] += 1
                time.sleep(0.01)
                continue
            if status == 200:
                answered.append(int(body.rsplit(" ", 1)[1]))

    threads = [threading.Thread(target=client) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        os.kill(web.process.pid, signal.SIGTERM)  # gunicorn's graceful shutdown
        web.process.wait(timeout=30)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        web.stop(sig=signal.SIGKILL)
    total = int(redis.client().get("visitorsite:1:c:{ops/shutdown}:n"))
    redis.stop()
    assert len(answered) > 50
    assert len(set(answered)) == len(answered)  # every 200 carried its own count...
    assert max(answered) <= total  # ...and every one of them is in Redis
    assert total - len(answered) <= 8  # at most one in flight per client went unanswered


def test_a_gracefully_stopped_worker_writes_its_queued_metrics(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    samples = tmp_path / "metrics"
    samples.mkdir()
    web = gunicorn_service(tmp_path, redis.url, PROMETHEUS_MULTIPROC_DIR=str(samples))
    try:
        for _ in range(5):
            assert http_get(f"{web.url}/count/ops/exit", headers=BROWSER)[0] == 200
        os.kill(web.process.pid, signal.SIGTERM)  # at once: before the writers' second is up
        web.process.wait(timeout=30)
    finally:
        web.stop(sig=signal.SIGKILL)
        redis.stop()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(samples))
    assert registry.get_sample_value("visitorsite_hits_total") == 5


def test_gevent_workers_keep_a_redis_connection_per_hit_in_flight_not_per_visitor(tmp_path):
    """The default worker class is gevent, a greenlet per client connection; the store keeps
    its Redis connections per hit in flight, so new visitors do not mean new connections."""
    redis = RedisServer(tmp_path / "redis").start()
    web = gunicorn_service(tmp_path, redis.url)
    try:
        assert "Using worker: visitorsite.gunicorn_workers.GeventWorker" in web.log.read_text()
        for _ in range(10):  # both workers connect
            assert http_get(f"{web.url}/count", headers=BROWSER)[0] == 200
        before = redis.client().info("stats")["total_connections_received"]
        for _ in range(100):  # a new HTTP connection each (keep-alive is off in http_get)
            assert http_get(f"{web.url}/count", headers=BROWSER)[0] == 200
        after = redis.client().info("stats")["total_connections_received"]
        assert after - before <= 4  # our INFO calls, and a worker's first hit at most
        assert http_get(f"{web.url}/count", headers=BROWSER)[2] == "Visitor count: 111"
    finally:
        web.stop(sig=signal.SIGTERM)
        redis.stop()


def test_ctrl_c_stops_everything_quietly(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    web = gunicorn_service(tmp_path, redis.url)
    try:
        assert http_get(f"{web.url}/count", headers=BROWSER)[2] == "Visitor count: 1"
        master = web.process.pid
        web.stop(sig=signal.SIGINT)  # to the whole process group, as a terminal's Ctrl-C
        log = web.log.read_text()
        assert "Shutting down: Master" in log
        assert "Traceback" not in log
        assert "visitorsite.request: GET count 200 " in log  # the worker wrote out its queue
        assert subprocess.run(["pgrep", "-g", str(master)], capture_output=True).stdout == b""
    finally:
        web.stop()
        redis.stop()
