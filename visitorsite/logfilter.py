"""No client address in any log line: a ``logging.Filter`` on every handler that writes.

visitorsite logs no IP address, and neither may gunicorn: its "Invalid request from ip=..."
line and a few others name the client, and a traceback may quote one. ``NoAddressFilter``
replaces IPv4 and IPv6 addresses in a record's message, traceback and stack with
``[address]``. It sits on the console handler (settings.LOGGING: it runs in the log queue's
listener, off the request path) and on gunicorn's own error and access log handlers
(visitorsite/gunicorn_logging.py).
"""

import logging
import re

# IPv4, and IPv6 in its usual spellings (with "::" or eight groups, an optional zone); an
# address may be followed by ":port".
_ADDRESS = re.compile(
    r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"
    r"|(?<![\w.:])(?:(?=[0-9A-Fa-f:]*::)[0-9A-Fa-f:]*[0-9A-Fa-f]|::)(?:%\w+)?(?![\w.])"
    r"|(?<![\w.:])[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}(?![\w.])"
)
_TRACEBACKS = logging.Formatter()  # formatException is the same for every formatter here
# Lines that name the service's own servers, never a client: where gunicorn listens, which
# Redis is used (REDIS_URL, its password masked). They keep their addresses.
_OWN_SERVERS = {"gunicorn.error": "Listening at:", "visitorsite.redis": "Redis:"}


def scrub(text: str) -> str:
    if text.count(".") < 3 and text.count(":") < 2:  # no room for an address: most lines,
        return text  # a request log line among them, skip the slower search
    return _ADDRESS.sub("[address]", text)


class NoAddressFilter(logging.Filter):
    """Rewrites the record in place, so that every formatter after it writes no address
    (but in the lines that name the service's own servers, ``_OWN_SERVERS``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        own = _OWN_SERVERS.get(record.name)
        if own is None or not message.startswith(own):
            scrubbed = scrub(message)
            if scrubbed != message:  # args first: a handler formatting this record in
                record.args = None  # another thread meanwhile reads a template, no error
                record.msg = scrubbed
        if record.exc_info and not record.exc_text:  # as Formatter.format would, once
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
