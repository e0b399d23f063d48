"""The Zalo Bot Platform emulator, called over real HTTP the way a Zalo client calls the real API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.sandbox.zalo_emulator import ZaloEmulator

CHAT = "700000001"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def zalo(zalo_emulator: ZaloEmulator) -> ZaloEmulator:
    return zalo_emulator  # tests/conftest.py's, started on an ephemeral port


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), trust_env=False) as client:
        yield client


async def call(http: httpx.AsyncClient, emu: ZaloEmulator, method: str, **params: Any) -> dict[str, Any]:
    """One API call as the Zalo client makes it; the emulator answers errors inside a 200."""
    response = await http.post(f"{emu.base_url}{emu.token}/{method}", json=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until `check()` is true; fail with a clear message after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Receiver:
    """The bot's webhook endpoint: records headers and JSON bodies, answers the queued statuses, then 200."""

    def __init__(self) -> None:
        self.hits: list[tuple[dict[str, str], Any]] = []
        self.statuses: list[int] = []
        self.url = ""
        self._server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        receiver = self

        class Hook(tornado.web.RequestHandler):
            def post(self) -> None:
                receiver.hits.append((dict(self.request.headers), json.loads(self.request.body)))
                self.set_status(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.finish("ok")

        sockets = tornado.netutil.bind_sockets(0, address="127.0.0.1")
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/zalo"
        # No access log: the 500s it answers on purpose would be logged as errors.
        app = tornado.web.Application([(r"/zalo", Hook)], log_function=lambda handler: None)
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    try:
        yield hook
    finally:
        await hook.stop()


async def test_get_me_with_good_and_bad_token(zalo: ZaloEmulator, http: httpx.AsyncClient) -> None:
    me = await call(http, zalo, "getMe")
    assert me == {
        "ok": True,
        "result": {"id": zalo.bot_id, "account_name": "bot.dvc", "account_type": "BASIC", "can_join_groups": False},
    }
    bad = await http.post(f"{zalo.base_url}not-the-token/getMe", json={})
    assert bad.status_code == 401
    assert bad.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert zalo.calls == [("getMe", None)]


async def test_get_updates_hands_out_one_update_at_a_time_then_408(zalo: ZaloEmulator, http: httpx.AsyncClient) -> None:
    first = zalo.send_text(CHAT, "xin chào", display_name="Bà Tư")
    second = zalo.send_image(CHAT, "ảnh CCCD")
    assert zalo.pending() == 2
    message = first["message"]
    assert first["event_name"] == "message.text.received" and HEX32.fullmatch(message["message_id"])
    assert message["chat"] == {"id": CHAT, "chat_type": "PRIVATE"}
    assert message["from"] == {"id": CHAT, "display_name": "Bà Tư", "is_bot": False}
    assert isinstance(message["date"], int) and message["date"] > 10**12  # milliseconds

    assert await call(http, zalo, "getUpdates", timeout="1") == {"ok": True, "result": first}
    assert await call(http, zalo, "getUpdates", timeout=1) == {"ok": True, "result": second}
    assert second["event_name"] == "message.image.received" and second["message"]["caption"] == "ảnh CCCD"
    assert zalo.pending() == 0

    loop = asyncio.get_running_loop()
    started = loop.time()
    empty = await call(http, zalo, "getUpdates", timeout="1")
    assert empty == {"ok": False, "error_code": 408, "description": "Request timeout"}
    assert 0.8 < loop.time() - started < 3.0


async def test_long_poll_wakes_on_an_update_and_ends_when_the_emulator_stops(
    zalo: ZaloEmulator, http: httpx.AsyncClient
) -> None:
    poll = asyncio.create_task(call(http, zalo, "getUpdates", timeout="30"))
    await eventually(lambda: zalo.calls.count(("getUpdates", None)) == 1)
    update = zalo.send_text(CHAT, "có ai không?")
    async with asyncio.timeout(3):
        assert (await poll)["result"] == update

    url = f"{zalo.base_url}{zalo.token}/getUpdates"
    waiting = asyncio.create_task(http.post(url, json={"timeout": "30"}))
    await eventually(lambda: zalo.calls.count(("getUpdates", None)) == 2)
    await zalo.stop()
    async with asyncio.timeout(3):
        with contextlib.suppress(httpx.HTTPError):
            await waiting
    await zalo.stop()  # idempotent


async def test_list_mode_hands_out_every_queued_update(http: httpx.AsyncClient) -> None:
    emu = ZaloEmulator(updates_as_list=True)
    await emu.start()
    try:
        updates = [emu.send_text(CHAT, "1"), emu.send_sticker(CHAT), emu.send_unsupported(CHAT, "voice")]
        got = await call(http, emu, "getUpdates", timeout="1")
        assert got == {"ok": True, "result": updates}
        assert [u["event_name"] for u in updates] == [
            "message.text.received",
            "message.sticker.received",
            "message.unsupported.received",
        ]
        assert "text" not in updates[2]["message"]
        assert emu.pending() == 0
    finally:
        await emu.stop()


async def test_webhook_posts_wrapped_updates_with_the_secret_and_polling_gets_409(
    zalo: ZaloEmulator, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    short = await call(http, zalo, "setWebhook", url=receiver.url, secret_token="short")
    assert short["ok"] is False and short["error_code"] == 400

    queued = zalo.send_text(CHAT, "gửi trước khi đặt webhook")
    receiver.statuses.append(500)  # the first attempt fails and is retried
    hook = await call(http, zalo, "setWebhook", url=receiver.url, secret_token="s3cret-token")
    assert hook["ok"] is True and hook["result"]["url"] == receiver.url
    await eventually(lambda: len(receiver.hits) == 2)
    headers, body = receiver.hits[-1]
    assert headers["X-Bot-Api-Secret-Token"] == "s3cret-token"
    assert body == {"ok": True, "result": queued}
    assert zalo.webhook_statuses == [500, 200]

    later = zalo.send_text(CHAT, "gửi sau")
    await eventually(lambda: len(receiver.hits) == 3)
    assert receiver.hits[-1][1] == {"ok": True, "result": later}
    assert zalo.pending() == 0

    conflict = await call(http, zalo, "getUpdates", timeout="1")
    assert conflict == {"ok": False, "error_code": 409, "description": "Webhook is active, use deleteWebhook first"}
    info = await call(http, zalo, "getWebhookInfo")
    assert info["result"]["url"] == receiver.url and isinstance(info["result"]["updated_at"], int)

    assert await call(http, zalo, "deleteWebhook") == {"ok": True, "result": True}
    polled = zalo.send_text(CHAT, "lại đây")
    assert await call(http, zalo, "getUpdates", timeout="1") == {"ok": True, "result": polled}


async def test_unwrapped_webhook_body(http: httpx.AsyncClient, receiver: Receiver) -> None:
    emu = ZaloEmulator(wrap_webhook=False)
    await emu.start()
    try:
        await call(http, emu, "setWebhook", url=receiver.url, secret_token="s3cret-token")
        update = emu.send_text(CHAT, "chào")
        await eventually(lambda: len(receiver.hits) == 1)
        assert receiver.hits[0][1] == update
    finally:
        await emu.stop()


async def test_send_message_limits_unknown_chat_and_blocked_user(zalo: ZaloEmulator, http: httpx.AsyncClient) -> None:
    unknown = await call(http, zalo, "sendMessage", chat_id=CHAT, text="chào")
    assert unknown == {"ok": False, "error_code": 400, "description": "chat not found"}

    zalo.send_text(CHAT, "chào")
    for text in ("", "a" * 2001):
        refused = await call(http, zalo, "sendMessage", chat_id=CHAT, text=text)
        assert refused == {"ok": False, "error_code": 400, "description": "text length must be 1-2000"}
    sent = await call(http, zalo, "sendMessage", chat_id=CHAT, text="ạ" * 2000)
    assert sent["ok"] is True and HEX32.fullmatch(sent["result"]["message_id"])
    assert isinstance(sent["result"]["date"], int)
    [message] = await zalo.wait_messages(CHAT, 1, timeout=2)
    assert (message.kind, message.text, message.message_id) == ("text", "ạ" * 2000, sent["result"]["message_id"])
    assert await call(http, zalo, "sendChatAction", chat_id=CHAT, action="typing") == {"ok": True, "result": True}

    zalo.block(CHAT)
    blocked = await call(http, zalo, "sendMessage", chat_id=CHAT, text="chào")
    assert blocked == {"ok": False, "error_code": 403, "description": "user blocked the bot"}
    assert zalo.calls[-1] == ("sendMessage", CHAT)
    with pytest.raises(TimeoutError, match="arrived 1: text"):
        await zalo.wait_messages(CHAT, 2, timeout=0.1)


async def test_send_photo_fetches_the_url(zalo: ZaloEmulator, http: httpx.AsyncClient) -> None:
    url = zalo.send_image(CHAT)["message"]["photo_url"]
    assert url.startswith(f"{zalo.url}/media/")
    sent = await call(http, zalo, "sendPhoto", chat_id=CHAT, photo=url, caption="Đã nhận ảnh")
    assert sent["ok"] is True
    [photo] = zalo.messages(CHAT)
    assert (photo.kind, photo.text, photo.photo_url, photo.photo_type) == ("photo", "Đã nhận ảnh", url, "image/png")
    assert photo.photo_bytes is not None and photo.photo_bytes.startswith(PNG_SIGNATURE)

    for bad in (f"{zalo.url}/media/{'0' * 32}.png", f"http://127.0.0.1:{closed_port()}/a.png", "not a url"):
        refused = await call(http, zalo, "sendPhoto", chat_id=CHAT, photo=bad)
        assert refused == {"ok": False, "error_code": 400, "description": "photo url is invalid"}, bad
    assert len(zalo.messages(CHAT)) == 1

    view = (await http.get(f"{zalo.url}/user/{CHAT}/messages")).json()
    [shown] = view["messages"]
    assert shown["kind"] == "photo" and shown["has_image"] is True
    image = await http.get(f"{zalo.url}/user/{CHAT}/file/{shown['message_id']}")
    assert image.headers["Content-Type"] == "image/png" and image.content == photo.photo_bytes


async def test_injected_errors_and_lost_answers(zalo: ZaloEmulator, http: httpx.AsyncClient) -> None:
    zalo.send_text(CHAT, "chào")
    zalo.inject_error("sendMessage", 429)
    limited = await call(http, zalo, "sendMessage", chat_id=CHAT, text="một")
    assert limited["ok"] is False and limited["error_code"] == 429
    assert (await call(http, zalo, "sendMessage", chat_id=CHAT, text="một"))["ok"] is True

    zalo.inject_error("sendMessage", 502, http_status=502)
    url = f"{zalo.base_url}{zalo.token}/sendMessage"
    proxy = await http.post(url, json={"chat_id": CHAT, "text": "hai"})
    assert proxy.status_code == 502 and proxy.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        proxy.json()

    zalo.lose_answer("sendMessage")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post(url, json={"chat_id": CHAT, "text": "ba"})
    assert [m.text for m in zalo.messages(CHAT)] == ["một", "ba"]  # the lost answer's message went out


async def test_user_routes_for_the_web_chat(zalo: ZaloEmulator, http: httpx.AsyncClient) -> None:
    user = f"{zalo.url}/user/{CHAT}"
    sent = (await http.post(f"{user}/send", json={"text": "xin chào", "first_name": "Ông Năm"})).json()
    assert sent["ok"] is True and sent["update_id"].startswith("message.text.received:")
    update = (await call(http, zalo, "getUpdates", timeout="1"))["result"]
    assert update["message"]["from"]["display_name"] == "Ông Năm"
    assert sent["update_id"] == f"message.text.received:{update['message']['message_id']}"

    start = (await http.get(f"{user}/messages", params={"after": 0, "wait": 0})).json()
    assert (start["seq"], start["messages"], start["user"][0]["text"]) == (0, [], "xin chào")
    waiting = asyncio.create_task(http.get(f"{user}/messages", params={"after": 0, "wait": 10}))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    reply = await call(http, zalo, "sendMessage", chat_id=CHAT, text="Chào ông, ông cần gì ạ?")
    async with asyncio.timeout(3):
        view = (await waiting).json()
    assert view["seq"] == 1
    [message] = view["messages"]
    assert message["text"] == "Chào ông, ông cần gì ạ?" and message["zalo_message_id"] == reply["result"]["message_id"]
    assert message["message_id"] > view["user"][0]["message_id"]  # the page orders the chat by these numbers
    assert view["actions"][0]["method"] == "sendMessage" and view["actions"][0]["seq"] == 1

    press = await http.post(f"{user}/press", json={"message_id": 2, "data": "1"})
    assert press.status_code == 400
    assert press.json() == {"ok": False, "description": "Zalo has no buttons: reply with the number"}
    voice = (await http.post(f"{user}/media", json={"kind": "voice"})).json()
    assert voice["update_id"].startswith("message.unsupported.received:")
    upload = (await http.post(f"{user}/upload", files={"file": ("ds.xlsx", b"x")})).json()
    assert upload["update_id"].startswith("message.unsupported.received:")


async def test_mounted_under_a_prefix(http: httpx.AsyncClient) -> None:
    emu = ZaloEmulator()
    sockets = tornado.netutil.bind_sockets(0, address="127.0.0.1")
    server = tornado.httpserver.HTTPServer(tornado.web.Application(list(emu.handlers("/zalo"))))
    server.add_sockets(sockets)
    try:
        emu.attach(f"http://127.0.0.1:{sockets[0].getsockname()[1]}", "/zalo")
        assert emu.base_url.endswith("/zalo/bot")
        photo_url = emu.send_image(CHAT)["message"]["photo_url"]
        assert photo_url.startswith(f"{emu.url}/media/")
        assert (await http.get(photo_url)).content.startswith(PNG_SIGNATURE)
        assert (await call(http, emu, "sendPhoto", chat_id=CHAT, photo=photo_url))["ok"] is True
    finally:
        await emu.stop()
        server.stop()
        await server.close_all_connections()
