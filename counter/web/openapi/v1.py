"""The OpenAPI document's v1 paths: /api/v1/counters/..."""

from counter.store.dimensions import DIMENSIONS
from counter.web.openapi.parts import (
    BAD,
    CALLBACK,
    HOST_PARAM,
    PATH_PARAMS,
    TOKEN,
    UNAVAILABLE,
    int_query,
    json_answer,
    operation,
    period_params,
)
from counter.web.openapi.schemas import (
    BREAKDOWN,
    CREATED_V1,
    DETAIL,
    ERROR,
    NEW_KEY,
    required_fields,
)

# A breakdown narrowed (docs/DIMENSIONS.md, "One page's figures"): a 400 unless page= goes
# with referrer, campaign, browser, os, device, country or event, or one of referrer=,
# campaign= with the page dimension.
NARROWING = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "maxLength": 512},
    }
    for name, description in (
        ("page", "that page's own values (its path): referrer, campaign, browser, os, "
         "device, country or event"),
        ("referrer", "with dimension=page: the pages visitors from this referrer viewed"),
        ("campaign", "with dimension=page: the pages visitors from this campaign viewed"),
    )
]  # fmt: skip


def paths() -> dict:
    return {
        "/api/v1/counters/{namespace}/{key}/admin-key": {
            "post": operation(
                "Replace the counter's admin key (the current key or ADMIN_TOKEN "
                "required); the old key stops working at once",
                {
                    "200": json_answer(NEW_KEY, "the new admin key, shown only here"),
                    "401": json_answer(ERROR, "no admin key given"),
                    "403": json_answer(ERROR, "wrong admin key"),
                    "404": json_answer(ERROR, "no such counter"),
                    "409": json_answer(ERROR, "rotated by another call meanwhile"),
                },
                admin=True,
            )
        },
        "/api/v1/counters/{namespace}/site/claim": {
            "get": {
                "summary": "How to claim the page script's site: a fresh admin key, the "
                "proof line and where to publish it (nothing is stored)",
                "parameters": [HOST_PARAM],
                "responses": {
                    "200": json_answer(
                        required_fields(
                            namespace="string",
                            key="string",
                            admin_key="string",
                            proof_url="string",
                            proof="string",
                            next="string",
                        ),
                        "the claim's instructions",
                    ),
                    "400": BAD,
                },
            },
            "post": {
                "summary": "Claim the site: with the key whose proof is published at the "
                "proof URL (or with ADMIN_TOKEN: a fresh key is answered), the key becomes "
                "the admin key of the site and its pages",
                "parameters": [
                    HOST_PARAM,
                    {
                        "name": "private",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                    },
                    TOKEN,
                ],
                "security": [{"adminKey": []}],
                "responses": {
                    "200": json_answer(
                        required_fields(namespace="string", key="string", value="integer"),
                        "claimed (admin_key too when ADMIN_TOKEN claimed)",
                    ),
                    "400": BAD,
                    "401": json_answer(ERROR, "no key given"),
                    "403": json_answer(ERROR, "no proof of the key at the proof URL"),
                    "429": json_answer(ERROR, "rate limited"),
                    "503": UNAVAILABLE,
                },
            },
        },
        "/api/v1/counters/{namespace}/{key}.csv": {
            "get": {
                "summary": "The daily series as CSV: a header row (date,hits,uniques), "
                "then a day a row, oldest first",
                "description": "With `compare=previous` three columns more, "
                "`previous_day,previous_hits,previous_uniques`: each row carries the "
                "previous period's day at the same place (the period's first day beside the "
                "previous period's first, and so on).",
                "parameters": [*PATH_PARAMS, *period_params(), TOKEN],
                "responses": {
                    "200": {
                        "description": "the days",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    "400": BAD,
                    "403": json_answer(ERROR, "a private counter, without its key"),
                    "404": json_answer(ERROR, "no such counter"),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/v1/counters/{namespace}/{key}/breakdown": {
            "get": {
                "summary": "A site's dimension (where visitors come from, what they use) "
                "over a period (`days`, or `from` and `to`): each value's hits and visitors, "
                "with `compare=previous` the previous period's beside them",
                "parameters": [
                    *PATH_PARAMS,
                    {
                        "name": "dimension",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "enum": list(DIMENSIONS)},
                    },
                    *period_params(),
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                    *NARROWING,
                    TOKEN,
                    CALLBACK,
                ],
                "responses": {
                    "200": json_answer(BREAKDOWN, "the dimension's values"),
                    "400": BAD,
                    "403": json_answer(ERROR, "a private counter, without its key"),
                    "404": json_answer(ERROR, "no such counter"),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/v1/counters/{namespace}/{key}": {
            "get": operation(
                "Totals, uniques, bots and the daily series of a period (`days`, or `from` "
                "and `to`); with `compare=previous` the previous period's totals beside them",
                {
                    "200": json_answer(DETAIL, "the counter"),
                    "404": json_answer(ERROR, "no such counter"),
                },
                period_params(),
            ),
            "post": {
                "summary": "Create the counter (CountAPI's create options); the answer "
                "holds its admin key, shown once",
                "parameters": [
                    *PATH_PARAMS,
                    int_query("value", "starting total (for migrations)"),
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
                    "200": json_answer(CREATED_V1, "created"),
                    "400": BAD,
                    "409": json_answer(ERROR, "the counter exists"),
                    "429": json_answer(ERROR, "rate limited"),
                    "503": UNAVAILABLE,
                },
            },
        },
    }
