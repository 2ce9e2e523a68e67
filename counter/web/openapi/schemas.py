"""The OpenAPI document's schemas: the JSON bodies the API answers."""

from counter.store.dimensions import DIMENSIONS

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
NEW_KEY = {
    "type": "object",
    "required": ["namespace", "key", "admin_key"],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "admin_key": {"type": "string"},
    },
}
VALUE = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": {"type": ["integer", "null"]}},
}
OLD_AND_NEW = {
    "type": "object",
    "required": ["old_value", "value"],
    "properties": {
        "old_value": {"type": ["integer", "null"]},
        "value": {"type": ["integer", "null"]},
    },
}
INFO = {
    "type": "object",
    "required": [
        "namespace",
        "key",
        "ttl",
        "created",
        "update_lowerbound",
        "update_upperbound",
        "enable_reset",
        "value",
    ],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "ttl": {"type": "integer", "description": "-1: counters never expire"},
        "created": {"type": ["integer", "null"], "description": "ms since the epoch"},
        "update_lowerbound": {"type": "integer"},
        "update_upperbound": {"type": "integer"},
        "enable_reset": {"type": "boolean"},
        "value": {"type": "integer"},
    },
}
CREATED = {
    "type": "object",
    "required": ["namespace", "key", "value"],
    "additionalProperties": False,
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "value": {"type": "integer"},
    },
}
CREATED_V1 = {
    "type": "object",
    "required": ["namespace", "key", "value", "admin_key"],
    "properties": {
        **CREATED["properties"],
        "admin_key": {"type": "string", "description": "shown once; only its hash is kept"},
    },
}
PERIOD = {
    "type": "object",
    "required": ["from", "to", "days"],
    "properties": {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "days": {"type": "integer", "minimum": 1},
    },
}
TOTALS = {
    "type": "object",
    "required": ["hits", "uniques"],
    "properties": {
        "hits": {"type": "integer", "minimum": 0, "description": "the period's days, summed"},
        "uniques": {
            "type": "integer",
            "minimum": 0,
            "description": "distinct visitor ids over the period",
        },
    },
}
DETAIL = {
    "type": "object",
    "required": [
        "namespace",
        "key",
        "total",
        "uniques",
        "today",
        "bots",
        "period",
        "totals",
        "days",
    ],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "total": {"type": "integer"},
        "uniques": {"type": "integer", "description": "distinct visitor ids over the range"},
        "unique_visitor_days": {"type": "integer"},
        "today": {
            "type": "object",
            "properties": {"hits": {"type": "integer"}, "uniques": {"type": "integer"}},
        },
        "bots": {"type": "integer"},
        "timezone": {
            "type": "string",
            "description": "a page script's site only: the IANA zone its days are dated in",
        },
        "period": PERIOD,
        "totals": TOTALS,
        "previous_period": {**PERIOD, "description": "with compare=previous only"},
        "previous_totals": {**TOTALS, "description": "with compare=previous only"},
        "pages": {
            "description": "a page script's site only: its most viewed pages",
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "hits": {"type": "integer"},
                    "key": {"type": "string", "description": "the page counter's key"},
                },
            },
        },
        "days": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "hits": {"type": "integer"},
                    "uniques": {"type": "integer"},
                },
            },
        },
    },
}


BREAKDOWN = {
    "type": "object",
    "required": ["namespace", "key", "dimension", "days", "period", "rows"],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "dimension": {"type": "string", "enum": list(DIMENSIONS)},
        "days": {"type": "integer", "description": "the period's length"},
        "period": PERIOD,
        "previous_period": {**PERIOD, "description": "with compare=previous only"},
        "page": {"type": "string", "description": "the page narrowed to, when asked"},
        "referrer": {"type": "string", "description": "the referrer narrowed to, when asked"},
        "campaign": {"type": "string", "description": "the campaign narrowed to, when asked"},
        "timezone": {"type": "string", "description": "the IANA zone the days are dated in"},
        "rows": {
            "type": "array",
            "description": "most hits first; values past the daily cap or the limit are "
            '"(other)"; visitors are visitor-days (docs/DIMENSIONS.md)',
            "items": {
                "type": "object",
                "required": ["value", "hits", "visitors"],
                "properties": {
                    "value": {"type": "string"},
                    "hits": {"type": "integer", "minimum": 0},
                    "visitors": {"type": "integer", "minimum": 0},
                    "previous_hits": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "with compare=previous only: the previous period's; "
                        '"(other)" holds every previous value not named in a row',
                    },
                    "previous_visitors": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}


def required_fields(**types: str) -> dict:
    """An object schema whose every field is required, from ``name="json type"`` pairs."""
    return {
        "type": "object",
        "required": list(types),
        "properties": {name: {"type": kind} for name, kind in types.items()},
    }
