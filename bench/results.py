"""Writing measured results into the docs, between markers, with the command that made them."""

import re
import time
from pathlib import Path


def write_results(path: Path, command: str, markdown: str, *, name: str = "results") -> None:
    """Replace what stands between the markers ``<!-- NAME:start -->`` and ``<!-- NAME:end
    -->`` in ``path`` with ``markdown``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    stamp = f"Command: `{command}` ({time.strftime('%Y-%m-%d')})"
    block = f"{start}\n{stamp}\n\n{markdown}\n{end}"
    pattern = re.escape(start) + ".*?" + re.escape(end)
    path.write_text(re.sub(pattern, lambda _: block, path.read_text(), flags=re.S))
