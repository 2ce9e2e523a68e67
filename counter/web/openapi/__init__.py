"""The OpenAPI 3.1 document of the JSON API, served at /api/openapi.json.

Written by hand: the views are plain Django functions (no DRF or django-ninja to generate it
from), and the document is the contract CountAPI clients rely on, so it is kept as data and
checked by tests: it validates as OpenAPI, names every API route, and schemathesis holds the
live server to it.

    schemas.py   the JSON bodies the API answers
    parts.py     the parameters, answers and operation shape the paths share
    countapi.py  CountAPI's paths (/hit ... /stats)
    v1.py        the v1 paths (/api/v1/counters/...)
    site.py      a page script's site: its settings (PATCH), who is on it now
"""

from counter.web.openapi import countapi, site, v1


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
            **countapi.paths(),
            **v1.paths(),
            **site.paths(),
        },
    }
