"""Log records as JSON lines (`UCFLEET_LOG_FORMAT=json`) and the request id they carry.

The portal, the workers and the sender share one LOGGING configuration (config/settings.py),
so every process writes the same shape: one object per line with `time` (UTC, ISO 8601),
`level`, `logger`, `message`, the process id, and where they apply `request_id`, `user`,
`method`, `path`, `status`, `duration_ms` and `traceback`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

# The request being served by this thread or task; "" outside a request.
current_request_id: ContextVar[str] = ContextVar("ucfleet_request_id", default="")

# An incoming X-Request-ID is kept when it is this tame (a proxy's id, a UUID), else replaced.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def request_id_from(header: str | None) -> str:
    if header and REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (empty outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process or os.getpid(),
        }
        request_id = getattr(record, "request_id", "")
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


LOG_FORMATS = ("plain", "json")


def with_log_format(logging_config: dict, log_format: str) -> dict:
    """`logging_config` whose handlers that print plain lines print `log_format` instead, each
    record carrying the request id. Applied last in the settings, so it covers whatever
    handlers the configuration has gained."""
    if log_format not in LOG_FORMATS:
        from ucfleet.config.env import ConfigError

        raise ConfigError(f"UCFLEET_LOG_FORMAT must be plain or json, got {log_format!r}")
    config = {**logging_config}
    config["formatters"] = {
        **config.get("formatters", {}),
        "json": {"()": "ucfleet.ops.logs.JsonFormatter"},
    }
    config["filters"] = {
        **config.get("filters", {}),
        "request_id": {"()": "ucfleet.ops.logs.RequestIdFilter"},
    }
    handlers = {}
    for name, handler in config.get("handlers", {}).items():
        handler = {**handler}
        if handler.get("formatter", "plain") == "plain":
            handler["formatter"] = log_format
        handler["filters"] = [*handler.get("filters", []), "request_id"]
        handlers[name] = handler
    config["handlers"] = handlers
    if log_format == "json":
        # Python warnings become records too (OpsConfig.ready captures them), so that no
        # line on the console is anything but JSON.
        config["loggers"] = {
            "py.warnings": {"handlers": list(handlers), "level": "WARNING", "propagate": False},
            **config.get("loggers", {}),
        }
    return config
