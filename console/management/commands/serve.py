"""``python manage.py serve --bind HOST:PORT --workers N``: the production server.

Granian (a Rust HTTP server) runs ``console.wsgi:application`` in N worker processes (default:
one per core), each with a few Python threads so that console pages waiting on the database do
not hold up SDK requests. ``SIGHUP`` to the main process restarts the workers one by one
(graceful: a worker finishes its requests, up to ``--graceful-timeout``); ``SIGTERM`` or Ctrl-C
stops. The access log is off by default; ``--access-log`` writes one line per request on the
``console.access`` logger, with the server secret of ``download_config_specs/<secret>.json``
masked (granian's own access log would print it, so it stays off). Static files are served by
WhiteNoise from the same process (run ``collectstatic`` first outside DEBUG).
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

DEFAULT_THREADS = 4
GRACEFUL_TIMEOUT_SECONDS = 30


def parse_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--bind must be HOST:PORT, got {bind!r}")
    return host.strip("[]"), int(port)


class Command(BaseCommand):
    help = "Serve the console and the data plane with granian (the production server)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT")
        parser.add_argument(
            "--workers", type=int, default=os.cpu_count() or 1, help="processes (default: cores)"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=f"Python threads per worker (default {DEFAULT_THREADS})",
        )
        parser.add_argument(
            "--access-log", action="store_true", help="one log line per request (secrets masked)"
        )
        parser.add_argument(
            "--graceful-timeout",
            type=int,
            default=GRACEFUL_TIMEOUT_SECONDS,
            help="seconds a worker may take to finish its requests on restart or stop",
        )

    def handle(self, *args, bind: str, workers: int, threads: int, access_log: bool, **options):
        host, port = parse_bind(bind)
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        # Workers forked from this process keep its settings; spawned ones read the environment.
        settings.ACCESS_LOG = access_log
        os.environ["ACCESS_LOG"] = "1" if access_log else "0"
        self.stdout.write(
            f"serving http://{bind}/ with granian: {workers} worker(s) x {threads} thread(s)"
        )
        Granian(
            "console.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
            backpressure=threads,
            log_access=False,
            log_level=LogLevels.info,
            workers_kill_timeout=options["graceful_timeout"],
            respawn_failed_workers=True,
        ).serve()
