"""Makefile targets, dry-run (``make -n``) on a copy: what they would run, nothing run."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(workdir: Path, *args: str) -> list[str]:
    shutil.copy(REPO / "Makefile", workdir / "Makefile")
    (workdir / "requirements.txt").touch()
    # As from a shell: not as a sub-make of `make test`, whose flags and level it would
    # inherit (and print "Entering directory" lines).
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _venv(workdir: Path) -> None:
    python = workdir / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho 3.11\n")
    python.chmod(0o755)


@pytest.mark.parametrize("python", ["python3", "python3.99-not-installed"])
def test_stop_redis_uses_the_existing_venv_whatever_python_says(tmp_path, python):
    """It only talks to the server: no venv rebuilt with another Python first."""
    _venv(tmp_path)
    assert _dry_run(tmp_path, "stop-redis", f"PYTHON={python}") == [
        ".venv/bin/python manage.py embedded_redis stop"
    ]


def test_stop_redis_sets_a_venv_up_where_there_is_none(tmp_path):
    commands = "\n".join(_dry_run(tmp_path, "stop-redis", "PYTHON=python3"))
    assert "python3 -m venv .venv" in commands
    assert commands.endswith(".venv/bin/python manage.py embedded_redis stop")


def _lock_commands(workdir: Path, *args: str) -> list[str]:
    (workdir / "requirements-dev.txt").touch()
    return [line for line in _dry_run(workdir, "lock", *args) if " pip compile " in line]


def test_lock_keeps_every_pin_unless_told(tmp_path):
    commands = _lock_commands(tmp_path)
    assert len(commands) == 3  # runtime, dev, bench
    assert not [c for c in commands if "--upgrade" in c]


def test_lock_upgrade_data_moves_the_data_that_ages_in_every_lock(tmp_path):
    """ua-parser's rules, the IP table and the crawler list (docs/DIMENSIONS.md)."""
    for command in _lock_commands(tmp_path, "UPGRADE=data"):
        words = command.split()
        upgraded = {words[i + 1] for i, w in enumerate(words) if w == "--upgrade-package"}
        assert upgraded == {"ua-parser-builtins", "iptocc", "crawlerdetect", "pycountry"}
        assert "--upgrade" not in words


def test_lock_upgrade_takes_names_and_uvs_flag(tmp_path):
    for command in _lock_commands(tmp_path, "UPGRADE=Django iptocc"):
        assert "--upgrade-package Django --upgrade-package iptocc" in command
    for command in _lock_commands(tmp_path, "UPGRADE=--upgrade"):
        assert " --upgrade " in command
        assert "--upgrade-package" not in command
