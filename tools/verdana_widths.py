"""Regenerate counter/data/verdana-11px.json, the Verdana 11px width table badges measure with.

Where the numbers come from: the npm package ``anafanafo`` version 2.0.0 (MIT, (c) 2018
Metabolize LLC), file ``package/data/verdana-11px-normal.json`` inside its tarball
(sha256 77879518d11e026caa62b47ffb59709de9c225c5b0fc85ac8188d19958be8f86). That is the
table shields.io itself measures badge text with: its ``badge-maker`` package calls
``anafanafo(text, {font: '11px Verdana'})``, which sums one width per code point through
``char-width-table-consumer`` 1.0.0 (no kerning). The table was measured from Verdana by
its authors; all rights to Verdana are Microsoft's.

How anafanafo measures, and so what the committed file keeps:

* each code point has one width in px, given in the source as ``[first, last, width]``
  ranges of code points;
* control characters (code points 0-31 and 127) measure 0, whatever the table says;
* a code point the table lacks measures as wide as ``m`` (10.7 px).

The committed file stores that as ``runs`` from code point 0 upward, widths in hundredths
of a pixel (every source width has at most two decimals, so this is exact), control
characters already set to 0, and ``default`` for the code points no run covers. Its
``format`` field says how to read ``runs``.

Run from the repository root (needs ``npm`` on PATH, or a tarball or JSON file already at
hand)::

    python tools/verdana_widths.py                  # npm pack anafanafo@2.0.0 in a temp dir
    python tools/verdana_widths.py --from anafanafo-2.0.0.tgz
    python tools/verdana_widths.py --from verdana-11px-normal.json

It is never run by the tests or at run time; only the JSON it writes ships.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "anafanafo"
VERSION = "2.0.0"
MEMBER = "package/data/verdana-11px-normal.json"
SHA256 = "77879518d11e026caa62b47ffb59709de9c225c5b0fc85ac8188d19958be8f86"
OUT = Path(__file__).resolve().parent.parent / "counter" / "data" / "verdana-11px.json"

CONTROL = [*range(32), 127]  # char-width-table-consumer's isControlChar: width 0
DEFAULT_CHAR = "m"  # char-width-table-consumer's guess for a code point it has no width for
FORMAT = (
    "runs covers code points from 0 upward, in order: an integer w >= 0 is the next code "
    "point, w/100 px wide; [n, w] is the next n code points, each w/100 px wide; a negative "
    "-n skips the next n code points, which (like every code point after the last run) "
    "measure default/100 px. A text's width is the sum of its code points' widths: no kerning."
)


def fetch_source(source: Path | None) -> bytes:
    """The source JSON's bytes: from ``source`` (a .tgz or a .json) or from ``npm pack``."""
    if source is not None and source.suffix == ".json":
        return source.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            subprocess.run(
                ["npm", "pack", "--silent", f"{PACKAGE}@{VERSION}"],
                cwd=tmp,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            source = Path(tmp) / f"{PACKAGE}-{VERSION}.tgz"
        with tarfile.open(source) as tar:
            member = tar.extractfile(MEMBER)
            if member is None:
                sys.exit(f"{source} has no {MEMBER}")
            return member.read()


def hundredths(width: float) -> int:
    cents = round(width * 100)
    if cents / 100 != width:
        sys.exit(f"width {width} has more than two decimals: the format needs a finer unit")
    return cents


def widths_by_code_point(ranges: list[list[float]]) -> dict[int, int]:
    """Every code point anafanafo has a width for, in hundredths of a pixel."""
    widths: dict[int, int] = {}
    for first, last, width in ranges:
        for code_point in range(int(first), int(last) + 1):
            widths[code_point] = hundredths(width)
    for code_point in CONTROL:
        widths[code_point] = 0
    return widths


def encode_runs(widths: dict[int, int]) -> list[int | list[int]]:
    """The compact ``runs`` list described by FORMAT."""
    runs: list[int | list[int]] = []
    next_code_point = 0
    code_points = sorted(widths)
    i = 0
    while i < len(code_points):
        start = code_points[i]
        if start > next_code_point:
            runs.append(next_code_point - start)
        j = i
        while (
            j + 1 < len(code_points)
            and code_points[j + 1] == code_points[j] + 1
            and widths[code_points[j + 1]] == widths[start]
        ):
            j += 1
        count = j - i + 1
        runs.append(widths[start] if count == 1 else [count, widths[start]])
        next_code_point = code_points[j] + 1
        i = j + 1
    return runs


def decode_runs(runs: list[int | list[int]]) -> dict[int, int]:
    """The inverse of encode_runs (what counter/render/badges.py reads), to check the output."""
    widths: dict[int, int] = {}
    code_point = 0
    for run in runs:
        if isinstance(run, list):
            count, width = run
            for offset in range(count):
                widths[code_point + offset] = width
            code_point += count
        elif run < 0:
            code_point -= run
        else:
            widths[code_point] = run
            code_point += 1
    return widths


def dump(table: dict[str, object], runs: list[int | list[int]]) -> str:
    """Pretty header, ``runs`` wrapped at about 100 characters a line (readable diffs)."""
    head = json.dumps({**table, "runs": None}, indent=2, ensure_ascii=False)
    items = [json.dumps(run, separators=(",", ":")) for run in runs]
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 1 > 96:
            lines.append(line)
            line = ""
        line += item + ","
    lines.append(line.rstrip(","))
    body = "[\n" + "\n".join("    " + text for text in lines) + "\n  ]"
    return head.replace('"runs": null', f'"runs": {body}') + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="a .tgz or the .json itself")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    raw = fetch_source(args.source)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        sys.exit(f"{MEMBER} has sha256 {digest}, not {SHA256}: a different table")
    widths = widths_by_code_point(json.loads(raw))
    runs = encode_runs(widths)
    assert decode_runs(runs) == widths
    table = {
        "font": "Verdana 11px, normal weight",
        "source": {
            "package": f"npm {PACKAGE} {VERSION}",
            "file": MEMBER,
            "sha256": digest,
            "license": "MIT, Copyright (c) 2018 Metabolize LLC; Verdana is Microsoft's",
            "generator": "tools/verdana_widths.py",
        },
        "unit": "1/100 px",
        "format": FORMAT,
        "default": widths[ord(DEFAULT_CHAR)],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump(table, runs), encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(widths)} code points)")


if __name__ == "__main__":
    main()
