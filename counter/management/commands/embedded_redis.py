"""Start, inspect or stop the embedded redis-server of the data directory."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from visitorsite.embedded_redis import EmbeddedRedisError, embedded


class Command(BaseCommand):
    help = "Manage the embedded redis-server used when REDIS_URL is unset."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "start", "stop"])

    def handle(self, *args, action: str, **options):
        server = embedded()
        if action == "status":
            state = "running" if server.answers() else "stopped"
            self.stdout.write(f"{state}: {server.url} (data in {server.data_dir})")
        elif action == "start":
            try:
                started = server.ensure_running(fsync=settings.EMBEDDED_REDIS_FSYNC)
            except EmbeddedRedisError as exc:
                raise CommandError(str(exc)) from exc
            state = "started" if started else "already running"
            self.stdout.write(f"{state}: {server.url} (data in {server.data_dir})")
        elif server.stop():
            self.stdout.write(f"stopped: {server.url} (data kept in {server.data_dir})")
        else:
            self.stdout.write(f"not running: {server.url}")
