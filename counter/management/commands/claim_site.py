"""The operator claims a page script's site for its owner: a fresh admin key, printed once."""

from django.core.management.base import BaseCommand, CommandError

from counter import store
from counter.domain.permissions import new_admin_key
from counter.names import SITE_KEY, InvalidName, counter_from_parts


class Command(BaseCommand):
    help = (
        "Give <namespace>/site (made now if need be) a fresh admin key, replacing any other, "
        "and print it. The key rules the site's page counters too."
    )

    def add_arguments(self, parser):
        parser.add_argument("namespace", help="the namespace the page script counts in")
        privacy = parser.add_mutually_exclusive_group()
        privacy.add_argument("--private", dest="private", action="store_const", const=True)
        privacy.add_argument("--public", dest="private", action="store_const", const=False)

    def handle(self, *args, namespace: str, private: bool | None, **options):
        try:
            site = counter_from_parts(namespace=namespace, key=SITE_KEY)
        except InvalidName as exc:
            raise CommandError(str(exc)) from exc
        admin_key, admin_hash = new_admin_key()
        try:
            store.claim(site, admin_key_sha256=admin_hash, private=private)
        except store.StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{site}: admin key {admin_key}")
