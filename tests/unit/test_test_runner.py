"""``manage.py test``: the suite where the dev dependencies are, one line where they are not,
and no log lines in between pytest's."""

import subprocess
import sys
from pathlib import Path

from tests.servers import REPO, base_env
from visitorsite.test_runner import MISSING_DEV_DEPENDENCIES


def _manage_test(tmp_path: Path, *labels: str, pythonpath: str = "") -> subprocess.CompletedProcess:
    env = base_env(DATA_DIR=str(tmp_path / "data"), SECRET_KEY="test-runner")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, "manage.py", "test", *labels],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_pytest_it_says_how_to_get_the_dev_dependencies(tmp_path):
    """The venv ``make run`` makes has no pytest: one line, exit status 1, no traceback."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "pytest.py").write_text('raise ImportError("pytest is not installed here")\n')
    result = _manage_test(tmp_path, "tests/unit/test_names.py", pythonpath=str(shim))
    assert result.returncode == 1
    assert result.stderr.strip() == f"CommandError: {MISSING_DEV_DEPENDENCIES}"
    assert "Traceback" not in result.stdout + result.stderr


def test_it_runs_the_suite_without_log_lines_in_its_output(tmp_path):
    """A test that logs a request line passes with nothing of it in the output: pytest keeps
    the line, to show it only if the test fails."""
    test = "tests/unit/test_operations.py::test_one_log_line_per_request_without_ip_or_user_agent"
    result = _manage_test(tmp_path, test)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output
    assert "visitorsite.request" not in output
