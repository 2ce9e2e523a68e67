"""Operations: request logs, outage transitions, metrics, deploy checks."""

import importlib.metadata
import json
import logging
import os
import subprocess
import sys
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

from counter import metrics
from tests.servers import REPO, free_port

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_one_log_line_per_request_without_ip_or_user_agent(client, caplog):
    caplog.set_level(logging.INFO, logger="visitorsite.request")
    client.get("/count/site/home", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER)
    lines = [r for r in caplog.records if r.name == "visitorsite.request"]
    assert len(lines) == 1
    record = lines[0]
    assert (record.method, record.route, record.status) == ("GET", "count-named", 200)
    assert record.ms >= 0
    text = record.getMessage()
    assert "203.0.113.9" not in text
    assert "Firefox" not in text


def test_json_log_format():
    from visitorsite.logformat import JsonFormatter

    record = logging.LogRecord("visitorsite.request", logging.INFO, "", 0, "GET %s", ("x",), None)
    record.route = "count"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "GET x"
    assert entry["route"] == "count"
    assert entry["level"] == "INFO"


def test_redis_outage_is_logged_once_down_and_once_back(client, point_store_at, caplog, settings):
    caplog.set_level(logging.INFO, logger="counter.store")
    healthy = settings.CACHES
    point_store_at(f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(5):
        assert client.get("/count").status_code == 503
    settings.CACHES = healthy
    for _ in range(3):
        assert client.get("/count").status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "counter.store"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("Redis unavailable")
    assert messages[1] == "Redis is back: counting again"


def test_metrics_count_requests_hits_and_bots(client):
    client.get("/count/site/home", HTTP_USER_AGENT=BROWSER)
    client.get(
        "/count/site/home", HTTP_USER_AGENT="Googlebot/2.1 (+http://www.google.com/bot.html)"
    )
    body = client.get("/metrics").content.decode()
    assert 'visitorsite_http_requests_total{method="GET",route="count-named",status="200"}' in body
    assert "visitorsite_hits_total" in body
    assert "visitorsite_bot_hits_total" in body
    assert "visitorsite_http_request_duration_seconds_bucket" in body


def test_metrics_name_the_data_versions_in_use(client):
    """The User-Agent rules, the IP table and the crawler list go stale: /metrics says which
    release of each the service runs (docs/DIMENSIONS.md)."""
    body = client.get("/metrics").content.decode()
    for name in ("ua-parser-builtins", "iptocc", "crawlerdetect", "pycountry"):
        version = importlib.metadata.version(name)
        assert f'visitorsite_data_version{{data="{name}",version="{version}"}} 1.0' in body


def test_queued_observations_expose_as_if_observed_one_by_one():
    registry = CollectorRegistry()
    buckets = (0.001, 0.005, 2.5)
    direct = Histogram("direct_seconds", "observed", ["route"], buckets=buckets, registry=registry)
    queued = Histogram("queued_seconds", "queued", ["route"], buckets=buckets, registry=registry)
    values = [0.0, 0.0004, 0.001, 0.0011, 0.003, 0.003, 0.005, 0.2, 2.5, 7.0]
    for value in values:
        direct.labels("count").observe(value)
        metrics.observe(queued.labels("count"), value)
    metrics.write_samples()

    def exposed(name: str) -> list[tuple]:
        family = next(f for f in registry.collect() if f.name == name)
        return [
            (s.name.removeprefix(name), sorted(s.labels.items()), s.value)
            for s in family.samples
            if not s.name.endswith("_created")
        ]

    assert exposed("queued_seconds") == exposed("direct_seconds")
    assert (
        registry.get_sample_value("queued_seconds_bucket", {"route": "count", "le": "0.005"}) == 7
    )


def test_queued_samples_are_written_without_a_scrape():
    registry = CollectorRegistry()
    hits = Counter("queued_hits", "queued", registry=registry)
    metrics.count(hits, 3)
    metrics.count(hits)
    deadline = time.monotonic() + 5 * metrics.WRITE_INTERVAL
    while registry.get_sample_value("queued_hits_total") != 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert registry.get_sample_value("queued_hits_total") == 4


def test_a_failing_metric_does_not_stop_the_others(caplog):
    registry = CollectorRegistry()
    broken = Counter("broken", "raises", registry=registry)
    fine = Counter("fine", "works", registry=registry)

    def refuse(amount: float) -> None:
        raise OSError("no space left on device")

    broken.inc = refuse
    metrics.count(broken)
    metrics.count(fine)
    metrics.write_samples()
    assert registry.get_sample_value("fine_total") == 1
    assert "Could not write 1 samples" in caplog.text


def test_an_exiting_process_writes_its_queued_samples(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "visitorsite.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    code = (
        "from counter import metrics; metrics.count(metrics.HITS, 5); metrics.count(metrics.HITS)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, timeout=60)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("visitorsite_hits_total") == 6


def test_metrics_token(client, settings):
    settings.METRICS_TOKEN = "metrics-token-0123456789"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-0123456789")
    assert ok.status_code == 200


def test_deploy_checks_pass_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "visitorsite.settings",
        "SECRET_KEY": "a-production-key-" + "x" * 50,
        "ALLOWED_HOSTS": "counter.example.com",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
        "DEBUG": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (3 silenced)" in result.stdout


def test_ssl_redirect_spares_the_probes(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/count").status_code == 301
    assert client.get("/healthz").status_code == 200
