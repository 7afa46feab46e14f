"""Runs the web server (``manage.py serve``, the production server, with one worker), a Celery
worker and Celery beat together for local use, and stops all three when one exits, on Ctrl-C or
on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand

# How long the web server may take to answer before the welcome file is printed anyway, and how
# long after it answers the worker and beat get to finish their start-up output.
WEB_START_SECONDS = 60
SETTLE_SECONDS = 3


class Stop(Exception):
    """SIGTERM (or SIGHUP) asked devserver to stop, as Ctrl-C does."""


def _raise_stop(signum, frame):
    raise Stop


def _wait_for_port(addr: str, server: subprocess.Popen, timeout: float) -> None:
    host, _, port = addr.rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)


class Command(BaseCommand):
    help = "Web server + Celery worker + Celery beat, for local development."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument(
            "--celery-loglevel",
            default="WARNING",
            help="the worker's and beat's log level (INFO shows every scheduled task)",
        )
        parser.add_argument(
            "--welcome-file",
            type=Path,
            help="printed once everything has started (e.g. seed_demo's logins and keys)",
        )

    def handle(self, *args, addr: str, celery_loglevel: str, welcome_file: Path | None, **options):
        # Stop on SIGTERM (a supervisor, `kill`, a container stop) as on Ctrl-C.
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGHUP, _raise_stop)
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "serve", "--bind", addr, "--workers", "1"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "console",
                "worker",
                "--pool=threads",
                "--concurrency=2",
                f"--loglevel={celery_loglevel}",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "console",
                "beat",
                f"--loglevel={celery_loglevel}",
            ],
        }
        processes = {}
        try:
            for name, cmd in commands.items():
                processes[name] = subprocess.Popen(cmd, env=os.environ.copy())
            _wait_for_port(addr, processes["web"], WEB_START_SECONDS)
            time.sleep(SETTLE_SECONDS)
            self._welcome(addr, welcome_file)
            while all(p.poll() is None for p in processes.values()):
                time.sleep(0.5)
        except (KeyboardInterrupt, Stop):
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _welcome(self, addr: str, welcome_file: Path | None) -> None:
        lines = [f"console on http://{addr}/ (Ctrl-C stops web, worker and beat)"]
        if welcome_file is not None and welcome_file.is_file():
            lines += [f"--- {welcome_file} ---", welcome_file.read_text(encoding="utf-8").strip()]
        self.stdout.write("\n".join(["", *lines, ""]))
        self.stdout.flush()
