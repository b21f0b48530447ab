"""Django settings for ucfleet. Operators configure it with UCFLEET_* variables only."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from ucfleet.config.env import (
    ConfigError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
)
from ucfleet.ops.logs import with_log_format

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_path("UCFLEET_DATA_DIR", Path.cwd() / "var")

DEBUG = env_bool("UCFLEET_DEBUG", False)
# The embedded default key is for the demo only; production sets UCFLEET_SECRET_KEY.
DEMO_SECRET_KEY = "ucfleet-demo-insecure-key-change-me-in-production"
SECRET_KEY = env_str("UCFLEET_SECRET_KEY", DEMO_SECRET_KEY)
# Production mode (docs/security.md): UCFLEET_ENV=production, or HTTPS switched on. Then
# ucfleet refuses to start with the demo key (anyone could forge sessions) or with DEBUG.
PRODUCTION = env_str("UCFLEET_ENV", "demo") == "production" or env_bool("UCFLEET_HTTPS", False)
if PRODUCTION and SECRET_KEY in ("", DEMO_SECRET_KEY):
    raise ConfigError(
        "Production mode needs its own UCFLEET_SECRET_KEY (50 random characters or more); "
        "the built-in demo key is public."
    )
if PRODUCTION and DEBUG:
    raise ConfigError("UCFLEET_DEBUG must be off in production mode (UCFLEET_ENV=production).")
ALLOWED_HOSTS = env_list("UCFLEET_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("UCFLEET_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",  # its table only: accounts 0003 hashed its plaintext keys
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "ucfleet.core",
    "ucfleet.accounts",
    "ucfleet.tenants",
    "ucfleet.versions",
    "ucfleet.maintenance",
    "ucfleet.updates",
    "ucfleet.rollouts",
    "ucfleet.notifications",
    "ucfleet.webhooks",
    "ucfleet.audit",
    "ucfleet.worker",
    "ucfleet.api",
    "ucfleet.web",
    "ucfleet.ops",
]

MIDDLEWARE = [
    # First: request id and one log line per request; then /healthz, /readyz, /metrics.
    "ucfleet.ops.middleware.RequestLogMiddleware",
    "ucfleet.ops.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ucfleet.web.middleware.PlatformContextMiddleware",
    # Axes last: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ucfleet.config.urls"
WSGI_APPLICATION = "ucfleet.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "ucfleet.web.context_processors.platform",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite (WAL) by default; PostgreSQL when UCFLEET_DATABASE_URL is set.
DATABASE_URL = env_str("UCFLEET_DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    SQLITE_PATH = env_path("UCFLEET_SQLITE_PATH", DATA_DIR / "ucfleet.sqlite3")
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                # WAL lets the portal read while a worker writes; IMMEDIATE transactions take
                # the write lock up front, so two writers queue instead of deadlocking.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Tests use a file, not shared-cache memory, so that threads and worker processes
            # see SQLite's real locking (shared cache answers "table is locked" instead).
            "TEST": {"NAME": str(SQLITE_PATH.with_name("test-" + SQLITE_PATH.name))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Administrator"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # At least 12 characters for platform profiles, 10 for partner profiles.
    {"NAME": "ucfleet.accounts.password_validation.ProfileMinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Login throttling by django-axes: lock a username/IP pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = env_int("UCFLEET_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("UCFLEET_LOGIN_THROTTLING", True)
# Behind a reverse proxy every request comes from the proxy's address: name the proxies
# (addresses or networks) whose X-Forwarded-For is believed, so that each client has its own
# address. Nobody else's header is read (accounts/throttling.py; docs/security.md).
UCFLEET_TRUSTED_PROXIES = env_list("UCFLEET_TRUSTED_PROXIES", [])
for _proxy in UCFLEET_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ConfigError(f"UCFLEET_TRUSTED_PROXIES: {_proxy!r} is no address or network") from _exc
AXES_CLIENT_IP_CALLABLE = "ucfleet.accounts.throttling.client_address"
# Every failure is kept: the per-account (across addresses) and per-address limits count them.
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# --- HTTPS and browser security (docs/security.md) ---------------------------------------
# UCFLEET_HTTPS=1 when the portal is reached over HTTPS (directly or through a proxy that
# terminates TLS): cookies only over HTTPS, HSTS, and plain HTTP redirected to HTTPS.
HTTPS = env_bool("UCFLEET_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("UCFLEET_HSTS_SECONDS", 31536000, minimum=0) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env_bool("UCFLEET_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = HTTPS and env_bool("UCFLEET_HSTS_PRELOAD", True)
SECURE_SSL_REDIRECT = HTTPS and env_bool("UCFLEET_SSL_REDIRECT", True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips a client's own):
# without it Django sees plain HTTP and would redirect for ever.
if env_bool("UCFLEET_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# django-csp 4: the portal's scripts are static files (htmx, portal.js): no inline script.
# Inline style attributes stay allowed (they cannot run code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored and computed in UTC; the platform's own zone (server time) is a database setting
# (the maintenance window's time zone), activated per request by the web middleware.
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ucfleet.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "ucfleet.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ucfleet.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # JSON that cannot be a sane value (lone surrogates, deep nesting) is a 400 (parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "ucfleet.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ucfleet API",
    "DESCRIPTION": "Update orchestration for hosted UC tenants.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # /api/docs/ serves Swagger UI from the installed sidecar package, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "ucfleet.updates.choices.Status",
        "NotificationStatusEnum": "ucfleet.notifications.choices.Status",
        "RolloutStatusEnum": "ucfleet.rollouts.choices.RolloutStatus",
        "WaveStatusEnum": "ucfleet.rollouts.choices.WaveStatus",
    },
}

# --- Scheduling and execution -----------------------------------------------------------
UCFLEET: dict[str, Any] = {
    # R2: a custom-time task may start up to this long after its chosen time.
    "CUSTOM_START_GRACE_MINUTES": env_int("UCFLEET_CUSTOM_START_GRACE_MINUTES", 120, minimum=1),
    # R11: global cap on concurrently running tasks (scale units have their own caps).
    "MAX_CONCURRENT_TASKS": env_int("UCFLEET_MAX_CONCURRENT_TASKS", 20, minimum=1),
    # R13: the driver that performs an update: simulated | command | http.
    "DRIVER": env_str("UCFLEET_DRIVER", "simulated"),
    "SIMULATED_SECONDS": env_float("UCFLEET_SIMULATED_SECONDS", 2.0),
    "SIMULATED_FAILURE_SHARE": env_float("UCFLEET_SIMULATED_FAILURE_SHARE", 0.0, maximum=1.0),
    "SIMULATED_SEED": env_int("UCFLEET_SIMULATED_SEED", 0),
    "COMMAND": env_str("UCFLEET_DRIVER_COMMAND", ""),
    "HTTP_URL": env_str("UCFLEET_DRIVER_HTTP_URL", ""),
    "HTTP_POLL_SECONDS": env_float("UCFLEET_DRIVER_HTTP_POLL", 0.2),
    "HTTP_TOKEN": env_str("UCFLEET_DRIVER_HTTP_TOKEN", ""),
    # R27: ask the provisioning API to hold each start and poll until the operation ends,
    # at most this long (0: plain polling); each step in flight then holds a connection.
    "HTTP_WAIT_SECONDS": env_float("UCFLEET_DRIVER_HTTP_WAIT", 0.0, minimum=0.0, maximum=60.0),
    "HTTP_CONNECTIONS": env_int("UCFLEET_DRIVER_HTTP_CONNECTIONS", 256, minimum=1),
    # R24: each step of the command and http drivers has its own timeout (docs/drivers.md).
    "DRIVER_STEP_TIMEOUTS": {
        step: env_float(f"UCFLEET_DRIVER_TIMEOUT_{step.upper()}", default, minimum=0.01)
        for step, default in (
            ("pre_check", 60.0),
            ("backup", 600.0),
            ("update", 1800.0),
            ("redeploy", 900.0),
            ("health_check", 300.0),
            ("restore", 1800.0),
        )
    },
    # Transport errors and 5xx answers of the provisioning API are retried this often.
    "HTTP_RETRIES": env_int("UCFLEET_DRIVER_HTTP_RETRIES", 5, minimum=0),
    # R25: a busy tenant's task checks again this often; an Immediately task gives up
    # after this long (others at their latest start).
    "BUSY_RECHECK_SECONDS": env_float("UCFLEET_BUSY_RECHECK_SECONDS", 60.0, minimum=0.1),
    "BUSY_MAX_WAIT_MINUTES": env_float("UCFLEET_BUSY_MAX_WAIT_MINUTES", 30.0),
    # R14: a worker whose heartbeat is older than this is lost.
    "WORKER_HEARTBEAT_SECONDS": env_float("UCFLEET_WORKER_HEARTBEAT", 5.0),
    "WORKER_TTL_SECONDS": env_float("UCFLEET_WORKER_TTL", 30.0),
    "WORKER_POLL_SECONDS": env_float("UCFLEET_WORKER_POLL", 1.0),
    "WORKER_CONCURRENCY": env_int("UCFLEET_WORKER_CONCURRENCY", 4, minimum=1),
    # R17: the outbox retries a transient failure (4xx, no connection) with capped
    # exponential back-off for at least OUTBOX_RETRY_HOURS, then gives up; a permanent 5xx
    # fails at once (the message stays visible as failed; a platform admin can send it again).
    "OUTBOX_RETRY_HOURS": env_float("UCFLEET_OUTBOX_RETRY_HOURS", 24.0),
    "OUTBOX_BACKOFF_SECONDS": env_float("UCFLEET_OUTBOX_BACKOFF", 30.0, minimum=0.001),
    "OUTBOX_BACKOFF_MAX_SECONDS": env_float("UCFLEET_OUTBOX_BACKOFF_MAX", 900.0, minimum=0.001),
    # A sender that claimed a message and went silent this long is presumed dead.
    "OUTBOX_CLAIM_TIMEOUT_SECONDS": env_float("UCFLEET_OUTBOX_CLAIM_TIMEOUT", 300.0),
    # §9: failures are told in digests, one per partner administrator per request and
    # period (an hour), composed this long after the period closed (late commits).
    "FAILURE_DIGEST_SECONDS": env_float("UCFLEET_FAILURE_DIGEST_SECONDS", 3600.0, minimum=1.0),
    "FAILURE_DIGEST_GRACE_SECONDS": env_float("UCFLEET_FAILURE_DIGEST_GRACE", 60.0),
    # A partner digest lists this many tasks, then "and N more" with a link to the portal's
    # task list (PORTAL_URL: the portal's address as readers reach it).
    "DIGEST_MAX_TASKS": env_int("UCFLEET_DIGEST_MAX_TASKS", 200, minimum=1),
    "PORTAL_URL": env_str("UCFLEET_PORTAL_URL", "http://127.0.0.1:8000"),
    # Change-log retention (days).
    "CHANGE_LOG_DAYS": env_int("UCFLEET_CHANGE_LOG_DAYS", 90, minimum=1),
    # API tokens expire this many days after they were issued.
    "TOKEN_DAYS": env_int("UCFLEET_TOKEN_DAYS", 90, minimum=1),
    # Login throttling beyond axes' account+address lock (accounts/throttling.py).
    "LOGIN_ACCOUNT_FAILURE_LIMIT": env_int("UCFLEET_LOGIN_ACCOUNT_FAILURE_LIMIT", 10, minimum=1),
    "LOGIN_ACCOUNT_COOLOFF_SECONDS": env_float("UCFLEET_LOGIN_ACCOUNT_COOLOFF", 60.0, minimum=1),
    "LOGIN_ADDRESS_FAILURE_LIMIT": env_int("UCFLEET_LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1),
    # R30 webhooks: plain HTTP to non-loopback receivers only when allowed; each POST's
    # timeout; how long a failing delivery is retried (back-off: the OUTBOX_BACKOFF ones).
    "WEBHOOKS_ALLOW_HTTP": env_bool("UCFLEET_WEBHOOKS_ALLOW_HTTP", False),
    "WEBHOOKS_TIMEOUT_SECONDS": env_float("UCFLEET_WEBHOOKS_TIMEOUT", 5.0, minimum=0.1),
    "WEBHOOKS_RETRY_HOURS": env_float("UCFLEET_WEBHOOKS_RETRY_HOURS", 24.0),
}

# --- E-mail (the outbox's transport) ------------------------------------------------------
EMAIL_HOST = env_str("UCFLEET_SMTP_HOST", "")
EMAIL_PORT = env_int("UCFLEET_SMTP_PORT", 25)
EMAIL_HOST_USER = env_str("UCFLEET_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("UCFLEET_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("UCFLEET_SMTP_STARTTLS", False)
EMAIL_USE_SSL = env_bool("UCFLEET_SMTP_SSL", False)
EMAIL_TIMEOUT = env_int("UCFLEET_SMTP_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("UCFLEET_MAIL_FROM", "ucfleet <noreply@ucfleet.localhost>")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    # No SMTP server configured: the demo delivers to files under the data folder.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "ucfleet": {"handlers": ["console"], "level": env_str("UCFLEET_LOG_LEVEL", "INFO")},
        # Every unhandled exception of the portal and the API (DRF re-raises what its
        # handler does not answer) with its traceback, on stderr (R29). Django's own
        # console handler only prints with DEBUG on.
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}

# --- Operations (R29): metrics, probes, log format ----------------------------------------
# A bearer token Prometheus may scrape /metrics with (platform API tokens work as well).
UCFLEET["METRICS_TOKEN"] = env_str("UCFLEET_METRICS_TOKEN", "")
# /healthz, /readyz and /metrics are described in the OpenAPI document by a hook.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "ucfleet.ops.schema.add_operations_paths",
]
# plain (default) or json: one JSON object per line from the portal, workers and sender.
UCFLEET["LOG_FORMAT"] = env_str("UCFLEET_LOG_FORMAT", "plain").strip().lower()
LOGGING = with_log_format(LOGGING, UCFLEET["LOG_FORMAT"])
