"""``runserver`` that says at start which Redis it counts in (starting the embedded one)."""

from django.core.management.commands.runserver import Command as RunserverCommand

from visitorsite.embedded_redis import announce


class Command(RunserverCommand):
    def inner_run(self, *args, **options):
        announce()
        super().inner_run(*args, **options)
