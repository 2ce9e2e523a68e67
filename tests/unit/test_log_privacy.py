"""No client address in any log line (gunicorn's included), and a 500 is logged with its
traceback, route and method whatever DEBUG says."""

import io
import logging

import pytest
from gunicorn.config import Config

from counter import store
from visitorsite.gunicorn_logging import PrivateLogger
from visitorsite.logfilter import scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Invalid request from ip=203.0.113.7: bad", "Invalid request from ip=[address]: bad"),
        ("from ip=2001:db8::1: x", "from ip=[address]: x"),
        ("peer ::1 and fe80::1%eth0 went", "peer [address] and [address] went"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329 left", "[address] left"),
        ("Booting worker with pid: 12345", "Booting worker with pid: 12345"),
        ("Listening at: http://127.0.0.1:8000 (99)", "Listening at: http://[address]:8000 (99)"),
        ("version 1.2.3 at 12:30:45", "version 1.2.3 at 12:30:45"),
    ],
)
def test_scrub_replaces_addresses_only(text, expected):
    assert scrub(text) == expected


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_gunicorns_logger_writes_no_address_and_demotes_invalid_requests():
    logger = PrivateLogger(Config())
    (handler,) = logger.error_log.handlers  # gunicorn's own, writing errorlog
    written = io.StringIO()
    handler.setStream(written)
    seen = _Records()
    logger.error_log.addHandler(seen)
    logger.error_log.setLevel(logging.DEBUG)
    logger.warning("Invalid request from ip=%s: %s", "198.51.100.23", "Invalid HTTP method")
    try:
        raise ValueError("bad peer 198.51.100.23")
    except ValueError:
        logger.exception("Error handling request %s", "/count")
    logger.info("Booting worker")
    logger.info("Listening at: http://127.0.0.1:8000 (99)")  # the server's own address
    logger.error_log.removeHandler(seen)
    assert [r.levelno for r in seen.records] == [logging.DEBUG, logging.ERROR] + [logging.INFO] * 2
    text = written.getvalue()
    assert "198.51.100.23" not in text
    assert "Invalid request from ip=[address]: Invalid HTTP method" in text
    assert "ValueError: bad peer [address]" in text  # the traceback, scrubbed
    assert "Listening at: http://127.0.0.1:8000 (99)" in text


def test_gunicorns_access_log_writes_no_address(tmp_path):
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = PrivateLogger(config)
    logger.access_log.info("GET /count/from/203.0.113.9 200")
    for handler in logger.access_log.handlers:
        handler.close()
    assert (tmp_path / "access.log").read_text() == "GET /count/from/[address] 200\n"


def test_a_line_quoting_a_strangers_path_stays_one_line_without_control_characters(tmp_path):
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = PrivateLogger(config)
    logger.access_log.info("%s 404", "GET /e/x\nGET /forged 200\r\x1b[31m\x00\x7f\ttab")
    for handler in logger.access_log.handlers:
        handler.close()
    written = (tmp_path / "access.log").read_text()
    assert written == "GET /e/x\\x0aGET /forged 200\\x0d\\x1b[31m\\x00\\x7f\ttab 404\n"


def test_a_500_is_logged_with_route_method_and_traceback(client, caplog, monkeypatch, settings):
    settings.DEBUG = False

    def broken(counter):
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "total", broken)
    caplog.set_level(logging.ERROR, logger="visitorsite.request")
    client.raise_request_exception = False
    response = client.get("/get/some/counter", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.name == "visitorsite.request"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "GET api-get failed: RuntimeError"
    assert record.exc_info[0] is RuntimeError
    assert "203.0.113.9" not in caplog.text


def test_gunicorns_logger_skips_a_message_below_its_level_unformatted():
    class Loud:
        def __str__(self) -> str:
            raise AssertionError("formatted a message nobody logs")

    logger = PrivateLogger(Config())
    seen = _Records()
    logger.error_log.addHandler(seen)
    logger.error_log.setLevel(logging.INFO)
    logger.debug("%s", Loud())  # gunicorn's per-request line, at INFO: dropped, never formatted
    logger.info("Booting worker %s", 7)
    logger.error_log.removeHandler(seen)
    assert [r.getMessage() for r in seen.records] == ["Booting worker 7"]
