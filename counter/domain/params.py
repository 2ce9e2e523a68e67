"""How request parameters are read, on every route: integers are ASCII digits, and a JSON
body is one flat object of scalars.

Python's ``int()`` and ``\\d`` take any script's digits (``int("\\uff11")`` is 1, ``int("1_0")``
is 10): a counter's value must mean the same to every client that reads it back, so only
``0-9`` are digits here. Python's ``json`` parses nested values by recursion, so a body of
a few thousand brackets raises RecursionError (a 500); every parameter here is a scalar, so
the object is read one field at a time and a nested value is refused by its field's name,
before anything inside it is read.
"""

import json
import re

_INT = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 20  # past any bound used here; int() of thousands of digits is work
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, no other
_SCALAR = json.JSONDecoder().scan_once  # one value at a position: a scalar never recurses

Scalar = str | int | float | bool | None


class BadParameter(ValueError):
    """A parameter or body that is not what the route reads; the message says what is wrong
    (answered 400)."""


def parse_int(raw: str, *, name: str, low: int, high: int) -> int:
    """``raw`` as an integer from ``low`` to ``high``: an optional sign and ASCII digits,
    spaces around them allowed."""
    text = raw.strip(" \t")
    if not _INT.fullmatch(text):
        raise BadParameter(f"{name} must be a whole number in ASCII digits 0-9, got {raw[:40]!r}")
    if len(text.lstrip("+-")) > _MAX_DIGITS or not low <= int(text) <= high:
        raise BadParameter(f"{name} must be between {low} and {high}")
    return int(text)


def parse_object(text: str) -> dict[str, Scalar]:
    """A JSON object whose values are strings, numbers, true, false or null, read without
    recursion: a nested object or array is refused with its field's name, unread."""
    end = len(text)
    pos = _SPACE.match(text, 0).end()
    if pos == end or text[pos] != "{":
        raise BadParameter("the JSON body must be an object of parameters")
    fields: dict[str, Scalar] = {}
    pos = _SPACE.match(text, pos + 1).end()
    if text.startswith("}", pos):
        return _only_space_after(text, pos + 1, fields)
    while True:
        if not text.startswith('"', pos):
            raise _not_json("a field name in double quotes", pos)
        try:
            name, pos = json.decoder.scanstring(text, pos + 1)
        except ValueError as exc:
            raise BadParameter(f"the body is not valid JSON: {exc}") from None
        pos = _SPACE.match(text, pos).end()
        if not text.startswith(":", pos):
            raise _not_json("':' after a field name", pos)
        pos = _SPACE.match(text, pos + 1).end()
        if pos < end and text[pos] in "{[":
            raise BadParameter(
                f"{name[:40]!r} must be a string, number, true, false or null: a JSON body "
                "holds no nested objects or arrays"
            )
        if len(fields) >= _MAX_FIELDS and name not in fields:
            raise BadParameter(f"the JSON body has more than {_MAX_FIELDS} fields")
        try:
            fields[name], pos = _SCALAR(text, pos)
        except StopIteration:
            raise _not_json("a value", pos) from None
        except ValueError as exc:  # a bad string escape, a number of too many digits
            raise BadParameter(f"the body is not valid JSON: {exc}") from None
        pos = _SPACE.match(text, pos).end()
        if text.startswith("}", pos):
            return _only_space_after(text, pos + 1, fields)
        if not text.startswith(",", pos):
            raise _not_json("',' or '}'", pos)
        pos = _SPACE.match(text, pos + 1).end()


# As many as Django takes in a query string or a form (DATA_UPLOAD_MAX_NUMBER_FIELDS).
_MAX_FIELDS = 1000


def _only_space_after(text: str, pos: int, fields: dict[str, Scalar]) -> dict[str, Scalar]:
    if _SPACE.match(text, pos).end() != len(text):
        raise _not_json("nothing after the object", pos)
    return fields


def _not_json(expected: str, pos: int) -> BadParameter:
    return BadParameter(f"the body is not valid JSON: expected {expected} at character {pos}")
