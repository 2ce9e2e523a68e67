"""Restore counters from an export: merged in, or replacing what is there."""

import sys

from django.core.management.base import BaseCommand, CommandError

from counter import store
from counter.domain.backup_format import BackupError, read_backup
from counter.names import SITE_KEY


class Command(BaseCommand):
    help = "Import counters from JSON Lines made by export_counters (checked before writing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export to read ('-' for stdin)")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="make each counter exactly as exported (default: merge into what is there)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and say what would happen"
        )

    def handle(self, *args, file: str, replace: bool, dry_run: bool, **options):
        try:
            source = sys.stdin if file == "-" else open(file)  # noqa: SIM115
            with source:
                records = read_backup(source)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        except BackupError as exc:
            raise CommandError(f"{file}: {exc}; nothing was imported") from exc
        mode = "replace" if replace else "merge"
        if dry_run:
            self.stdout.write(f"{file}: {len(records)} counters, valid; would {mode} (dry run)")
            return
        progress = sys.stderr.isatty()
        try:
            for done, (counter, data) in enumerate(records, start=1):
                store.import_counter(counter, data, replace=replace)
                if progress and done % 100 == 0:
                    sys.stderr.write(f"\rimported {done} of {len(records)}")
            # A site's pages are named with its secret: the export's, or the one the site
            # has here already (a merge keeps it). Pages named with another move to it.
            for counter, data in records:
                if counter.key == SITE_KEY and data["pages"]:
                    store.rekey_pages(counter, store.page_secret(counter))
        except (store.StoreUnavailable, ValueError) as exc:
            raise CommandError(f"{exc} (after {done - 1} counters)") from exc
        if progress:
            sys.stderr.write("\n")
        self.stdout.write(f"imported {len(records)} counters ({mode})")
