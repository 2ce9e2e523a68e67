"""The pieces the OpenAPI document's paths are made of: parameters, answers, operations."""

from django.conf import settings

from counter.domain.claims import HOST_PATTERN
from counter.names import NAME_PATTERN
from counter.web.openapi.schemas import ERROR

ANCHORED_NAME = f"^{NAME_PATTERN}$"


def json_answer(schema: dict, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": schema},
            # JSONP (?callback=): the same object, with "status", wrapped in a call.
            "application/javascript": {"schema": {"type": "string"}},
        },
    }


BAD = json_answer(ERROR, "invalid namespace, key or parameter")
UNAVAILABLE = json_answer(ERROR, "Redis unavailable (Retry-After says when to retry)")
PATH_PARAMS = [
    {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": ANCHORED_NAME},
    }
    for name in ("namespace", "key")
]
CALLBACK = {
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
HOST_PARAM = {
    "name": "namespace",
    "in": "path",
    "required": True,
    "description": "the host name the site's page script counts under",
    "schema": {"type": "string", "pattern": f"^{HOST_PATTERN}$", "maxLength": 64},
}
TOKEN = {
    "name": "token",
    "in": "query",
    "required": False,
    "description": "the admin key, when an Authorization header cannot be sent",
    "schema": {"type": "string"},
}


def int_query(name: str, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "integer", "minimum": -(10**15) + 1, "maximum": 10**15 - 1},
    }


def days_param() -> dict:
    """``?days=``: read when the document is made (the retention is a setting)."""
    return {
        "name": "days",
        "in": "query",
        "required": False,
        "description": "the last N days, today included (30 by default); not with from/to",
        "schema": {"type": "integer", "minimum": 1, "maximum": settings.COUNTER_RETENTION_DAYS},
    }


def period_params(*, compare: bool = True) -> list[dict]:
    """A read's period (counter.domain.periods): ``days``, or ``from`` and ``to``; and
    ``compare=previous``. A period past the retention, in the future, or half given is a
    400 naming the problem."""
    dates = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"{what} (UTC, included); with {other}, not with days",
            "schema": {"type": "string", "format": "date"},
        }
        for name, what, other in (
            ("from", "the period's first day", "to"),
            ("to", "the period's last day, today at the latest", "from"),
        )
    ]
    params = [days_param(), *dates]
    if compare:
        params.append(
            {
                "name": "compare",
                "in": "query",
                "required": False,
                "description": "previous: the period of equal length just before, beside it",
                "schema": {"type": "string", "enum": ["previous"]},
            }
        )
    return params


def operation(summary: str, responses: dict, params: list | None = None, admin=False) -> dict:
    operation = {
        "summary": summary,
        "parameters": [*PATH_PARAMS, *(params or []), CALLBACK],
        "responses": {**responses, "400": BAD, "503": UNAVAILABLE},
    }
    if admin:
        operation["security"] = [{}, {"adminKey": []}]
        operation["parameters"].append(TOKEN)
    return operation


def counter_path(operation: dict) -> dict:
    return {"get": operation, "post": operation}
