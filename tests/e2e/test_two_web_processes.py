"""The web tier is stateless: two gunicorn instances on one Redis count exactly."""

import threading

import pytest

from bench.reliability import MANY_VISITORS
from tests.servers import RedisServer, gunicorn_service, http_get

pytestmark = pytest.mark.e2e
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}


def test_two_gunicorns_on_one_redis_give_exact_totals(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    webs = [gunicorn_service(tmp_path / f"web{i}", redis.url, **MANY_VISITORS) for i in range(2)]
    answered = [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(150):
            web = webs[(n + i) % 2]
            status, _, _ = http_get(f"{web.url}/count/scale/home", headers=BROWSER)
            if status == 200:
                with lock:
                    answered[0] += 1

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = int(redis.client().get("visitorsite:1:c:{scale/home}:n"))
    finally:
        for web in webs:
            web.stop(sig=15)
        redis.stop()
    assert answered[0] == 8 * 150
    assert total == answered[0]
