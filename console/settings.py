"""Every setting the project reads from the environment, in one place.

With no environment at all the project runs on an SQLite file, a local-memory cache and a Celery
broker kept in files under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch the same code to
PostgreSQL and Redis (cache and Celery broker). The README lists every variable.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONSOLE_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required unless DJANGO_DEBUG=1 (see README: Environment)."
        )
    SECRET_KEY = "insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "axes",
    "console",
    "ruleset",
    "flags",
    "events",
    "segments",
    "privacy",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "console.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.ServiceUnavailableMiddleware",
    "console.middleware.JsonApiErrorsMiddleware",
    # Turns a login refused for too many failures into the lockout page (it reads the flag the
    # login view's authentication left on the request).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.current_project",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "console.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Redis answers in well under a millisecond; a call that has waited this long (a paused or
# overloaded Redis) is given up, and the circuit breaker (console.breaker) keeps later calls
# away for a back-off, so a hung Redis costs the request path what a dead one does.
REDIS_SOCKET_TIMEOUT_MS = env_int("REDIS_SOCKET_TIMEOUT_MS", 100)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "console",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_MS / 1000,
                "socket_timeout": REDIS_SOCKET_TIMEOUT_MS / 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Whether every process sees the same cache: decides how processes learn of a new ruleset.
CACHE_IS_SHARED = bool(REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses logins of a locked-out account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # The username or the email address (any case).
    "console.web.authentication.EmailOrUsernameBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "console" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# Security: secure by default, relaxed only when DEBUG is asked for.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# The console's address as people and SDKs reach it (e.g. https://flags.example.com), for links
# in invitation emails and the SDK snippets; without it, pages use the address of the request.
CONSOLE_PUBLIC_URL = env_str("CONSOLE_PUBLIC_URL").rstrip("/")

# Outgoing mail (team invitations). Without EMAIL_HOST no mail is sent: the invitation link is
# shown to the admin who made it, to pass on.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
# Port 465 speaks TLS from the start (EMAIL_USE_SSL); 587 upgrades with STARTTLS (EMAIL_USE_TLS).
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "flag-console@localhost")
EMAIL_CONFIGURED = bool(EMAIL_HOST)
# How long an invitation link stays valid.
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# Login throttling (django-axes): failed logins are counted per account (whether typed as its
# username or its email) and per client address, in the database so that every process shares
# the count. Past the limit, logins of that account or from that address are refused until the
# cool-off has passed since the last failure.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "console.web.authentication.throttle_username"
AXES_CLIENT_IP_CALLABLE = "console.web.authentication.client_address"
AXES_LOCKOUT_CALLABLE = "console.web.authentication.lockout_response"
# Failed attempts are what the throttle needs; a row per successful login would only grow.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False

# Bodies: the largest any endpoint accepts (PostHog batches, Statsig log_event). Each endpoint
# enforces its own smaller limit; Django's own guard must not answer first with an HTML 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 21 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["console.api.parsers.ConsoleJSONParser"],
    "EXCEPTION_HANDLER": "console.api.errors.console_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "console.api.schema.ConsoleAutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Console API",
    "DESCRIPTION": "Statsig-compatible console API: gates, configs, experiments, layers, "
    "segments, keys, audit logs and reviews. Authenticate with the STATSIG-API-KEY header.",
    "VERSION": "20240601",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/console/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "console.api.schema.statsig_document",
    ],
}

# Console API limits (Statsig documents about 100 mutations per 10 s per project).
CONSOLE_API_MUTATIONS_PER_WINDOW = env_int("CONSOLE_API_MUTATIONS_PER_WINDOW", 100)
CONSOLE_API_MUTATION_WINDOW_SECONDS = env_int("CONSOLE_API_MUTATION_WINDOW_SECONDS", 10)
CONSOLE_API_MAX_BODY_BYTES = env_int("CONSOLE_API_MAX_BODY_BYTES", 5 * 1024 * 1024)
# How long a process trusts its in-memory copy of an API key before asking the database again
# (a deactivation reaches every process sooner: see console.keycache).
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 30)
# Encrypts the copy of each key's secret kept for Statsig's full-key listing (a Fernet key:
# 32 url-safe base64 bytes). Derived from the secret key when unset; changing either makes the
# stored copies unreadable, and listings then show each key's hint instead.
API_KEY_SEALING_KEY = (
    env_str("API_KEY_SEALING_KEY")
    or base64.urlsafe_b64encode(
        hashlib.sha256(b"api-key-sealing:" + SECRET_KEY.encode()).digest()
    ).decode()
)
# How long a process answers /decide and /flags from its cached copy of a person's properties
# (changes made in the same process are seen at once), and how many persons it keeps per project.
PERSON_CACHE_SECONDS = env_int("PERSON_CACHE_SECONDS", 30)
PERSON_CACHE_ENTRIES = env_int("PERSON_CACHE_ENTRIES", 100_000)
# One line per request (method, path with secrets masked, status, time) on the console.access
# logger; `manage.py serve --access-log` turns it on.
ACCESS_LOG = env_bool("ACCESS_LOG", False)
# Without Redis, exposures wait in a per-process buffer that a background thread writes out.
EXPOSURE_FLUSH_THREAD = env_bool("EXPOSURE_FLUSH_THREAD", True)
# How often a process checks whether a newer compiled ruleset exists.
RULESET_CHECK_INTERVAL_MS = env_int("RULESET_CHECK_INTERVAL_MS", 250)
# An ID-file upload whose state has not been written for this long lost its worker; beat
# queues it again, to go on from its last committed batch.
SEGMENT_UPLOAD_STALL_SECONDS = env_int("SEGMENT_UPLOAD_STALL_SECONDS", 300)

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport, under which a
# separate worker and beat really run with no server installed.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker waits out a broker outage of any length (Celery's default gives up after ~50
# minutes and exits); tasks running when the connection drops are handed back, since every task
# is safe to run again (claims with row locks, idempotent erasers and rebuilds, resumable uploads).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
if REDIS_URL:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The beat schedule lives here, in code (not django-celery-beat): every job is part of the
# product, reviewed with it, and the same on every deployment; only timings are configurable.
DELETION_SCHEDULE_CRON = env_str("DELETION_SCHEDULE_CRON", "0 3 * * *")
RULESET_SWEEP_SECONDS = env_int("RULESET_SWEEP_SECONDS", 30)
# Experiment results (Pulse) of running experiments, recomputed daily by default.
PULSE_SCHEDULE_CRON = env_str("PULSE_SCHEDULE_CRON", "30 2 * * *")
# PostgreSQL work_mem of the results job's transaction (its per-unit hash aggregation).
PULSE_WORK_MEM = env_str("PULSE_WORK_MEM", "256MB")


def _cron(expression: str) -> crontab:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "compute-experiment-results": {
        "task": "analysis.tasks.compute_due_pulses",
        "schedule": _cron(PULSE_SCHEDULE_CRON),
    },
    "flush-api-key-usage": {
        "task": "console.tasks.flush_api_key_usage",
        "schedule": timedelta(seconds=60),
    },
    "start-scheduled-experiments": {
        "task": "flags.tasks.start_scheduled_experiments",
        "schedule": timedelta(seconds=60),
    },
    # Ruleset rebuilds lost after their commit (a killed worker's message comes back only after
    # the broker's visibility timeout) are redone within this interval.
    "rebuild-stale-rulesets": {
        "task": "ruleset.tasks.rebuild_stale_rulesets",
        "schedule": timedelta(seconds=RULESET_SWEEP_SECONDS),
        "options": {"expires": RULESET_SWEEP_SECONDS},
    },
    # Exposures buffered in Redis by the evaluation endpoints reach the database in bulk.
    "drain-exposure-buffer": {
        "task": "events.tasks.drain_exposures",
        "schedule": timedelta(seconds=2),
        "options": {"expires": 10},
    },
    # Monthly partitions of the event and exposure tables, created months ahead (PostgreSQL).
    "ensure-event-partitions": {
        "task": "events.tasks.ensure_event_partitions",
        "schedule": timedelta(hours=6),
    },
    # User-data deletion requests, erased in bulk (daily by default); those with 7 days or less
    # left are picked up within the hour.
    "process-deletion-requests": {
        "task": "privacy.tasks.process_deletions",
        "schedule": _cron(DELETION_SCHEDULE_CRON),
    },
    "process-deletion-requests-due-soon": {
        "task": "privacy.tasks.process_deletions_due_soon",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # ID-file uploads whose worker died mid-file go on from their last committed batch.
    "resume-stalled-segment-uploads": {
        "task": "segments.tasks.resume_stalled_uploads",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 50},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"mask_secrets": {"()": "console.log_secrets.MaskSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes announces itself at INFO in every process, commands included.
        "axes.apps": {"level": "WARNING"},
        # The access log (manage.py serve --access-log) writes at INFO whatever LOG_LEVEL says.
        "console.access": {"level": "INFO"},
        # Django's development server logs each request line, URL included: mask secrets.
        "django.server": {"filters": ["mask_secrets"]},
    },
}
