"""The ceiling: a bare WSGI function doing one ``INCR`` per request, nothing else."""

import os

import redis

_redis = redis.Redis.from_url(os.environ["REDIS_URL"])


def application(environ, start_response):
    body = f"Visitor count: {_redis.incr('visitor_count')}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
