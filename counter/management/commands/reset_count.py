"""Reset a counter's total (by default the seed's ``default/visitor_count``) to a value."""

from django.core.management.base import BaseCommand, CommandError

from counter import store
from counter.names import SEED_COUNTER, InvalidName, counter_from_path


class Command(BaseCommand):
    help = "Reset a counter's total and print the old and new values."

    def add_arguments(self, parser):
        parser.add_argument(
            "counter",
            nargs="?",
            default=str(SEED_COUNTER),
            help="namespace/key, or a key in the 'default' namespace (default: %(default)s)",
        )
        parser.add_argument(
            "--value", type=int, default=0, help="the new total (default: %(default)s)"
        )

    def handle(self, *args, counter: str, value: int, **options):
        if value < 0:
            raise CommandError(f"--value must be 0 or more, got {value}")
        try:
            target = counter_from_path(counter, legacy=True)
        except InvalidName as exc:
            raise CommandError(str(exc)) from exc
        try:
            old = store.reset(target, value=value)
        except store.StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{target}: {old} -> {value}")
