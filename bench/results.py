"""Writing measured results into the docs, between markers, with the command that made them."""

import re
import time
from pathlib import Path

START, END = "<!-- results:start -->", "<!-- results:end -->"


def write_results(path: Path, command: str, markdown: str) -> None:
    """Replace what stands between the markers in ``path`` with ``markdown``."""
    stamp = f"Command: `{command}` ({time.strftime('%Y-%m-%d')})"
    block = f"{START}\n{stamp}\n\n{markdown}\n{END}"
    pattern = re.escape(START) + ".*?" + re.escape(END)
    path.write_text(re.sub(pattern, lambda _: block, path.read_text(), flags=re.S))
