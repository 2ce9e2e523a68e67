"""gunicorn's error log without client addresses.

visitorsite logs no IP address, and neither may gunicorn: its "Invalid request from ip=..."
line (any malformed request, at WARNING) and a few others name the client. Every message
gunicorn logs goes through ``log`` here, which replaces IPv4 and IPv6 addresses with
``[address]``; the invalid-request line also drops to DEBUG, so that a stranger sending
garbage cannot fill the log. (The access log, off by default, has its own format without
addresses: gunicorn.conf.py.)
"""

import logging
import re
import sys
import traceback

from gunicorn.glogging import Logger

# IPv4, and IPv6 in its usual spellings (with "::" or eight groups, an optional zone); an
# address may be followed by ":port".
_ADDRESS = re.compile(
    r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"
    r"|(?<![\w.:])(?:(?=[0-9A-Fa-f:]*::)[0-9A-Fa-f:]*[0-9A-Fa-f]|::)(?:%\w+)?(?![\w.])"
    r"|(?<![\w.:])[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}(?![\w.])"
)


def scrub(text: str) -> str:
    return _ADDRESS.sub("[address]", text)


class PrivateLogger(Logger):
    def log(self, lvl, msg, *args, **kwargs):
        if isinstance(lvl, str):
            lvl = self.LOG_LEVELS.get(lvl.lower(), logging.INFO)
        if not self.error_log.isEnabledFor(lvl):  # gunicorn logs at DEBUG on every request
            return  # (the level is only ever lowered below, never raised)
        text = msg % args if args else str(msg)
        exc_info = kwargs.pop("exc_info", None)
        if exc_info:  # a traceback may quote an address too
            if exc_info is True:
                exc_info = sys.exc_info()
            elif isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            if exc_info[0] is not None:
                text += "\n" + "".join(traceback.format_exception(*exc_info)).rstrip()
        if text.startswith("Invalid request from"):
            lvl = logging.DEBUG
        if not text.startswith("Listening at:"):  # the server's own address, not a client's
            text = scrub(text)
        self.error_log.log(lvl, text, **kwargs)

    def critical(self, msg, *args, **kwargs):
        self.log(logging.CRITICAL, msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs):
        self.log(logging.ERROR, msg, *args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        self.log(logging.WARNING, msg, *args, **kwargs)

    def info(self, msg, *args, **kwargs):
        self.log(logging.INFO, msg, *args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        kwargs.setdefault("exc_info", True)
        self.log(logging.ERROR, msg, *args, **kwargs)
