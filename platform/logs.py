"""How every Cookout process logs: readable lines by default, JSON lines with COOKOUT_LOG_FORMAT=json.

Each record carries the id of the request it was logged for (the web's X-Request-ID, which the events a
command wrote and the letters they caused carry on), so one request can be followed through the web,
the projections and the worker that sent its mail.
"""

from __future__ import annotations

import logging
import logging.config
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from cookout.domain.base import current_request_id

TEXT, JSON = "text", "json"
LOG_FORMATS = (TEXT, JSON)
# The loggers of the servers Cookout runs in: their records go through the one handler, in one format.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task", "celery.redirected")

# An incoming X-Request-ID is kept when it looks like an id (a proxy's UUID, a trace id), else replaced:
# it goes into every log line and event, so it must not carry newlines, quotes or a novel.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_from(header: str | None) -> str:
    """The id a request is known by: the caller's, if well-formed, or a new one."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Gives each record the request id of the context it was logged in, unless it names one itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


def utc_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2026-12-02T01:30:00.123Z INFO cookout.web: GET /tribes/{slug} 200 in 12 ms [request 3f2a…]`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return utc_time(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


class JsonLinesFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id, and any `extra` fields."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}{request_id}", style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return utc_time(record)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.pop("color_message", None)  # uvicorn's message again, with terminal colours


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for one process: one handler on stderr, for every logger."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {TEXT: {"()": TextFormatter}, JSON: {"()": JsonLinesFormatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                       "formatter": log_format, "filters": ["request_id"]},
        },
        "root": {"level": level, "handlers": ["stderr"]},
        # The servers' own handlers are dropped: their records reach the root's.
        "loggers": {name: {"handlers": [], "propagate": True} for name in SERVER_LOGGERS},
    }


def configure_logging(log_format: str, level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(log_format, level))
