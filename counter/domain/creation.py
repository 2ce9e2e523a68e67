"""Creating a counter: the one path the API's /create and the dashboard's form share."""

import uuid
from dataclasses import dataclass

from counter import clock, store
from counter.domain.permissions import new_admin_key
from counter.names import Counter, counter_from_parts, made_by_page_script

# Counters made by create without options (CountAPI's defaults).
CREATE_DEFAULTS = {"enable_reset": False, "update_lowerbound": -1, "update_upperbound": 1}


class AlreadyExists(Exception):
    """A counter with this namespace and key exists already."""


@dataclass(frozen=True)
class Created:
    counter: Counter
    value: int
    admin_key: str  # shown once, never stored


def create_counter(
    *,
    namespace: str | None,
    key: str | None,
    value: int = 0,
    enable_reset: bool = CREATE_DEFAULTS["enable_reset"],
    update_lowerbound: int = CREATE_DEFAULTS["update_lowerbound"],
    update_upperbound: int = CREATE_DEFAULTS["update_upperbound"],
    private: bool = False,
) -> Created:
    """Validate, create with a fresh admin key (its hash kept), or raise AlreadyExists.

    Raises InvalidName for a bad namespace or key and ValueError for bad bounds."""
    counter = counter_from_parts(namespace=namespace or "default", key=key or str(uuid.uuid4()))
    if made_by_page_script(counter.key):
        raise ValueError(
            f"the key {counter.key!r} is the page script's: 'site' and 'p.*' counters are "
            "made by its page views, and their owner claims them (docs/API.md)"
        )
    # CountAPI's words (0 is allowed for both).
    if update_upperbound < 0:
        raise ValueError("update_upperbound must be positive")
    if update_lowerbound > 0:
        raise ValueError("update_lowerbound must be negative")
    admin_key, admin_hash = new_admin_key()
    meta = {
        "created": int(clock.now().timestamp() * 1000),
        "enable_reset": int(enable_reset),
        "update_lowerbound": update_lowerbound,
        "update_upperbound": update_upperbound,
        "admin_key_sha256": admin_hash,
        "private": int(private),
    }
    if not store.create(counter, value=value, meta=meta):
        raise AlreadyExists(str(counter))
    return Created(counter=counter, value=value, admin_key=admin_key)
