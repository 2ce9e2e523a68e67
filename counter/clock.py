"""The one source of "now" (UTC): tests replace ``clock.now`` to move days."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
