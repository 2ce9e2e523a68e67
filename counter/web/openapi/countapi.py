"""The OpenAPI document's CountAPI paths: /hit, /get, /info, /set, /update, /reset,
/delete, /create, /stats."""

from counter.web.openapi.parts import (
    ANCHORED_NAME,
    BAD,
    CALLBACK,
    UNAVAILABLE,
    counter_path,
    int_query,
    json_answer,
    operation,
)
from counter.web.openapi.schemas import CREATED, ERROR, INFO, OLD_AND_NEW, VALUE, required_fields


def paths() -> dict:
    return {
        "/hit/{namespace}/{key}": counter_path(
            operation(
                "Count a visit (creates the counter on its first hit)",
                {
                    "200": json_answer(VALUE, "the total after this hit"),
                    "404": json_answer(
                        ERROR,
                        "a 'site' or 'p.*' counter no page view made: the page script makes those",
                    ),
                    "429": json_answer(ERROR, "rate limited"),
                },
            )
        ),
        "/get/{namespace}/{key}": counter_path(
            operation(
                "Read a counter's total",
                {
                    "200": json_answer(VALUE, "the total"),
                    "404": json_answer(VALUE, "no such counter: value null"),
                },
            )
        ),
        "/info/{namespace}/{key}": counter_path(
            operation(
                "A counter's options and total",
                {
                    "200": json_answer(INFO, "the counter"),
                    "404": json_answer(ERROR, "no such counter"),
                },
            )
        ),
        "/set/{namespace}/{key}": counter_path(
            operation(
                "Set the total (anonymous callers: only when enable_reset)",
                {
                    "200": json_answer(OLD_AND_NEW, "set"),
                    "403": json_answer(
                        {"oneOf": [OLD_AND_NEW, ERROR]}, "reset disabled, or wrong key"
                    ),
                    "404": json_answer(OLD_AND_NEW, "no such counter"),
                },
                [int_query("value", "the new total", required=True)],
                admin=True,
            )
        ),
        "/update/{namespace}/{key}": counter_path(
            operation(
                "Add an amount (anonymous callers: within the update bounds)",
                {
                    "200": json_answer(VALUE, "updated"),
                    "403": json_answer({"oneOf": [VALUE, ERROR]}, "out of bounds, or wrong key"),
                    "404": json_answer(VALUE, "no such counter"),
                },
                [int_query("amount", "added to the total (negative subtracts)", True)],
                admin=True,
            )
        ),
        "/reset/{namespace}/{key}": counter_path(
            operation(
                "Set the total to 0 (admin key required)",
                {
                    "200": json_answer(VALUE, "reset"),
                    "401": json_answer(ERROR, "no admin key given"),
                    "403": json_answer(ERROR, "wrong admin key"),
                    "404": json_answer(VALUE, "no such counter"),
                },
                admin=True,
            )
        ),
        "/delete/{namespace}/{key}": counter_path(
            operation(
                "Delete a counter and its history (admin key required)",
                {
                    "200": json_answer(
                        required_fields(status="string", namespace="string", key="string"),
                        "deleted",
                    ),
                    "401": json_answer(ERROR, "no admin key given"),
                    "403": json_answer(ERROR, "wrong admin key"),
                    "404": json_answer(ERROR, "no such counter"),
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
                        "schema": {"type": "string", "pattern": ANCHORED_NAME},
                    }
                    for name in ("namespace", "key")
                ]
                + [
                    int_query("value", "starting total (for migrations)"),
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
                    CALLBACK,
                ],
                "responses": {
                    "200": {
                        **json_answer(CREATED, "created: CountAPI's fields exactly"),
                        "headers": {
                            "X-Admin-Key": {
                                "description": "the admin key, shown once",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    "400": BAD,
                    "409": json_answer(ERROR, "the counter exists"),
                    "429": json_answer(ERROR, "rate limited"),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/stats": {
            "get": {
                "summary": "Service-wide figures",
                "parameters": [CALLBACK],
                "responses": {
                    "200": json_answer(
                        {
                            **required_fields(
                                keys_created="integer",
                                keys_updated="integer",
                                requests="integer",
                                version="string",
                            ),
                            "additionalProperties": False,
                        },
                        "figures",
                    ),
                    "400": BAD,
                    "503": UNAVAILABLE,
                },
            }
        },
    }
