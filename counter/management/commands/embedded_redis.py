"""Start, inspect or stop the embedded server (Valkey by default) of the data directory.

A server this command starts outlives it (that is what ``start`` is for); every other
command stops at its end the server it started.

``status`` follows the LSB convention for init scripts: exit 0 when the server runs, 3 when
it does not.
"""

from django.core.management.base import BaseCommand, CommandError

from counter.embedded import EmbeddedRedisError, embedded, hand_over_started_here

NOT_RUNNING = 3  # LSB: "program is not running"


class Command(BaseCommand):
    help = "Manage the embedded server (Valkey or Redis) used when REDIS_URL is unset."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "start", "stop"])

    def handle(self, *args, action: str, **options):
        server = embedded()
        where = f"{server.url} (data in {server.data_dir})"
        if action == "status":
            name = server.describe()
            if not name:
                self.stdout.write(f"not running: {where}")
                raise SystemExit(NOT_RUNNING)
            self.stdout.write(f"running: {name} at {where}")
        elif action == "start":
            try:
                started = server.ensure_running()
            except EmbeddedRedisError as exc:
                raise CommandError(str(exc)) from exc
            hand_over_started_here()  # asked for: it outlives this command
            state = "started" if started else "already running"
            self.stdout.write(f"{state}: {server.describe()} at {where}")
        elif server.stop():
            self.stdout.write(f"stopped: {server.url} (data kept in {server.data_dir})")
        else:
            self.stdout.write(f"not running: {server.url}")
