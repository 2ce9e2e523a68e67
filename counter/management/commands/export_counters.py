"""Write every counter (or one namespace) as JSON Lines, to stdout or a file."""

import sys
from typing import TextIO

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from counter import store
from counter.domain.backup_format import export_lines


class Command(BaseCommand):
    help = "Export counters as JSON Lines (see counter/domain/backup_format.py for the format)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="file to write (default stdout)")
        parser.add_argument("--namespace", help="only this namespace")

    def handle(self, *args, output: str, namespace: str | None, **options):
        try:
            if output == "-":
                self._export(self.stdout, namespace)
            else:
                with open(output, "w") as handle:
                    count = self._export(handle, namespace)
                self.stdout.write(f"exported {count} counters to {output}")
        except store.StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc}") from exc

    def _export(self, handle: TextIO | OutputWrapper, namespace: str | None) -> int:
        progress = sys.stderr.isatty()  # a progress line only for a person at a terminal
        count = 0
        for count, line in enumerate(export_lines(store.iter_counters(namespace=namespace)), 1):
            handle.write(line + "\n")
            if progress and count % 100 == 0:
                sys.stderr.write(f"\rexported {count} counters")
        handle.flush()
        if progress:
            sys.stderr.write(f"\rexported {count} counters\n")
        return count
