"""The log line formats: plain (the default) and JSON (LOG_FORMAT=json), for log shippers: one
object a line."""

import json
import logging
from datetime import UTC, datetime

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


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
