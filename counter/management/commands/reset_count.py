"""Start a counter over at a value (by default the seed's ``default/visitor_count`` at 0).

A reset clears the counter's daily history, unique visitors and bot hits with its total
(store.reset), so that no day shows more hits than the total. A name that does not exist is
refused unless ``--create``: a typo must not make a counter. The seed's counter is the one
exception at 0: before its first visit it reads 0 already, so a bare ``reset_count`` on a
fresh install says so and writes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from counter import store
from counter.names import SEED_COUNTER, InvalidName, counter_from_path


class Command(BaseCommand):
    help = (
        "Start a counter over at a value (its daily history, uniques and bot hits are "
        "cleared) and print the old and new totals."
    )

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
        parser.add_argument(
            "--create",
            action="store_true",
            help="make the counter at --value when it does not exist (else that is an error)",
        )

    def handle(self, *args, counter: str, value: int, create: bool, **options):
        if value < 0:
            raise CommandError(f"--value must be 0 or more, got {value}")
        try:
            target = counter_from_path(counter, legacy=True)
        except InvalidName as exc:
            raise CommandError(str(exc)) from exc
        try:
            old = store.reset(target, value=value, create=create)
        except store.StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        if old is not None:
            self.stdout.write(f"{target}: {old} -> {value}")
        elif create:
            self.stdout.write(f"{target}: created at {value}")
        elif target == SEED_COUNTER and value == 0:
            self.stdout.write(f"{target}: not visited yet, already at 0 (nothing to reset)")
        else:
            raise CommandError(
                f"no counter '{target}': check the name, or add --create to make it at {value}"
            )
