"""structlog JSON logging with service/correlation context and personal-data redaction."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from common.pii import redact


def _redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # redact() the whole dict, so top-level sensitive keys (log.info(..., name=...))
    # are removed too, not only nested ones; the timestamp is left as it is.
    redacted: dict[str, Any] = redact(dict(event_dict))
    if "timestamp" in event_dict:
        redacted["timestamp"] = event_dict["timestamp"]
    return redacted


class RetriedIsNotAnError(logging.Filter):
    """The Kafka client logs a retriable error at ERROR and then retries it, e.g.
    ``GroupCoordinatorNotAvailable`` while a broker loads its group coordinator at start-up.
    Such a line is a WARNING: an error is what nobody retries."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.name.startswith("aiokafka")
            and record.levelno >= logging.ERROR
            and isinstance(record.args, tuple)
            and any(getattr(arg, "retriable", False) for arg in record.args)
        ):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(service: str, level: str = "INFO", *, json: bool = True) -> None:
    """Configure structlog and the standard library's logging for one service process."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,  # last before rendering: nothing personal reaches a sink
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (uvicorn, aiokafka, faststream) log through the standard library:
    # route them through the same processors.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _redact_processor,
                renderer,
            ],
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                structlog.processors.format_exc_info,  # library tracebacks as text
            ],
        )
    )
    handler.addFilter(RetriedIsNotAnError())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # FastStream gives its logger a coloured stderr handler of its own at import time;
    # send its lines through the JSON pipeline (and its redaction) instead.
    faststream_logger = logging.getLogger("faststream")
    faststream_logger.handlers.clear()
    faststream_logger.propagate = True
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
