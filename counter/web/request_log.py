"""The request log: one line a request (method, route, status, duration in ms), logged by
``visitorsite.request`` at INFO. Never an address or a User-Agent: the callers pass none.

The line is on every request's path, so it is made the cheapest way the logging API offers:
a ``LogRecord`` built directly and given to ``Logger.handle`` (what ``Logger.info`` ends in,
without looking up the caller's file and line, a stack walk per record, or copying ``extra``).
The configured handler queues it; the listener formats and writes it (visitorsite/logqueue.py).
"""

import logging

REQUEST_LOGGER = "visitorsite.request"
REQUEST_MESSAGE = "%s %s %s %.2fms"  # method, route, status, duration in ms
# Looked up once: getLogger takes logging's module lock, and configuring logging again keeps
# the Logger objects.
request_logger = logging.getLogger(REQUEST_LOGGER)


def log_request(method: str, route: str, status: int, ms: float) -> None:
    """Log the request's line, with the four values as fields of the record too (the JSON
    format writes them)."""
    if not request_logger.isEnabledFor(logging.INFO):
        return
    record = logging.LogRecord(
        REQUEST_LOGGER,
        logging.INFO,
        "(unknown file)",
        0,
        REQUEST_MESSAGE,
        (method, route, status, ms),
        None,
    )
    record.method = method
    record.route = route
    record.status = status
    record.ms = ms
    request_logger.handle(record)
