"""The store's Lua scripts, one file each, opening with its KEYS/ARGV contract.

A line ``-- include: <file>`` is replaced by that file (shared functions, such as the uniques
helpers in uniques.lua). ``load`` builds a redis-py Script once per process: its SHA is
computed from the text, so no client is needed; the store sends EVALSHA, and EVAL with the
text when Redis has lost the script (connection.run, pages._execute).
"""

from pathlib import Path

from redis.commands.core import Script

_HERE = Path(__file__).parent
_INCLUDE = "-- include: "


def source(name: str) -> str:
    """The script's text, includes resolved."""
    lines = (_HERE / name).read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(
        source(line[len(_INCLUDE) :].strip()) if line.startswith(_INCLUDE) else line
        for line in lines
    )


def load(name: str) -> Script:
    return Script(None, source(name).encode())
