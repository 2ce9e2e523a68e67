"""``python manage.py test`` hands over to pytest (the runner pytest-django documents).

pytest is a dev dependency: the venv ``make run`` makes has only the runtime ones, where
``manage.py test`` ended in a ModuleNotFoundError traceback. It now says in one line how to
get them.
"""

import importlib.util
import sys

from django.core.management.base import CommandError

MISSING_DEV_DEPENDENCIES = (
    "the tests need the dev dependencies: make test (or pip install -r requirements-dev.txt)"
)


class PytestTestRunner:
    def __init__(self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **kwargs):
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--keepdb", action="store_true", help="accepted for compatibility")

    def run_tests(self, test_labels, **kwargs) -> int:
        try:
            import pytest
        except ImportError as exc:
            raise CommandError(MISSING_DEV_DEPENDENCIES) from exc
        # Looked up, not imported: pytest rewrites its plugins' asserts only if it imports them.
        if importlib.util.find_spec("pytest_django") is None:
            raise CommandError(MISSING_DEV_DEPENDENCIES)

        argv = []
        if self.verbosity == 0:
            argv.append("--quiet")
        elif self.verbosity >= 2:
            argv.append("-" + "v" * (self.verbosity - 1))
        if self.failfast:
            argv.append("--exitfirst")
        argv.extend(test_labels)
        sys.stdout.flush()
        return pytest.main(argv)
