"""Profile visitorsite's hit path in-process (pyinstrument): WSGI call to Redis and back.

python bench/profile_hit.py [--requests 20000] [--html out.html]
"""

import argparse
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.servers import RedisServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--html")
    args = parser.parse_args()

    import os

    workdir = Path(tempfile.mkdtemp(prefix="visitorsite-profile-"))
    redis = RedisServer(workdir / "redis").start()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="visitorsite.settings",
        REDIS_URL=redis.url,
        DATA_DIR=str(workdir / "data"),
        SECRET_KEY="profile-only",
        TRUSTED_PROXIES="127.0.0.1",
    )
    from pyinstrument import Profiler

    from visitorsite.wsgi import application

    def environ(i: int) -> dict:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/count",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": f"10.0.{i // 256 % 256}.{i % 256}",
            "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0",
            "wsgi.input": BytesIO(),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }

    def start_response(status, headers):
        assert status.startswith("200"), status

    for i in range(500):  # warm up
        b"".join(application(environ(i), start_response))
    profiler = Profiler(interval=0.0002)
    started = time.perf_counter()
    profiler.start()
    for i in range(args.requests):
        b"".join(application(environ(i), start_response))
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(f"{args.requests} hits in {elapsed:.2f}s: {elapsed / args.requests * 1e6:.0f} us/hit")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html())
    redis.stop()


if __name__ == "__main__":
    main()
