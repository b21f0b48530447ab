"""gunicorn settings for the portal: `gunicorn -c python:ucfleet.config.gunicorn
ucfleet.config.wsgi` (docs/deploy.md). Options given on the command line win.

gunicorn's own lines (start, worker boots and timeouts) go to stderr in the format the
portal uses (`UCFLEET_LOG_FORMAT`); there is no gunicorn access log, because the portal logs
each request itself with its request id, user and duration (ucfleet.ops.middleware).
"""

from __future__ import annotations

from ucfleet.config.env import env_float, env_int, env_str

bind = env_str("UCFLEET_BIND", "127.0.0.1:8000")
workers = env_int("UCFLEET_PORTAL_PROCESSES", 2, minimum=1)
threads = env_int("UCFLEET_PORTAL_THREADS", 4, minimum=1)
timeout = int(env_float("UCFLEET_PORTAL_TIMEOUT", 60.0, minimum=1.0))
graceful_timeout = 20
accesslog = None
# Several portals may run on one machine; ucfleet does not use gunicorn's control socket.
control_socket_disable = True
# gunicorn believes X-Forwarded-Proto only from 127.0.0.1 (its default): bind it to
# loopback behind the reverse proxy (docs/deploy.md).

_format = env_str("UCFLEET_LOG_FORMAT", "plain").strip().lower()
_formatter = (
    {"()": "ucfleet.ops.logs.JsonFormatter"}
    if _format == "json"
    else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    # No root handler: ucfleet's own loggers have theirs (config/settings.py LOGGING).
    "root": {"level": "WARNING", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "ucfleet"},
        "error_console": {"class": "logging.StreamHandler", "formatter": "ucfleet"},
    },
    "formatters": {"ucfleet": _formatter},
}
