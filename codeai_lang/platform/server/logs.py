"""Structured logs: one JSON object per line (``log.format: json``) or plain text, on stderr.

uvicorn's own loggers are routed through the same handler, and its access log is replaced by
ours (which carries the request id, the user and the duration).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message", "taskName"}
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(), "logger": record.name, "pid": record.process,
            "msg": record.getMessage()}
        doc.update(_extra(record))
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in _extra(record).items())
        line = f"{datetime.fromtimestamp(record.created, UTC):%Y-%m-%dT%H:%M:%S}Z {record.levelname:<7} " \
               f"{record.getMessage()}" + (f"  {extra}" if extra else "")
        return line + ("\n" + self.formatException(record.exc_info) if record.exc_info else "")


def setup_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    for name in ("codeai", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(LEVELS.get(level, logging.INFO))
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
