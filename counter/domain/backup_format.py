"""Backups as JSON Lines: one counter a line, everything needed to restore it exactly.

    {"namespace": "site", "key": "home", "total": 42, "bots": 3, "unique_visitor_days": 30,
     "daily": {"20261125": 7}, "daily_uniques": {"20261125": 5},
     "hll": {"20261125": "<base64 of the day's raw HyperLogLog>"},
     "hll_ttl": {"20261125": 34473600},
     "meta": {"created": "...", ...}, "pages": {"p.0f...": 12},
     "dimensions": {"20261125": {"country": {"GB": [7, 5]},
                                 "@referrer": {"/pricing\tnews.example": [2, 2]}}}}

"dimensions" (a site's only): per day, dimension and value, [hits, visitors]. The per-page
pairs (a breakdown's ?page=, ?referrer=, ?campaign=) are dimensions too: '@' and one of
the dimensions a page has (store.PAGE_PAIRS: '@referrer', '@campaign', '@browser', '@os',
'@device', '@country', '@event'), each value '<page path>\t<value>', or '(other)' for the
pairs past the day's cap. A backup made before they were carried has none: it imports as
before, and the pairs already there are kept.

An import reads and checks the whole file before it writes anything; an error names the line.
"""

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from counter import store
from counter.names import Counter, InvalidName, counter_from_parts

_DAY = re.compile(r"[0-9]{8}")  # ASCII: \d takes any script's digits
_FIELDS = {
    "namespace", "key", "total", "bots", "unique_visitor_days", "daily", "daily_uniques",
    "hll", "hll_ttl", "meta", "pages", "dimensions",
}  # fmt: skip


class BackupError(ValueError):
    """A line of a backup file that cannot be restored."""


def export_lines(counters: Iterable[Counter]) -> Iterator[str]:
    for counter in counters:
        data = store.export_counter(counter)
        data["hll"] = {day: base64.b64encode(raw).decode() for day, raw in data["hll"].items()}
        yield json.dumps({"namespace": counter.namespace, "key": counter.key, **data})


def _int(value, what: str, *, minimum: int | None = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BackupError(f"{what} must be an integer")
    if minimum is not None and value < minimum:
        raise BackupError(f"{what} must be {minimum} or more")
    if abs(value) > store.MAX_TOTAL:
        raise BackupError(f"{what} is beyond the largest count, {store.MAX_TOTAL}")
    return value


def _days(value, what: str, check) -> dict:
    if not isinstance(value, dict):
        raise BackupError(f"{what} must be an object of days")
    for day, item in value.items():
        if not _DAY.fullmatch(day):
            raise BackupError(f"{what}: {day!r} is not a day (yyyymmdd)")
        try:
            datetime.strptime(day, "%Y%m%d")
        except ValueError:
            raise BackupError(f"{what}: {day!r} is not a date") from None
        value[day] = check(item, f"{what}[{day}]")
    return value


def _hll(item, what: str) -> bytes:
    try:
        raw = base64.b64decode(item, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise BackupError(f"{what} is not base64") from None
    if not raw.startswith(b"HYLL"):
        raise BackupError(f"{what} is not a Redis HyperLogLog")
    return raw


def _pair(value: str, what: str) -> None:
    """A per-page pair's value: '<page path>\t<value>' on one line, or the cap's '(other)'."""
    if value == store.dimensions.OTHER:
        return
    path, tab, _ = value.partition("\t")
    if not tab or not path or "\n" in value:
        raise BackupError(
            f"{what}: {value!r} is not a per-page pair ('<page path>\\t<value>' on one line)"
        )


def _dimensions(item, what: str) -> dict:
    """One day's dimensions: {dimension: {value: [hits, visitors]}}, the per-page pairs'
    ('@<dimension>', store.PAGE_PAIRS) included."""
    if not isinstance(item, dict):
        raise BackupError(f"{what} must be an object of dimensions")
    for dimension, values in item.items():
        if dimension.startswith("@") and dimension not in store.PAGE_PAIRS:
            raise BackupError(
                f"{what}: {dimension!r} is not a dimension with per-page pairs "
                f"(one of {', '.join(store.PAGE_PAIRS)})"
            )
        if dimension not in (*store.DIMENSIONS, *store.PAGE_PAIRS) or not isinstance(values, dict):
            raise BackupError(f"{what}: {dimension!r} is not a dimension's object")
        for value, figures in values.items():
            named = value
            if dimension in store.PAGE_PAIRS:
                _pair(value, f"{what}[{dimension}]")
                named = repr(value)  # its tab shown
            if not (isinstance(figures, list) and len(figures) == 2):
                raise BackupError(f"{what}[{dimension}][{named}] must be [hits, visitors]")
            for figure in figures:
                _int(figure, f"{what}[{dimension}][{named}]")
    return item


def parse_line(text: str) -> tuple[Counter, dict]:
    """One line of a backup, checked and decoded; BackupError says what is wrong."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BackupError(f"not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise BackupError("not a JSON object")
    unknown = set(record) - _FIELDS
    if unknown:
        raise BackupError(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        counter = counter_from_parts(
            namespace=record.get("namespace"), key=record.get("key"), legacy=True
        )
    except InvalidName as exc:
        raise BackupError(str(exc)) from None
    total = record.get("total")
    meta = record.get("meta", {})
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise BackupError("meta must be an object of strings")
    pages = record.get("pages", {})
    if not isinstance(pages, dict):
        raise BackupError("pages must be an object")
    for page, hits in pages.items():
        try:
            counter_from_parts(namespace=counter.namespace, key=page, legacy=True)
        except InvalidName as exc:
            raise BackupError(f"pages: {exc}") from None
        _int(hits, f"pages[{page}]")
    data = {
        "total": None if total is None else _int(total, "total", minimum=None),
        "bots": _int(record.get("bots", 0), "bots"),
        "unique_visitor_days": _int(record.get("unique_visitor_days", 0), "unique_visitor_days"),
        "daily": _days(record.get("daily", {}), "daily", _int),
        "daily_uniques": _days(record.get("daily_uniques", {}), "daily_uniques", _int),
        "hll": _days(record.get("hll", {}), "hll", _hll),
        "hll_ttl": _days(record.get("hll_ttl", {}), "hll_ttl", lambda v, w: _int(v, w, minimum=-2)),
        "meta": meta,
        "pages": pages,
        "dimensions": _days(record.get("dimensions", {}), "dimensions", _dimensions),
    }
    return counter, data


def read_backup(lines: Iterable[str]) -> list[tuple[Counter, dict]]:
    """Every record of a backup, or BackupError naming the first bad line."""
    records = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            records.append(parse_line(text))
        except BackupError as exc:
            raise BackupError(f"line {number}: {exc}") from None
    return records
