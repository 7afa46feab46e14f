"""Settings come from the environment in one place: defaults need no servers, DATABASE_URL and
REDIS_URL switch to PostgreSQL and Redis, production settings pass Django's deploy checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'db': s.DATABASES['default']['ENGINE'], "
    "'cache': s.CACHES['default']['BACKEND'], 'broker': s.CELERY_BROKER_URL, "
    "'secure_cookies': s.SESSION_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS}))"
)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "console.settings"}
    if "HOME" in os.environ:
        base["HOME"] = os.environ["HOME"]
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _settings(env: dict[str, str], tmp_path) -> dict:
    result = _run({"CONSOLE_VAR_DIR": str(tmp_path), **env}, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings__no_environment__refuses_without_secret_key(tmp_path):
    result = _run({"CONSOLE_VAR_DIR": str(tmp_path)}, "-c", PROBE)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required unless DJANGO_DEBUG=1" in result.stderr


def test_settings__debug_only__embedded_defaults(tmp_path):
    assert _settings({"DJANGO_DEBUG": "1"}, tmp_path) == {
        "debug": True,
        "db": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "broker": "filesystem://",
        "secure_cookies": False,
        "hsts": 0,
    }


def test_settings__secret_only__production_defaults_without_servers(tmp_path):
    loaded = _settings({"DJANGO_SECRET_KEY": "x" * 50}, tmp_path)
    assert loaded["debug"] is False
    assert loaded["db"] == "django.db.backends.sqlite3"
    assert loaded["secure_cookies"] is True
    assert loaded["hsts"] == 31536000


def test_settings__database_and_redis_urls__postgres_and_redis(tmp_path):
    loaded = _settings(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/flagconsole",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        tmp_path,
    )
    assert loaded["db"] == "django.db.backends.postgresql"
    assert loaded["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["broker"] == "redis://127.0.0.1:6379/3"


def test_check_deploy__production_settings__clean(tmp_path):
    result = _run(
        {
            "CONSOLE_VAR_DIR": str(tmp_path),
            "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-" + "z9" * 20,
            "DJANGO_ALLOWED_HOSTS": "flags.example.com",
        },
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.live_services
@pytest.mark.django_db(transaction=True)
def test_celery_task__real_worker_on_redis__runs_beat_job(settings):
    """The beat job that records API key use runs in a separate worker process through Redis."""
    import time

    from console.celery import app
    from console.keycache import resolve_api_key
    from console.models import ApiKey
    from console.tasks import flush_api_key_usage
    from tests.conftest import make_world

    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith(
        "postgres"
    ):
        pytest.skip("needs the real PostgreSQL and Redis of CI (make test sets them)")
    from django.db import connection

    world = make_world("Umbrella")
    assert resolve_api_key(world.keys["server"]) is not None  # leaves a use stamp in Redis
    env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        + "/"
        + connection.settings_dict["NAME"],
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "console",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            "celery",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    app.conf.task_always_eager = False
    try:
        flush_api_key_usage.delay()
        deadline = time.monotonic() + 45
        key = ApiKey.objects.get(project=world.project, kind="server")
        while key.last_used_at is None and time.monotonic() < deadline:
            time.sleep(0.3)
            key.refresh_from_db()
        assert key.last_used_at is not None, "the worker did not run the task"
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=20)
