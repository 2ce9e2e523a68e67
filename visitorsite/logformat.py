"""The log line formats: plain (the default) and JSON (LOG_FORMAT=json), for log shippers: one
object a line."""

import json
import logging
import time
from datetime import UTC, datetime

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class PlainFormatter(logging.Formatter):
    """PLAIN_FORMAT, with the time's text made once a second: ``formatTime`` (documented for
    overriding) is what every line pays for, and ``time.strftime`` is most of it."""

    def __init__(self, fmt: str = PLAIN_FORMAT, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:  # a race between threads only makes the text twice
            self._second_text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return self.default_msec_format % (self._second_text, record.msecs)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # A copy (one step under the GIL): another handler may be formatting this record in
        # another thread (visitorsite.logqueue) and adding attributes to it meanwhile.
        entry.update({k: v for k, v in vars(record).copy().items() if k not in _STANDARD})
        if record.exc_info:
            # Rendered when logged, if it was (visitorsite.logqueue), as logging.Formatter does.
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)
