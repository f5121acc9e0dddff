"""Django settings, read from the environment (see deploy/env.example for every variable)."""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab

from webapp.env import BASE_DIR, database_from_url, envbool, envint, envlist, envstr

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
    "webapp.checks",  # issue 19: flags and the cross-check (listing facts -> rules -> Flag)
    "webapp.review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before CommonMiddleware (Django's order): the language of the staff pages.
    "webapp.i18n.StaffLocaleMiddleware",
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

# English unless the browser (Accept-Language) or the page header's switcher (a cookie) asks for
# Ukrainian; the APIs always answer in LANGUAGE_CODE (webapp/i18n.py).
LANGUAGE_CODE = "en-us"
LANGUAGES = [("uk", "Українська"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
# --- plate regions (issue #15) ---
# Which plates are reported: only text that fits a plate format of these regions is a plate
# (strict, like the `regions` of the ALPR APIs); other text is never reported. Comma-separated
# codes: `ua` (every Ukrainian type), `eu` (Europe: pl, md, ro, sk, hu, uk and the generic EU
# band plate), `us`, `br`, or one European country (`pl`, `md`, `ro`, `sk`, `hu`, `uk`).
# Default: Ukraine plus Europe. An unknown code fails when the engine loads.
PLATECHECK_REGIONS = envstr("PLATECHECK_REGIONS", "ua,eu")
# --- end plate regions ---
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
# A cross-check that raised this many times in a row (a bug, a record it cannot take) is no longer
# resent by the sweeper; the admin shows it with its error, and new facts or "Ask again" reset it.
CROSSCHECK_MAX_FAILURES = envint("CROSSCHECK_MAX_FAILURES", 5)
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

# --- Parking gates (webapp.gates, issue #16) -------------------------------------------------
INSTALLED_APPS += ["webapp.gates"]
# Gate frames have their own queue and worker (deploy/systemd/platecheck-gates.service): a gate
# is waiting for the answer and must never sit behind the nightly recognition backlog.
CELERY_TASK_ROUTES["webapp.gates.tasks.read_gate_frame"] = {"queue": "gates"}
# A signed request's timestamp may be this far off the server's clock; nonces live twice as long.
GATE_CLOCK_SKEW_S = envint("GATE_CLOCK_SKEW_S", 30)
# A 1280x720 JPEG is 100-300 KB; 2 MB leaves room for a 1080p frame at high quality.
GATE_FRAME_MAX_BYTES = envint("GATE_FRAME_MAX_BYTES", 2 * 1024 * 1024)
GATE_FRAME_MAX_PIXELS = envint("GATE_FRAME_MAX_PIXELS", 4096 * 3072)
# The Pi client sends two frames a second; twice that is a broken or hostile device.
GATE_FRAMES_PER_MINUTE = envint("GATE_FRAMES_PER_MINUTE", 240)
# Frames from a device's offline queue: enough to catch up on an hour's outage in minutes.
GATE_QUEUED_FRAMES_PER_MINUTE = envint("GATE_QUEUED_FRAMES_PER_MINUTE", 1200)
# How long a frame's request waits for the gates worker before answering "unknown".
GATE_READ_TIMEOUT_S = envint("GATE_READ_TIMEOUT_S", 5)
# An operator's "open now" waits this long for the gate's device to take it, then lapses: a
# device back online later must not open the barrier for a car long gone.
GATE_COMMAND_TTL_S = envint("GATE_COMMAND_TTL_S", 30)
# Set in the gates worker's unit only: load the engine when each worker process starts.
GATES_PRELOAD_ENGINE = envbool("GATES_PRELOAD_ENGINE", default=False)
# Cars on a site longer than its max_stay_hours are looked for this often (minutes); each is
# sent once as a `site.overstay` webhook to the gate operators (webapp/gates/overstays.py).
CELERY_BEAT_SCHEDULE["gates-overstays"] = {
    "task": "webapp.gates.tasks.overstays_alert",
    "schedule": 60 * envint("GATE_OVERSTAY_CHECK_MINUTES", 5),
}
# Hourly: cars on a site past its close_stays_after_hours are taken off it (missed exits).
CELERY_BEAT_SCHEDULE["gates-stale-stays"] = {
    "task": "webapp.gates.tasks.stale_stays_close",
    "schedule": 3600,
}
# Nonces and rate counters must be shared by every web process: set CACHE_URL to Redis in
# production (redis://127.0.0.1:6379/1). Unset (the demo's single process) keeps them in memory.
if envstr("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": envstr("CACHE_URL"),
        }
    }
# --- end parking gates ------------------------------------------------------------------------

# The demo serves uploaded photos from Django; in production nginx or similar does.
SERVE_MEDIA = envbool("SERVE_MEDIA", default=DEBUG)

# --- Partner API and production security (issue 17) ---------------------------------------------
from datetime import timedelta  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

# Keys that are public (this file, deploy/env.example): a process with DEBUG off refuses them.
_PUBLIC_SECRET_KEYS = frozenset(
    {"", "dev-only-insecure-key-change-me", "change-me-to-a-long-random-string"}
)
if not DEBUG and SECRET_KEY in _PUBLIC_SECRET_KEYS:
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or is the public example's; set a long random SECRET_KEY "
        "(deploy/install-systemd.sh generates one) or DEBUG=1 for the demo"
    )

INSTALLED_APPS += [
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "axes",
    "csp",
    "webapp.partners",
]
MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")
# Bounds the whole API request (Content-Length) and gives Django's own 4xx pages the API shape.
MIDDLEWARE.insert(2, "webapp.api.middleware.ApiRequestMiddleware")
# A database down or unreachable while serving a request: 503 database_unavailable, Retry-After.
MIDDLEWARE.insert(3, "webapp.outage.DatabaseUnavailableMiddleware")
# Last, as django-axes asks: it turns a lockout found during authentication into a 429.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "webapp.partners.backends.AxesWebBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# DRF's own tokens (rest_framework.authtoken, plain text, no expiry) no longer authenticate by
# default: webapp.partners' hashed, scoped tokens replace them.
REST_FRAMEWORK.update(
    {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "webapp.partners.authentication.PartnerTokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "DEFAULT_PAGINATION_CLASS": "webapp.api.filters.ApiCursorPagination",
        "DEFAULT_FILTER_BACKENDS": [
            "django_filters.rest_framework.DjangoFilterBackend",
            "webapp.api.filters.StableOrderingFilter",
        ],
        "DEFAULT_THROTTLE_CLASSES": ["webapp.api.throttles.TokenRateThrottle"],
        "DEFAULT_SCHEMA_CLASS": "webapp.api.schema.AutoSchema",
        "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    }
)
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "webapp.api.errors.ApiExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "413", "415", "429"],
    "ERROR_SCHEMAS": "webapp.api.schema.ERROR_SCHEMAS",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "platecheck partner API",
    "DESCRIPTION": "Listings, photos, flags, webhooks and one-photo recognition for partners.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PhotoStatusEnum": "webapp.api.schema.PHOTO_STATUS",
        "FlagStatusEnum": "webapp.api.schema.FLAG_STATUS",
        "DeliveryStatusEnum": "webapp.api.schema.DELIVERY_STATUS",
        "WebhookEventEnum": "webapp.partners.models.WebhookEvent",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

# API throttles count per token in this cache; several web processes must share it (Redis).
API_THROTTLE_CACHE_URL = envstr("API_THROTTLE_CACHE_URL")
CACHES = globals().get("CACHES") or {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
CACHES["api-throttle"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": API_THROTTLE_CACHE_URL}
    if API_THROTTLE_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-throttle"}
)
API_THROTTLE_RATES = {
    "token": envstr("API_RATE_TOKEN", "120/min"),
    "recognize": envstr("API_RATE_RECOGNIZE", "30/min"),
}
# Photos a partner may have read a calendar month (stored, recognised and redacted together;
# TIME_ZONE's months), unless the admin gives the partner a quota of their own; 0: no limit.
API_MONTHLY_PHOTOS = envint("API_MONTHLY_PHOTOS", 0)
# Photos given by URL (`photo_urls`, `upload_url`): each fetched within this many seconds; loopback
# and private addresses are refused in production (SSRF), as for webhooks.
PHOTO_URL_TIMEOUT_S = envint("PHOTO_URL_TIMEOUT_S", 10)
PHOTO_URL_ALLOW_PRIVATE = envbool("PHOTO_URL_ALLOW_PRIVATE", default=DEBUG)
# A partner's requests fetching photo URLs at once (each holds a web worker while it waits on the
# partner's servers); more are refused with 429 too_many_fetches. 0: no bound.
PHOTO_URL_REQUESTS_AT_ONCE = envint("PHOTO_URL_REQUESTS_AT_ONCE", 2)
# Tokens: lifetime of one made by the token endpoint or the command without --days.
PARTNER_TOKEN_DAYS = envint("PARTNER_TOKEN_DAYS", 90)
# Photos: a listing holds at most this many; one API request carries at most this many bytes.
LISTING_MAX_PHOTOS = envint("LISTING_MAX_PHOTOS", 30)
API_MAX_REQUEST_BYTES = envint("API_MAX_REQUEST_BYTES", 100 * 1024 * 1024)
# Production: nginx serves MEDIA_ROOT from an `internal` location at this prefix after the
# authorised view said yes (X-Accel-Redirect); empty serves the file from Django.
PHOTO_ACCEL_REDIRECT_PREFIX = envstr("PHOTO_ACCEL_REDIRECT_PREFIX")

# Webhooks: retried with exponential backoff (seconds) until this many seconds after the event.
WEBHOOK_RETRY_WINDOW_S = envint("WEBHOOK_RETRY_WINDOW_S", 24 * 3600)
WEBHOOK_BACKOFF_BASE_S = envint("WEBHOOK_BACKOFF_BASE_S", 5)
WEBHOOK_BACKOFF_MAX_S = envint("WEBHOOK_BACKOFF_MAX_S", 3600)
WEBHOOK_TIMEOUT_S = envint("WEBHOOK_TIMEOUT_S", 10)
# An endpoint with this many deliveries in a row given up is disabled, and its partner told.
WEBHOOK_DISABLE_AFTER = envint("WEBHOOK_DISABLE_AFTER", 5)
# After a signing-secret rotation the old secret signs each message too for this many seconds.
WEBHOOK_SECRET_GRACE_S = envint("WEBHOOK_SECRET_GRACE_S", 24 * 3600)
# Loopback and private receivers are refused in production (SSRF); tests and demos allow them.
WEBHOOK_ALLOW_PRIVATE = envbool("WEBHOOK_ALLOW_PRIVATE", default=DEBUG)
# Beat sends the due deliveries this often; each message expires after two scans
# (webapp.partners.webhooks.message_expires_s).
WEBHOOK_SCAN_S = envint("WEBHOOK_SCAN_S", 15)
CELERY_BEAT_SCHEDULE["webhooks-send-due"] = {
    "task": "webapp.partners.tasks.webhooks_send_due",
    "schedule": WEBHOOK_SCAN_S,
}
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "platecheck@localhost")

# Login page and token endpoint: locked per user name and per address after this many failures;
# a locked request is answered 429 before any password is hashed.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "webapp.api.errors.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = envbool("AXES_ENABLED", default=True)
# Behind a proxy the client address is the last hop nginx appends.
AXES_IPWARE_PROXY_COUNT = envint("PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# HTTPS: all from the environment so the demo on http://127.0.0.1 keeps working.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=False)
# Health checks come over plain http from the machine itself (deploy/stack.sh status).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", default=False)
if envbool("SECURE_PROXY_SSL_HEADER", default=False):
    # Only behind a proxy that sets (and strips from clients) X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Seconds a moderator's hold on an open flag lasts (webapp/review/holds.py): while the flag's
# page is open it renews the hold every minute, so a closed tab frees the flag within this.
REVIEW_HOLD_SECONDS = max(60, envint("REVIEW_HOLD_SECONDS", 180))
# --- operators (issue 20): Prometheus metrics (django-prometheus), /healthz, model versions ---
INSTALLED_APPS += ["django_prometheus", "webapp.ops"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# /metrics answers staff and these client addresses (the Prometheus server). Empty by default:
# behind a local reverse proxy every request would come from 127.0.0.1.
METRICS_ALLOWED_ADDRESSES = envlist("METRICS_ALLOWED_ADDRESSES")
# /healthz pings this Redis (default: the Celery broker when it is Redis).
HEALTH_REDIS_URL = envstr("HEALTH_REDIS_URL")
# Files under the upload folders (photos/, gates/) that no row references are deleted by a daily
# sweep (webapp/ops/media.py) once older than this: a file whose row is on its way is younger.
MEDIA_ORPHANS_GRACE_HOURS = envint("MEDIA_ORPHANS_GRACE_HOURS", 6)
CELERY_BEAT_SCHEDULE["media-orphans-sweep"] = {
    "task": "webapp.ops.tasks.media_orphans_sweep",
    # After the nightly backlog's planning (BACKLOG_HOUR), before the day's uploads.
    "schedule": crontab(hour=envint("MEDIA_ORPHANS_HOUR", 4), minute=30),
}
# Retention (webapp/ops/retention.py, `manage.py purge_expired`): rows (and a frame's file) older
# than this many days are deleted daily; 0 or empty keeps them for ever. Gate frames by
# received_at, never one still pending; at least 8 days, as a gate's offline queue may send a
# frame of a passage up to 7 days late, and its vote counts the passage's stored frames. Their
# passages (plate, decision, times, frames_count) are kept. Gate request audit rows
# (DeviceRequest) by created_at. Webhook deliveries delivered or given up (failed), with their
# attempts, by created_at (the event's, or its last redelivery's); pending ones never.
GATE_FRAME_RETENTION_DAYS = envint("GATE_FRAME_RETENTION_DAYS", 30)
GATE_REQUEST_LOG_RETENTION_DAYS = envint("GATE_REQUEST_LOG_RETENTION_DAYS", 90)
WEBHOOK_LOG_RETENTION_DAYS = envint("WEBHOOK_LOG_RETENTION_DAYS", 30)
CELERY_BEAT_SCHEDULE["purge-expired"] = {
    "task": "webapp.ops.tasks.purge_expired",
    # Before the orphaned-media sweep (MEDIA_ORPHANS_HOUR:30), which then removes any frame file
    # a stopped purge left behind its row.
    "schedule": crontab(hour=envint("RETENTION_PURGE_HOUR", 4), minute=0),
}
# Backups (webapp/ops/backup.py, `manage.py backup` and `backup_verify`): the database and the
# media store, daily at BACKUP_HOUR:15 into a new folder of BACKUP_DIR (empty: no scheduled
# backup), the newest BACKUP_KEEP kept; with BACKUP_VERIFY each is restored into a scratch
# database on the same server and compared, table by table, before it counts as good.
_BACKUP_DIR = envstr("BACKUP_DIR", "var/backups")
BACKUP_DIR = (BASE_DIR / _BACKUP_DIR) if _BACKUP_DIR else None  # an absolute path stays itself
BACKUP_KEEP = envint("BACKUP_KEEP", 7)
BACKUP_VERIFY = envbool("BACKUP_VERIFY", default=True)
if BACKUP_DIR is not None:
    CELERY_BEAT_SCHEDULE["backup"] = {
        "task": "webapp.ops.tasks.backup",
        # Before the retention purge (RETENTION_PURGE_HOUR:00) deletes the day's oldest frames.
        "schedule": crontab(hour=envint("BACKUP_HOUR", 3), minute=15),
    }
# The register kept current (registry/fetch.py, `manage.py register_fetch`): daily at
# REGISTER_FETCH_HOUR:45 the source is looked at, a file's URL (fetched only when it changed) or a
# CKAN dataset's package_show URL (its register files not yet imported, oldest first, at most
# REGISTER_FETCH_FILES a day). Empty: no scheduled fetch.
REGISTER_SOURCE_URL = envstr("REGISTER_SOURCE_URL", "")
REGISTER_FETCH_FILES = envint("REGISTER_FETCH_FILES", 2)
REGISTER_FETCH_MAX_MB = envint("REGISTER_FETCH_MAX_MB", 8192)
REGISTER_FETCH_TIMEOUT_S = envint("REGISTER_FETCH_TIMEOUT_S", 60)
if REGISTER_SOURCE_URL:
    CELERY_BEAT_SCHEDULE["register-fetch"] = {
        "task": "webapp.ops.tasks.register_fetch",
        # After the backup (BACKUP_HOUR:15), before the day's uploads and the cross-checks.
        "schedule": crontab(hour=envint("REGISTER_FETCH_HOUR", 5), minute=45),
    }
