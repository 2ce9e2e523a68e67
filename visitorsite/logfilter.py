"""No client address in any log line, and no line a stranger can forge: a ``logging.Filter``
on every handler that writes.

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
# C0 controls but the tab, and DEL: in a message (a path, a header quoted) a newline or a
# carriage return would start a forged line, an escape sequence would drive a terminal, a NUL
# would make grep call the log binary. Written as \xNN instead.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TRACEBACKS = logging.Formatter()  # formatException is the same for every formatter here
# Lines that name the service's own servers, never a client: where gunicorn listens, which
# Redis is used (REDIS_URL, its password masked). They keep their addresses.
_OWN_SERVERS = {"gunicorn.error": "Listening at:", "visitorsite.redis": "Redis:"}


def scrub(text: str) -> str:
    if text.count(".") < 3 and text.count(":") < 2:  # no room for an address: most lines,
        return text  # a request log line among them, skip the slower search
    return _ADDRESS.sub("[address]", text)


def _escape(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}"


class NoAddressFilter(logging.Filter):
    """Rewrites the record in place, so that every formatter after it writes no address
    (but in the lines that name the service's own servers, ``_OWN_SERVERS``) and no control
    character in the message: one record, one line (its traceback aside), whatever a stranger
    put in a path or a header that a line quotes (gunicorn's access log writes the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        own = _OWN_SERVERS.get(record.name)
        if own is None or not message.startswith(own):
            scrubbed = scrub(message)
            if _CONTROL.search(scrubbed):
                scrubbed = _CONTROL.sub(_escape, scrubbed)
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
