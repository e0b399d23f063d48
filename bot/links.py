"""Signed, expiring download links for files a channel cannot upload (Zalo: reports, charts, QR codes).

A link is `<PUBLIC_BASE_URL>/files/<id>/<expires>/<signature>/<name>`: the id is random, `expires` is
a Unix time, and the signature is an HMAC of both under this deployment's key, so a link cannot be
stretched past its expiry or pointed at another file. The bot's web server serves it from a read-only
database connection; an expired or forged link gets a short Vietnamese page, never the file.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import tornado.web

from bot.channels.base import Route
from bot.store import Database, files

log = logging.getLogger(__name__)

GONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Liên kết hết hạn</title>"
    "<p>Liên kết này đã hết hạn hoặc không đúng. Anh/chị nhắn lại cho bot để lấy liên kết mới.</p>"
)
_MIME = {
    ".png": "image/png",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class FileLinks:
    """How links are made and checked: the public root they start with, the key, how long they last."""

    base_url: str
    key: bytes
    ttl: timedelta

    def signature(self, file_id: str, expires: int) -> str:
        return hmac.new(self.key, f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, file_id: str, expires: datetime, name: str) -> str:
        stamp = int(expires.timestamp())
        safe = quote(re.sub(r"[^\w.\-]", "_", name)[:80] or "file")
        return f"{self.base_url.rstrip('/')}/files/{file_id}/{stamp}/{self.signature(file_id, stamp)}/{safe}"

    def valid(self, file_id: str, expires: int, signature: str, now: datetime) -> bool:
        if expires <= now.timestamp():
            return False
        return hmac.compare_digest(signature, self.signature(file_id, expires))


class FileHandler(tornado.web.RequestHandler):
    """GET /files/<id>/<expires>/<signature>/<name>: the file, if the link is genuine and current."""

    def initialize(self, links: FileLinks, db: Database, clock: Callable[[], datetime]) -> None:
        self._links, self._db, self._clock = links, db, clock

    async def get(self, file_id: str, expires: str, signature: str, name: str) -> None:
        now = self._clock()
        stored = None
        if self._links.valid(file_id, int(expires), signature, now):
            try:
                stored = await self._db.read(lambda raw: files.get(raw, file_id, now))
            except Exception as exc:  # logged without the path: the path is the link's secret
                log.error("file link: reading the file failed (%s)", type(exc).__name__)
                self.set_status(503)
                self.finish()
                return
        if stored is None:
            self.set_status(410)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(GONE_PAGE)
            return
        suffix = "." + stored.name.rsplit(".", 1)[-1].lower() if "." in stored.name else ""
        self.set_header("Content-Type", _MIME.get(suffix, "application/octet-stream"))
        self.set_header("Cache-Control", "private, no-store")
        if not stored.is_image:
            ascii_name = re.sub(r"[^\w.\-]", "_", stored.name.encode("ascii", "ignore").decode()) or "file"
            self.set_header(
                "Content-Disposition", f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name)}"
            )
        self.finish(stored.content)

    def log_exception(self, typ: object, value: object, tb: object) -> None:
        """Tornado's own error log names the request path, which here is the secret: class name only."""
        log.error("file link: request failed (%s)", getattr(typ, "__name__", "error"))


def routes(links: FileLinks, db: Database, clock: Callable[[], datetime]) -> list[Route]:
    pattern = r"/files/([A-Za-z0-9_\-]{8,40})/(\d{1,12})/([0-9a-f]{32})/([^/]{1,200})"
    return [(pattern, FileHandler, {"links": links, "db": db, "clock": clock})]
