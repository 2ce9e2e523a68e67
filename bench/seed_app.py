"""The seed, as described: Flask + redis-py, ``/count`` = ``INCR visitor_count``.

Rewritten from the seed's description for comparison only (REDIS_URL picks the server).
"""

import os

import redis
from flask import Flask

app = Flask(__name__)
cache = redis.Redis.from_url(os.environ["REDIS_URL"])


@app.route("/")
def hello():
    return "Welcome to my App!"


@app.route("/count")
def count():
    return f"Visitor count: {cache.incr('visitor_count')}"
