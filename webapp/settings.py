"""Django settings, read from the environment (see deploy/env.example for every variable)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean, got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


_DB_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def database_from_url(url: str) -> dict[str, object]:
    """Parse `postgres://user:pass@host:port/name?opt=v` or `sqlite:///relative/or//abs/path`."""
    parts = urlsplit(url)
    if parts.scheme not in _DB_ENGINES:
        raise ValueError(f"unsupported DATABASE_URL scheme {parts.scheme!r}")
    engine = _DB_ENGINES[parts.scheme]
    if engine.endswith("sqlite3"):
        path = unquote(parts.path)
        # sqlite:///db.sqlite3 is relative to the repo, sqlite:////abs/db.sqlite3 absolute.
        name = Path(path[1:])
        return {"ENGINE": engine, "NAME": name if name.is_absolute() else BASE_DIR / name}
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }


SECRET_KEY = envstr("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = envbool("DEBUG", default=False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "webapp.listings",
    "recognition",
    "registry",
    "webapp.review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": database_from_url(envstr("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/review/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
if not MEDIA_ROOT.is_absolute():
    MEDIA_ROOT = BASE_DIR / MEDIA_ROOT

# Uploads: the request body may carry several photos; each photo is checked by
# webapp.listings.validation against the limits below.
PHOTO_MAX_BYTES = envint("PHOTO_MAX_BYTES", 20 * 1024 * 1024)
# 50 MP covers every phone camera in use; anything larger is refused before decoding.
PHOTO_MAX_PIXELS = envint("PHOTO_MAX_PIXELS", 50_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = envint("FILE_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = envint("DATA_UPLOAD_MAX_NUMBER_FILES", 50)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

# Celery. An empty broker (the demo) runs every task in-process, synchronously.
CELERY_TASK_ALWAYS_EAGER = envstr("CELERY_BROKER_URL") == ""
# memory:// keeps eager mode from ever reaching for an AMQP server on localhost.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = envbool("CELERY_TASK_EAGER_PROPAGATES", default=False)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "recognition.tasks.recognize_photo": {"queue": "recognition"},
    "recognition.tasks.recognize_photos": {"queue": "recognition"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: recognition tasks are long and must not sit unacked
# behind a busy process.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late on Redis, a message whose worker died is redelivered after this many seconds;
# it must exceed the longest hard time limit so running tasks are not delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": envint("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": envint("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    # issue 18: a worker listening to "recognition,backlog" always takes uploads first.
    "queue_order_strategy": "priority",
}
CELERY_BEAT_SCHEDULE = {
    "recognize-backlog-nightly": {
        "task": "recognition.tasks.recognize_backlog",
        "schedule": crontab(hour=envint("BACKLOG_HOUR", 2), minute=0),
    },
    "requeue-stale-photos": {
        "task": "recognition.tasks.requeue_stale_photos",
        # issue 18: cheap now that it never resends a queued or leased photo.
        "schedule": crontab(minute="*/5"),
    },
    # issue 18: the cross-check outbox's sweeper (requests the broker never got).
    "crosscheck-sweep": {
        "task": "recognition.tasks.crosscheck_sweep",
        "schedule": crontab(minute="*"),
    },
}

# Recognition engine: a "module:callable" returning an Engine, loaded lazily once per process.
PLATECHECK_ENGINE = envstr("PLATECHECK_ENGINE", "recognition.pipeline.engine:load_engine")
PLATECHECK_MODELS_DIR = envstr("PLATECHECK_MODELS_DIR", str(BASE_DIR / "models"))
# A photo whose task was started this many times without finishing (worker killed each time)
# is marked failed instead of being redelivered forever.
RECOGNITION_MAX_ATTEMPTS = envint("RECOGNITION_MAX_ATTEMPTS", 3)
RECOGNITION_SOFT_TIME_LIMIT = envint("RECOGNITION_SOFT_TIME_LIMIT", 300)
RECOGNITION_TIME_LIMIT = envint("RECOGNITION_TIME_LIMIT", 360)
# Seconds before the first retry of a transient error; doubles each retry (with jitter).
RECOGNITION_RETRY_BACKOFF = envint("RECOGNITION_RETRY_BACKOFF", 5)
# Photos per engine call in the nightly backlog: one GPU batch of full-size photos fits in 8 GB.
RECOGNITION_BACKLOG_BATCH = envint("RECOGNITION_BACKLOG_BATCH", 16)
# --- issue 18: exactly-once reading and the nightly backlog ---
# Photos per engine call and per backlog message (sized for the GPU).
RECOGNITION_BATCH = envint("RECOGNITION_BATCH", RECOGNITION_BACKLOG_BATCH)
# A claimed photo is the claimant's until then: longer than the hard time limit of a batch.
RECOGNITION_LEASE_SECONDS = envint("RECOGNITION_LEASE_SECONDS", RECOGNITION_TIME_LIMIT + 60)
# A message queued this long ago while the queues are empty was lost (a broker restart).
RECOGNITION_QUEUE_LOST_SECONDS = envint("RECOGNITION_QUEUE_LOST_SECONDS", 600)
# An upload whose message never went out (broker down) is sent again after this.
RECOGNITION_UNSENT_GRACE_SECONDS = envint("RECOGNITION_UNSENT_GRACE_SECONDS", 120)
# A cross-check request sent this long ago and still not done is sent again.
CROSSCHECK_RESEND_SECONDS = envint("CROSSCHECK_RESEND_SECONDS", 300)
# --- end issue 18 ---

LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "webapp.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if envbool("LOG_JSON", default=False) else "plain",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

if envbool("SECURE_COOKIES", default=False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# The demo serves uploaded photos from Django; in production nginx or similar does.
SERVE_MEDIA = envbool("SERVE_MEDIA", default=DEBUG)
