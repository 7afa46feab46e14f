"""Runs the web server (``manage.py serve``, the production server, with one worker), a Celery
worker and Celery beat together for local use, and stops all three when one exits or on
Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Web server + Celery worker + Celery beat, for local development."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr: str, **options):
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
                "--loglevel=INFO",
            ],
            "beat": [python, "-m", "celery", "-A", "console", "beat", "--loglevel=INFO"],
        }
        processes = {
            name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()
        }
        self.stdout.write(f"console on http://{addr}/ (Ctrl-C stops web, worker and beat)")
        try:
            while all(p.poll() is None for p in processes.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
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
