"""Logging that carries no personal data and no secrets, at any level — DEBUG included.

Two layers:
1. Our own log lines carry ids, counts and error class names only (never message text, names, phone
   numbers, codes or notes). Libraries that would log payloads are held back whatever LOG_LEVEL says:
   python-telegram-bot logs every request's parameters and every response at DEBUG (and a malformed
   answer's body at ERROR), httpx logs each URL (which holds the bot token) at INFO.
2. The handler's formatter writes tracebacks without the exceptions' messages, and redacts what slipped
   through anyway: the tokens themselves, anything shaped like a bot token, long digit runs (phone and
   ID numbers) and invite codes.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable

# Held at CRITICAL: they log request parameters, response bodies (PTB at ERROR on a malformed answer)
# or URLs with the token, and the bot classifies and logs their errors itself.
SILENT = ("telegram", "httpx", "httpcore", "hpack")
QUIET = (
    "tornado.access",
    "tornado.general",
    "tornado.application",
    "asyncio",
    "apscheduler.executors",
    "openpyxl",
    "matplotlib",
    "PIL",
)
_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}")
_DIGITS = re.compile(r"(?<![\w.:])\+?\d(?:[ .\-]?\d){8,}(?![\w.:])")  # phone and ID numbers, not times
_INVITE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


class RedactingFormatter(logging.Formatter):
    """Formats, then removes secrets and personal-data shapes from the whole line."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        clean = logging.makeLogRecord(record.__dict__)  # other handlers keep the original record
        clean.msg, clean.args = redact(record.getMessage(), self._secrets), None
        if record.exc_info and record.exc_info[1] is not None:
            clean.exc_text = redact(traceback_without_messages(record.exc_info[1]), self._secrets)
            clean.exc_info = None
        if record.stack_info:
            clean.stack_info = redact(record.stack_info, self._secrets)
        return super().format(clean)


def traceback_without_messages(exc: BaseException) -> str:
    """Where it failed (frames and code lines) and what (exception classes), never the exceptions' texts:
    a message can quote what a person typed, a file's cells, or a URL with the token."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for error in reversed(chain):
        if parts:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(error.__traceback__))
        parts.append(f"{type(error).__module__}.{type(error).__qualname__} (message not logged)\n")
    return "".join(parts).rstrip("\n")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "[secret]")
    text = _TOKEN.sub("[token]", text)
    text = _INVITE.sub("[code]", text)
    return _DIGITS.sub("[number]", text)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure(level: str, secrets: Iterable[str] = ()) -> None:
    """Our handler on stderr with redaction (installed once); noisy libraries held at WARNING."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(old)
    handler = _Stderr()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", secrets))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in SILENT:
        logging.getLogger(name).setLevel(logging.CRITICAL)
