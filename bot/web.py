"""The bot's own small HTTP server: every channel's webhook (and a health check).

Webhook handlers stream the body (`stream_request_body`) so that the secret header and the declared
length are checked before a single body byte is read: a request without the secret, or announcing
more than `MAX_BODY`, is answered and the connection closed — nothing is buffered. An update is
acknowledged with 200 only after it is committed to the inbox.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

import tornado.http1connection
import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.channels.base import Route

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # a Telegram or Zalo update is a few kB; anything near this is not one


def _quiet_access_log(handler: tornado.web.RequestHandler) -> None:
    """Method, the path's first part and status only, at DEBUG: no query strings, no headers, no bodies,
    and not the rest of the path (a download link's path is its secret)."""
    request = handler.request
    first = request.path.split("/")[1] if request.path.count("/") else ""
    log.debug("%s /%s -> %s", request.method, first, handler.get_status())


class _Health(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish('{"ok": true}')


@tornado.web.stream_request_body
class WebhookHandler(tornado.web.RequestHandler):
    """Base for webhooks: secret first, size next, then the body; subclasses store it.

    Subclasses set `secret_header` and implement `accept(body)` (store, committed) -> HTTP status.
    """

    secret_header = ""

    def initialize(self, secret: str, **kwargs: Any) -> None:
        self._secret = secret.encode()
        self._chunks: list[bytes] = []
        self._size = 0
        self.extra = kwargs

    def prepare(self) -> None:
        if self.request.method != "POST":
            self._refuse(405)
            return
        given = self.request.headers.get(self.secret_header, "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret):
            self._refuse(403)
            return
        declared = self.request.headers.get("Content-Length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            self._refuse(413)
            return
        connection = self.request.connection
        if isinstance(connection, tornado.http1connection.HTTP1Connection):
            connection.set_max_body_size(MAX_BODY)  # also caps chunked bodies

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.finish()  # tornado closes the connection instead of reading the rest of the body

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= MAX_BODY:
            self._chunks.append(chunk)

    async def post(self) -> None:
        if self._size > MAX_BODY:
            self._refuse(413)
            return
        try:
            body = json.loads(b"".join(self._chunks))
        except ValueError:
            self._refuse(400)
            return
        try:
            status = await self.accept(body)
        except Exception:  # the platform retries anything but 2xx: nothing acknowledged is lost
            log.exception("%s webhook: could not store the update", self.request.path)
            status = 503
        self.set_status(status)
        self.finish()

    async def accept(self, body: Any) -> int:
        raise NotImplementedError

    def get(self) -> None:  # prepare() already refused anything but POST
        self._refuse(405)


class WebServer:
    """Routes from the channels, served on one address and port."""

    def __init__(self, listen: str, port: int) -> None:
        self.listen = listen
        self.port = port
        self._routes: list[Route] = []
        self._server: tornado.httpserver.HTTPServer | None = None

    def add(self, routes: list[Route]) -> None:
        self._routes.extend(routes)

    @property
    def needed(self) -> bool:
        return bool(self._routes)

    async def start(self) -> None:
        app = tornado.web.Application([*self._routes, (r"/healthz", _Health, {})], log_function=_quiet_access_log)
        sockets = tornado.netutil.bind_sockets(self.port, address=self.listen)
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY, idle_connection_timeout=60)
        self._server.add_sockets(sockets)
        log.info("web server listening on %s:%d", self.listen, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()
