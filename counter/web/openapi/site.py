"""The OpenAPI document's paths of a page script's site: its settings (PATCH) and who is on
it now."""

from counter.store.counters import NOW_WINDOW_SECONDS
from counter.store.zones import ZONE_NAMES
from counter.web.openapi.parts import (
    BAD,
    CALLBACK,
    PATH_PARAMS,
    TOKEN,
    UNAVAILABLE,
    json_answer,
)
from counter.web.openapi.schemas import ERROR

SITE_PARAM = {**PATH_PARAMS[0], "description": "the namespace the site's page script counts under"}
# The zones this server knows: exactly what the PATCH accepts, so the document says which
# names are valid.
ZONES = list(ZONE_NAMES)

SETTINGS = {
    "type": "object",
    "required": ["namespace", "key", "timezone"],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string", "enum": ["site"]},
        "timezone": {"type": "string", "description": "an IANA time zone"},
    },
}
NOW = {
    "type": "object",
    "required": ["namespace", "key", "visitors", "pages", "window_seconds"],
    "properties": {
        "namespace": {"type": "string"},
        "key": {"type": "string", "enum": ["site"]},
        "visitors": {
            "type": "integer",
            "minimum": 0,
            "description": "distinct visitors of the window's page views",
        },
        "pages": {
            "type": "array",
            "description": "the pages they viewed, most visitors first",
            "items": {
                "type": "object",
                "required": ["page", "visitors"],
                "properties": {
                    "page": {"type": "string", "description": "the page's path"},
                    "visitors": {"type": "integer", "minimum": 0},
                },
            },
        },
        "window_seconds": {"type": "integer", "enum": [NOW_WINDOW_SECONDS]},
    },
}


def paths() -> dict:
    return {
        "/api/v1/counters/{namespace}/site": {
            "patch": {
                "summary": "Set the site's time zone (its admin key or ADMIN_TOKEN): its days, "
                "and its pages', begin at local midnight from then on; days counted before "
                "keep their dates",
                "parameters": [SITE_PARAM, TOKEN],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["timezone"],
                                "additionalProperties": False,
                                "properties": {
                                    "timezone": {
                                        "type": "string",
                                        "description": "an IANA name: Europe/Paris",
                                        "enum": ZONES,
                                    }
                                },
                            }
                        }
                    },
                },
                "security": [{"adminKey": []}],
                "responses": {
                    "200": json_answer(SETTINGS, "the site's settings now"),
                    "400": BAD,
                    "401": json_answer(ERROR, "no admin key given"),
                    "403": json_answer(ERROR, "wrong admin key"),
                    "404": json_answer(ERROR, "no such site"),
                    "503": UNAVAILABLE,
                },
            },
        },
        "/api/v1/counters/{namespace}/site/now": {
            "get": {
                "summary": f"Who is on the site now: the distinct visitors of the last "
                f"{NOW_WINDOW_SECONDS // 60} minutes' page views, and their pages",
                "parameters": [SITE_PARAM, TOKEN, CALLBACK],
                "responses": {
                    "200": json_answer(NOW, "visitors now"),
                    "400": BAD,
                    "403": json_answer(ERROR, "a private site, without its key"),
                    "404": json_answer(ERROR, "no such site"),
                    "503": UNAVAILABLE,
                },
            }
        },
    }
