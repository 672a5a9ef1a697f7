"""Request ids and the request log: one line per request.

Every request has an id: the ``X-Request-ID`` it came with when that is a sane token (1 to 64 of
A-Z a-z 0-9 . _ -; nginx sends its ``$request_id``), else a new one (uuid4, hex). It is kept in ``g``,
sent back in the ``X-Request-ID`` response header, written in the request's log line and in every audit
record the request makes (qzt.core.audit), and shown on error pages (请求编号) and in the API's JSON
errors (``request_id``), so that a user can quote it and staff find the line and the records.

The log line (logger ``qzt.requests``, INFO): method, path without the query string (which may hold
search terms, phone numbers or codes), status, duration in milliseconds, request id and client address.
Plain text by default; with ``QZT_LOG_FORMAT=json`` every line the app logs is one JSON object, with the
request id of the request it was logged in. Lines go to the WSGI server's error stream (gunicorn: its
error log, standard error), whose own access log is then redundant (gunicorn.conf.py turns it off).
"""

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler, wsgi_errors_stream

from qzt.core.http import client_ip

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
FORMATS = ("text", "json")
LOG_FORMAT = "QZT_LOG_FORMAT"

request_log = logging.getLogger("qzt.requests")

# The fields a request line carries besides its message (the JSON format writes each as a key).
LINE_FIELDS = ("method", "path", "status", "duration_ms", "request_id", "ip")


def request_id() -> str | None:
    """This request's id; None outside a request."""
    if not has_request_context():
        return None
    current = g.get("request_id")
    if current is None:
        sent = request.headers.get(HEADER, "")
        current = g.request_id = sent if SANE_ID.fullmatch(sent) else uuid.uuid4().hex
    return current


def _printable(text: str) -> str:
    """The path as it may stand in a text line: control characters escaped (no forged lines)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _start() -> None:
    g.pop("request_id", None)  # an app context kept over several requests (tests) gets a new one each
    request_id()
    g.request_started = time.perf_counter()


def _finish(response):
    rid = request_id()
    response.headers[HEADER] = rid
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": duration_ms,
        "request_id": rid,
        "ip": client_ip(),
    }
    request_log.info(
        "%s %s %s %sms request_id=%s ip=%s",
        fields["method"],
        _printable(fields["path"]),
        fields["status"],
        duration_ms,
        rid,
        fields["ip"],
        extra={**fields, "request_line": True},
    )
    return response


class _RequestIdFilter(logging.Filter):
    """Gives every record logged during a request that request's id (``record.request_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id()
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message``; a line logged during a request, other than the request line
    itself (which names it), ends with its request id."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        text = super().formatMessage(record)
        rid = getattr(record, "request_id", None)
        if rid and not getattr(record, "request_line", False):
            text += f" request_id={rid}"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO), level, logger, message, the request line's fields or
    the request id, and the traceback as ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in LINE_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


# One handler for the process (tests make many apps): the WSGI server's error stream, else stderr.
handler = logging.StreamHandler(wsgi_errors_stream)
handler.addFilter(_RequestIdFilter())


def log_format(value: str | None) -> str:
    """QZT_LOG_FORMAT checked at start-up: ``text`` (the default) or ``json``."""
    value = (value or "text").strip().lower()
    if value not in FORMATS:
        raise ValueError(f"{LOG_FORMAT}={value!r}: expected text or json")
    return value


def init_app(app: Flask) -> None:
    fmt = log_format(app.config.get(LOG_FORMAT))
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger = logging.getLogger(app.import_name)  # app.logger's; Flask then adds no handler of its own
    logger.removeHandler(default_handler)
    if handler not in logger.handlers:
        logger.addHandler(handler)
    request_log.setLevel(logging.INFO)
    # First in, last out: the id exists before any other hook runs, the line is written after all of
    # them (after_request functions run in reverse order), with the status they left.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
