"""A Celery app module for the worker subprocesses of the rebuild-recovery test: the project's own
app, with a ruleset compile slow enough for a test to kill the worker in the middle of it.

    celery -A tests.ruleset.slow_rebuild_worker worker ...

``FLAGS_TEST_COMPILE_MARKER`` names a file that gets a line (the worker's pid) as each compile
starts, ``FLAGS_TEST_COMPILE_DELAY`` the seconds each compile then takes.
"""

from __future__ import annotations

import functools
import os
import time

from celery.signals import worker_init

from console.celery import app  # noqa: F401  (the worker's app)


@worker_init.connect
def _slow_compiles(**_kwargs) -> None:
    # worker_init comes after django.setup() and before the first task. The ruleset store looks
    # compile_project up in ruleset.compiler at every rebuild, so the wrapper replaces it there.
    marker = os.environ.get("FLAGS_TEST_COMPILE_MARKER")
    if not marker:
        return
    from ruleset import compiler

    compile_project = compiler.compile_project

    @functools.wraps(compile_project)
    def slow_compile_project(*args, **kwargs):
        with open(marker, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")
        time.sleep(float(os.environ.get("FLAGS_TEST_COMPILE_DELAY", "0")))
        return compile_project(*args, **kwargs)

    compiler.compile_project = slow_compile_project
