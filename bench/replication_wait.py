"""What REDIS_WAIT_REPLICAS=1 costs a hit: latency with and without WAIT, in one run.

A primary and a replica on loopback; ``store.hit`` from one thread, alternating rounds.
python bench/replication_wait.py [--hits 3000] [--rounds 3]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.servers import ReplicatedPair  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hits", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="visitorsite-wait-"))
    pair = ReplicatedPair(workdir).start()
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="visitorsite.settings",
            REDIS_URL=pair.primary.url,
            DATA_DIR=str(workdir / "data"),
            SECRET_KEY="bench-only-not-secret",
            LOG_LEVEL="WARNING",
        )
        import django

        django.setup()
        from django.test.utils import override_settings

        from counter import store
        from counter.names import Counter

        counter = Counter("bench", "wait")
        store.hit(counter, visitor_id="warm-up")
        print(f"store.hit on a primary with one replica, {args.hits} hits a round:")
        for _ in range(args.rounds):
            for replicas in (0, 1):
                with override_settings(REDIS_WAIT_REPLICAS=replicas, REDIS_WAIT_TIMEOUT=0.2):
                    latencies = []
                    for i in range(args.hits):
                        started = time.perf_counter()
                        store.hit(counter, visitor_id=str(i))
                        latencies.append((time.perf_counter() - started) * 1e6)
                latencies.sort()
                median = latencies[len(latencies) // 2]
                p99 = latencies[int(len(latencies) * 0.99)]
                print(f"  REDIS_WAIT_REPLICAS={replicas}: median {median:.0f} us, p99 {p99:.0f} us")
    finally:
        pair.stop()


if __name__ == "__main__":
    main()
