"""gunicorn's logger, private: no client address in its lines, no flood from strangers.

Every handler gunicorn sets up (the error log, and the access log when ACCESS_LOG turns it
on) gets ``NoAddressFilter`` (visitorsite/logfilter.py), which replaces IPv4 and IPv6
addresses with ``[address]``, tracebacks included. gunicorn's "Invalid request from ip=..."
line (any malformed request, at WARNING) drops to DEBUG, so that a stranger sending garbage
cannot fill the log. (The access log has its own format without addresses: gunicorn.conf.py.)
"""

import logging

from gunicorn.glogging import Logger

from visitorsite.logfilter import NoAddressFilter


class PrivateLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(NoAddressFilter())

    def log(self, lvl, msg, *args, **kwargs):
        if isinstance(lvl, str):
            lvl = self.LOG_LEVELS.get(lvl.lower(), logging.INFO)
        if not self.error_log.isEnabledFor(lvl):  # gunicorn logs at DEBUG on every request
            return  # (the level is only ever lowered below, never raised)
        text = msg % args if args else str(msg)
        if text.startswith("Invalid request from"):
            lvl = logging.DEBUG
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
