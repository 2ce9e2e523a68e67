"""The OpenAPI 3.1 document of the JSON API, served at /api/openapi.json.

Written by hand: the views are plain Django functions (no DRF or django-ninja to generate it
from), and the document is the contract CountAPI clients rely on, so it is kept as data and
checked by tests: it validates as OpenAPI, names every API route, and schemathesis holds the
live server to it.
"""

from django.conf import settings

from counter.domain.claims import HOST_PATTERN
from counter.names import NAME_PATTERN
from counter.store.dimensions import DIMENSIONS

_NAME_PATTERN = f"^{NAME_PATTERN}$"

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
_NEW_KEY = {
    "type": "object",
    "required": ["namespace", "key", "admin_key"],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "admin_key": {"type": "string"},
    },
}
_VALUE = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": {"type": ["integer", "null"]}},
}
_OLD_AND_NEW = {
    "type": "object",
    "required": ["old_value", "value"],
    "properties": {
        "old_value": {"type": ["integer", "null"]},
        "value": {"type": ["integer", "null"]},
    },
}
_INFO = {
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
_CREATED = {
    "type": "object",
    "required": ["namespace", "key", "value"],
    "additionalProperties": False,
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "value": {"type": "integer"},
    },
}
_CREATED_V1 = {
    "type": "object",
    "required": ["namespace", "key", "value", "admin_key"],
    "properties": {
        **_CREATED["properties"],
        "admin_key": {"type": "string", "description": "shown once; only its hash is kept"},
    },
}
_DETAIL = {
    "type": "object",
    "required": ["namespace", "key", "total", "uniques", "today", "bots", "days"],
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


def _object(**types: str) -> dict:
    """An object schema whose every field is required, from ``name="json type"`` pairs."""
    return {
        "type": "object",
        "required": list(types),
        "properties": {name: {"type": kind} for name, kind in types.items()},
    }


def _json(schema: dict, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": schema},
            # JSONP (?callback=): the same object, with "status", wrapped in a call.
            "application/javascript": {"schema": {"type": "string"}},
        },
    }


_BAD = _json(_ERROR, "invalid namespace, key or parameter")
_UNAVAILABLE = _json(_ERROR, "Redis unavailable (Retry-After says when to retry)")
_PATH_PARAMS = [
    {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": _NAME_PATTERN},
    }
    for name in ("namespace", "key")
]
_CALLBACK = {
    "name": "callback",
    "in": "query",
    "required": False,
    "description": "JSONP: wrap the answer in this function (always 200, status inside)",
    "schema": {
        "type": "string",
        "pattern": r"^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,3}$",
    },
}
# A site claimed by proof is named by its host: at most 64 characters (a name's length).
_HOST_PARAM = {
    "name": "namespace",
    "in": "path",
    "required": True,
    "description": "the host name the site's page script counts under",
    "schema": {"type": "string", "pattern": f"^{HOST_PATTERN}$", "maxLength": 64},
}
_BREAKDOWN = {
    "type": "object",
    "required": ["namespace", "key", "dimension", "days", "rows"],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string"},
        "dimension": {"type": "string", "enum": list(DIMENSIONS)},
        "days": {"type": "integer"},
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
                },
            },
        },
    },
}
_TOKEN = {
    "name": "token",
    "in": "query",
    "required": False,
    "description": "the admin key, when an Authorization header cannot be sent",
    "schema": {"type": "string"},
}


def _int_query(name: str, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "integer", "minimum": -(10**15) + 1, "maximum": 10**15 - 1},
    }


def _days() -> dict:
    """``?days=``: read when the document is made (the retention is a setting)."""
    return {
        "name": "days",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": settings.COUNTER_RETENTION_DAYS},
    }


def _operation(summary: str, responses: dict, params: list | None = None, admin=False) -> dict:
    operation = {
        "summary": summary,
        "parameters": [*_PATH_PARAMS, *(params or []), _CALLBACK],
        "responses": {**responses, "400": _BAD, "503": _UNAVAILABLE},
    }
    if admin:
        operation["security"] = [{}, {"adminKey": []}]
        operation["parameters"].append(_TOKEN)
    return operation


def _counter_path(operation: dict) -> dict:
    return {"get": operation, "post": operation}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "visitorsite",
            "version": "1.0.0",
            "description": "CountAPI-compatible counters with uniques and daily history. "
            "The namespace may be left out of any counter path (it is then 'default').",
        },
        "components": {
            "securitySchemes": {"adminKey": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/hit/{namespace}/{key}": _counter_path(
                _operation(
                    "Count a visit (creates the counter on its first hit)",
                    {
                        "200": _json(_VALUE, "the total after this hit"),
                        "429": _json(_ERROR, "rate limited"),
                    },
                )
            ),
            "/get/{namespace}/{key}": _counter_path(
                _operation(
                    "Read a counter's total",
                    {
                        "200": _json(_VALUE, "the total"),
                        "404": _json(_VALUE, "no such counter: value null"),
                    },
                )
            ),
            "/info/{namespace}/{key}": _counter_path(
                _operation(
                    "A counter's options and total",
                    {"200": _json(_INFO, "the counter"), "404": _json(_ERROR, "no such counter")},
                )
            ),
            "/set/{namespace}/{key}": _counter_path(
                _operation(
                    "Set the total (anonymous callers: only when enable_reset)",
                    {
                        "200": _json(_OLD_AND_NEW, "set"),
                        "403": _json(
                            {"oneOf": [_OLD_AND_NEW, _ERROR]}, "reset disabled, or wrong key"
                        ),
                        "404": _json(_OLD_AND_NEW, "no such counter"),
                    },
                    [_int_query("value", "the new total", required=True)],
                    admin=True,
                )
            ),
            "/update/{namespace}/{key}": _counter_path(
                _operation(
                    "Add an amount (anonymous callers: within the update bounds)",
                    {
                        "200": _json(_VALUE, "updated"),
                        "403": _json({"oneOf": [_VALUE, _ERROR]}, "out of bounds, or wrong key"),
                        "404": _json(_VALUE, "no such counter"),
                    },
                    [_int_query("amount", "added to the total (negative subtracts)", True)],
                    admin=True,
                )
            ),
            "/reset/{namespace}/{key}": _counter_path(
                _operation(
                    "Set the total to 0 (admin key required)",
                    {
                        "200": _json(_VALUE, "reset"),
                        "401": _json(_ERROR, "no admin key given"),
                        "403": _json(_ERROR, "wrong admin key"),
                        "404": _json(_VALUE, "no such counter"),
                    },
                    admin=True,
                )
            ),
            "/delete/{namespace}/{key}": _counter_path(
                _operation(
                    "Delete a counter and its history (admin key required)",
                    {
                        "200": _json(
                            _object(status="string", namespace="string", key="string"), "deleted"
                        ),
                        "401": _json(_ERROR, "no admin key given"),
                        "403": _json(_ERROR, "wrong admin key"),
                        "404": _json(_ERROR, "no such counter"),
                    },
                    admin=True,
                )
            ),
            "/create": {
                "get": {
                    "summary": "Create a counter; returns its admin key once",
                    "parameters": [
                        {
                            "name": name,
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "pattern": _NAME_PATTERN},
                        }
                        for name in ("namespace", "key")
                    ]
                    + [
                        _int_query("value", "starting total (for migrations)"),
                        {
                            "name": "enable_reset",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                        },
                        {
                            "name": "update_lowerbound",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "maximum": 0, "minimum": -(10**15) + 1},
                        },
                        {
                            "name": "update_upperbound",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 0, "maximum": 10**15 - 1},
                        },
                        _CALLBACK,
                    ],
                    "responses": {
                        "200": {
                            **_json(_CREATED, "created: CountAPI's fields exactly"),
                            "headers": {
                                "X-Admin-Key": {
                                    "description": "the admin key, shown once",
                                    "schema": {"type": "string"},
                                }
                            },
                        },
                        "400": _BAD,
                        "409": _json(_ERROR, "the counter exists"),
                        "429": _json(_ERROR, "rate limited"),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/stats": {
                "get": {
                    "summary": "Service-wide figures",
                    "parameters": [_CALLBACK],
                    "responses": {
                        "200": _json(
                            {
                                **_object(
                                    keys_created="integer",
                                    keys_updated="integer",
                                    requests="integer",
                                    version="string",
                                ),
                                "additionalProperties": False,
                            },
                            "figures",
                        ),
                        "400": _BAD,
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/v1/counters/{namespace}/{key}/admin-key": {
                "post": _operation(
                    "Replace the counter's admin key (the current key or ADMIN_TOKEN "
                    "required); the old key stops working at once",
                    {
                        "200": _json(_NEW_KEY, "the new admin key, shown only here"),
                        "401": _json(_ERROR, "no admin key given"),
                        "403": _json(_ERROR, "wrong admin key"),
                        "404": _json(_ERROR, "no such counter"),
                        "409": _json(_ERROR, "rotated by another call meanwhile"),
                    },
                    admin=True,
                )
            },
            "/api/v1/counters/{namespace}/site/claim": {
                "get": {
                    "summary": "How to claim the page script's site: a fresh admin key, the "
                    "proof line and where to publish it (nothing is stored)",
                    "parameters": [_HOST_PARAM],
                    "responses": {
                        "200": _json(
                            _object(
                                namespace="string",
                                key="string",
                                admin_key="string",
                                proof_url="string",
                                proof="string",
                                next="string",
                            ),
                            "the claim's instructions",
                        ),
                        "400": _BAD,
                    },
                },
                "post": {
                    "summary": "Claim the site: with the key whose proof is published at the "
                    "proof URL (or with ADMIN_TOKEN: a fresh key is answered), the key becomes "
                    "the admin key of the site and its pages",
                    "parameters": [
                        _HOST_PARAM,
                        {
                            "name": "private",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                        },
                        _TOKEN,
                    ],
                    "security": [{"adminKey": []}],
                    "responses": {
                        "200": _json(
                            _object(namespace="string", key="string", value="integer"),
                            "claimed (admin_key too when ADMIN_TOKEN claimed)",
                        ),
                        "400": _BAD,
                        "401": _json(_ERROR, "no key given"),
                        "403": _json(_ERROR, "no proof of the key at the proof URL"),
                        "429": _json(_ERROR, "rate limited"),
                        "503": _UNAVAILABLE,
                    },
                },
            },
            "/api/v1/counters/{namespace}/{key}.csv": {
                "get": {
                    "summary": "The daily series as CSV: a header row (date,hits,uniques), "
                    "then a day a row, oldest first",
                    "parameters": [*_PATH_PARAMS, _days(), _TOKEN],
                    "responses": {
                        "200": {
                            "description": "the days",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        "400": _BAD,
                        "403": _json(_ERROR, "a private counter, without its key"),
                        "404": _json(_ERROR, "no such counter"),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/v1/counters/{namespace}/{key}/breakdown": {
                "get": {
                    "summary": "A site's dimension (where visitors come from, what they use) "
                    "over the last `days` days: each value's hits and visitors",
                    "parameters": [
                        *_PATH_PARAMS,
                        {
                            "name": "dimension",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "enum": list(DIMENSIONS)},
                        },
                        _days(),
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        },
                        _TOKEN,
                        _CALLBACK,
                    ],
                    "responses": {
                        "200": _json(_BREAKDOWN, "the dimension's values"),
                        "400": _BAD,
                        "403": _json(_ERROR, "a private counter, without its key"),
                        "404": _json(_ERROR, "no such counter"),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/v1/counters/{namespace}/{key}": {
                "get": _operation(
                    "Totals, uniques, bots and the daily series of the last `days` days",
                    {"200": _json(_DETAIL, "the counter"), "404": _json(_ERROR, "no such counter")},
                    [_days()],
                ),
                "post": {
                    "summary": "Create the counter (CountAPI's create options); the answer "
                    "holds its admin key, shown once",
                    "parameters": [
                        *_PATH_PARAMS,
                        _int_query("value", "starting total (for migrations)"),
                        *[
                            {
                                "name": name,
                                "in": "query",
                                "required": False,
                                "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                            }
                            for name in ("enable_reset", "private")
                        ],
                    ],
                    "responses": {
                        "200": _json(_CREATED_V1, "created"),
                        "400": _BAD,
                        "409": _json(_ERROR, "the counter exists"),
                        "429": _json(_ERROR, "rate limited"),
                        "503": _UNAVAILABLE,
                    },
                },
            },
        },
    }
