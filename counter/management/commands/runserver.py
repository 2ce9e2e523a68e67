"""``runserver`` that starts the embedded server (when it is the one in use) before it serves,
and ends the open live streams when it stops. It extends staticfiles' runserver, so static
files are still served (``counter`` comes first in INSTALLED_APPS for this one to win).

With the reloader, ``run`` runs in the watching process and again in each child it restarts:
the watcher starts the server and owns it (it stops it at exit, counter.embedded),
the children find it running, so a reload never stops it.
"""

import signal
import sys

from django.contrib.staticfiles.management.commands.runserver import (
    Command as StaticRunserverCommand,
)

from counter.embedded import announce
from counter.web.live import end_streams

# How long a stopping runserver waits for its streams' goodbyes: its threads die with it.
_STREAMS_GOODBYE_SECONDS = 1.0


class Command(StaticRunserverCommand):
    def run(self, **options) -> None:
        announce()
        if not options["use_reloader"]:
            # The reloader turns SIGTERM into an exit itself; without it SIGTERM would end the
            # process with no exit handler run, the embedded server left behind.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            super().run(**options)
        finally:
            end_streams(wait=_STREAMS_GOODBYE_SECONDS)
