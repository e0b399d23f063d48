"""The Bot API emulator, checked through python-telegram-bot's real client so fidelity is what PTB sees."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.pilot import User

CHAT = 424242
# 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    client = Bot(emu.token, base_url=emu.base_url)
    async with client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)] for label, data in pairs])


async def test_get_me(bot: Bot, emu: BotApiEmulator) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "dvc_assistant_bot" and me.id == 123456
    assert me.first_name == "Trợ lý DVC" and me.can_join_groups
    assert emu.port > 0 and emu.base_url == f"http://127.0.0.1:{emu.port}/bot"


async def test_updates_carry_text_and_commands_and_offset_confirms(bot: Bot, emu: BotApiEmulator) -> None:
    sent = emu.send_text(CHAT, "/start x", first_name="Lan")
    emu.send_text(CHAT, "xin chào")
    updates = await asyncio.wait_for(bot.get_updates(timeout=1), 5)
    assert [u.update_id for u in updates] == [sent["update_id"], sent["update_id"] + 1]
    first = updates[0]
    assert first.message is not None and first.message.text == "/start x"
    assert first.message.chat.id == CHAT and first.message.chat.type == "private"
    assert first.message.from_user is not None and first.message.from_user.first_name == "Lan"
    assert first.message.from_user.language_code == "vi"
    assert [(e.type, e.offset, e.length) for e in first.message.entities] == [("bot_command", 0, 6)]
    assert updates[1].message is not None and not updates[1].message.entities
    # Without confirming, the same updates come back; confirming with offset drops them.
    assert len(await bot.get_updates(timeout=0)) == 2
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert await bot.get_updates(timeout=0) == ()


async def test_long_poll_times_out_empty_and_wakes_on_arrival(bot: Bot, emu: BotApiEmulator) -> None:
    started = time.monotonic()
    assert await asyncio.wait_for(bot.get_updates(timeout=1), 5) == ()
    assert 0.9 <= time.monotonic() - started < 3

    started = time.monotonic()
    asyncio.get_running_loop().call_later(0.2, emu.send_text, CHAT, "đến rồi")
    updates = await asyncio.wait_for(bot.get_updates(timeout=5), 5)
    assert [u.message.text for u in updates if u.message] == ["đến rồi"]
    assert time.monotonic() - started < 2


async def test_redelivered_update_keeps_its_id(bot: Bot, emu: BotApiEmulator) -> None:
    sent = emu.send_text(CHAT, "một lần")
    (update,) = await bot.get_updates(timeout=0)
    offset = update.update_id + 1
    assert await bot.get_updates(offset=offset, timeout=0) == ()
    emu.redeliver(sent)
    (again,) = await bot.get_updates(offset=offset, timeout=0)
    assert again.update_id == update.update_id and again.message is not None
    assert again.message.text == "một lần"
    assert await bot.get_updates(offset=offset, timeout=0) == ()


async def test_send_and_edit_message_with_buttons(bot: Bot, emu: BotApiEmulator) -> None:
    emu.send_text(CHAT, "/start")
    msg = await bot.send_message(CHAT, "Chọn dịch vụ:", reply_markup=keyboard(("Khai sinh", "svc:ks")))
    (shown,) = emu.messages(CHAT)
    assert shown.message_id == msg.message_id == 2  # the user's /start took id 1
    assert shown.kind == "text" and shown.text == "Chọn dịch vụ:"
    assert shown.buttons == [[("Khai sinh", "svc:ks")]] and shown.edits == 0
    assert msg.reply_markup is not None

    new_markup = keyboard(("Quay lại", "back"))
    edited = await bot.edit_message_text(
        "Đã chọn: Khai sinh", chat_id=CHAT, message_id=msg.message_id, reply_markup=new_markup
    )
    assert not isinstance(edited, bool) and edited.text == "Đã chọn: Khai sinh"
    (shown,) = emu.messages(CHAT)
    assert shown.edits == 1 and shown.text == "Đã chọn: Khai sinh"
    assert shown.buttons == [[("Quay lại", "back")]]
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text(
            "Đã chọn: Khai sinh", chat_id=CHAT, message_id=msg.message_id, reply_markup=new_markup
        )
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=msg.message_id, reply_markup=None)
    assert emu.messages(CHAT)[0].buttons == []
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=99)

    assert [(a.seq, a.kind, a.method) for a in emu.actions(CHAT)] == [
        (1, "send", "sendMessage"),
        (2, "edit", "editMessageText"),
        (3, "edit", "editMessageReplyMarkup"),
    ]
    assert await bot.delete_message(CHAT, msg.message_id)
    assert emu.messages(CHAT) == [] and emu.actions(CHAT, after=3)[0].kind == "delete"
    assert emu.stats["sendMessage"] == 1 and emu.stats["editMessageText"] == 3


async def test_validation_errors_use_telegram_texts(bot: Bot, emu: BotApiEmulator) -> None:
    emu.send_text(CHAT, "/start")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard(("Nút", "x" * 65)))
    await bot.send_message(CHAT, "x", reply_markup=keyboard(("Nút", "đ" * 32)))  # 64 bytes is fine
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    await bot.send_message(CHAT, "a" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "😀" * 2049)  # 4098 UTF-16 code units
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "   ")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(777, "ai đó?")
    with pytest.raises(BadRequest, match=r"(?i)there is no photo in the request"):
        await bot.send_photo(CHAT, photo=b"")
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(CHAT, photo=b"not an image")


async def test_html_parse_mode_is_parsed_like_telegram(bot: Bot, emu: BotApiEmulator) -> None:
    emu.send_text(CHAT, "/start")
    msg = await bot.send_message(CHAT, "  <b>Xin chào</b> &amp; &lt;bạn&gt;\n", parse_mode=ParseMode.HTML)
    assert msg.text == "Xin chào & <bạn>"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 8)]
    assert emu.messages(CHAT)[-1].text == "Xin chào & <bạn>"
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "br"'):
        await bot.send_message(CHAT, "dòng 1<br>dòng 2", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "<b>chưa đóng", parse_mode=ParseMode.HTML)


async def test_injected_retry_after(bot: Bot, emu: BotApiEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.send_text(CHAT, "/start")
    emu.inject_error("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "lần 1")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    await bot.send_message(CHAT, "lần 2")  # only `count` calls fail
    assert [m.text for m in emu.messages(CHAT)] == ["lần 2"]
    assert emu.stats["sendMessage"] == 2


async def test_callback_answers(bot: Bot, emu: BotApiEmulator) -> None:
    start = emu.send_text(CHAT, "/start")
    msg = await bot.send_message(CHAT, "Bạn có đồng ý?", reply_markup=keyboard(("Đồng ý", "yes")))
    pressed = emu.press(CHAT, msg.message_id, "yes")
    (update,) = await bot.get_updates(offset=start["update_id"] + 1, timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "yes" and query.id == pressed["callback_query"]["id"]
    assert query.message is not None and query.message.message_id == msg.message_id
    assert await bot.answer_callback_query(query.id, text="Đã ghi nhận")
    assert emu.callback_answers[-1]["text"] == "Đã ghi nhận"
    assert emu.callback_answers[-1]["message_id"] == msg.message_id
    assert emu.actions(CHAT)[-1].kind == "answer"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)  # already answered
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query("123")


async def test_files_are_stored_and_served(bot: Bot, emu: BotApiEmulator) -> None:
    emu.send_text(CHAT, "/start")
    doc = await bot.send_document(CHAT, document=b"%PDF-1.4 fake", filename="huong_dan.pdf", caption="Hướng dẫn")
    photo = await bot.send_photo(CHAT, photo=PNG, caption="Mã QR")
    assert doc.document is not None and doc.document.file_name == "huong_dan.pdf"
    assert photo.photo and photo.photo[-1].width == 1
    shown_doc, shown_photo = emu.messages(CHAT)
    assert (shown_doc.kind, shown_doc.file_name, shown_doc.file_bytes, shown_doc.text) == (
        "document",
        "huong_dan.pdf",
        b"%PDF-1.4 fake",
        "Hướng dẫn",
    )
    assert (shown_photo.kind, shown_photo.file_bytes, shown_photo.text) == ("photo", PNG, "Mã QR")
    again = await bot.send_photo(CHAT, photo=photo.photo[-1].file_id)  # re-send by file_id
    assert emu.messages(CHAT)[-1].file_bytes == PNG and again.photo
    async with httpx.AsyncClient(base_url=emu.url) as http:
        png = await http.get(f"/user/{CHAT}/file/{photo.message_id}")
        assert png.status_code == 200 and png.content == PNG and png.headers["content-type"] == "image/png"
        pdf = await http.get(f"/user/{CHAT}/file/{doc.message_id}")
        assert pdf.content == b"%PDF-1.4 fake"
        assert pdf.headers["content-type"] == "application/octet-stream"


@pytest.fixture
async def file_bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    client = Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url)
    async with client:
        yield client


ROSTER = "họ_tên,ngày_sinh\nNguyễn Văn Á,1950-01-02\n".encode()


async def test_user_document_downloads_byte_exact(file_bot: Bot, emu: BotApiEmulator) -> None:
    assert emu.base_file_url == f"http://127.0.0.1:{emu.port}/file/bot"
    sent = emu.send_document(CHAT, "danh_sách.csv", ROSTER, caption="Danh sách tháng 5")
    (update,) = await file_bot.get_updates(timeout=0)
    assert update.update_id == sent["update_id"] and update.message is not None
    doc = update.message.document
    assert doc is not None and update.message.caption == "Danh sách tháng 5"
    assert (doc.file_name, doc.mime_type, doc.file_size) == ("danh_sách.csv", "text/csv", len(ROSTER))
    assert doc.file_unique_id and filters.Document.FileExtension("csv").check_update(update)

    file = await file_bot.get_file(doc.file_id)
    assert file.file_id == doc.file_id and file.file_size == len(ROSTER)
    assert file.file_path is not None and file.file_path.startswith(emu.base_file_url)
    assert file.file_path.endswith(".csv") and "/documents/file_" in file.file_path
    assert bytes(await file.download_as_bytearray()) == ROSTER
    assert (await file_bot.get_file(doc.file_id)).file_path == file.file_path  # stable path

    xlsx = emu.send_document(CHAT, "DS.xlsx", b"PK\x03\x04 fake xlsx")["message"]["document"]
    assert xlsx["mime_type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    with pytest.raises(ValueError, match="empty"):
        emu.send_document(CHAT, "rỗng.csv", b"")


async def test_get_file_errors(file_bot: Bot, emu: BotApiEmulator) -> None:
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await file_bot.get_file("no-such-file")
    big = emu.send_document(CHAT, "lớn.xlsx", b"x" * (20 * 1024 * 1024 + 1))
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await file_bot.get_file(big["message"]["document"]["file_id"])
    at_limit = emu.send_document(CHAT, "vừa.csv", b"y" * (20 * 1024 * 1024))
    assert (await file_bot.get_file(at_limit["message"]["document"]["file_id"])).file_size == 20 * 1024 * 1024

    doc = emu.send_document(CHAT, "a.csv", ROSTER)["message"]["document"]
    path = (await file_bot.get_file(doc["file_id"])).file_path
    assert path is not None
    relative = path.removeprefix(f"{emu.base_file_url}{emu.token}/")
    async with httpx.AsyncClient(base_url=emu.url) as http:
        ok = await http.get(f"/file/bot{emu.token}/{relative}")
        assert ok.status_code == 200 and ok.content == ROSTER
        wrong = await http.get(f"/file/bot999:WRONG/{relative}")
        assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
        missing = await http.get(f"/file/bot{emu.token}/documents/file_999.csv")
        assert missing.status_code == 404


async def test_upload_route_enqueues_document(file_bot: Bot, emu: BotApiEmulator) -> None:
    async with httpx.AsyncClient(base_url=emu.url) as http:
        res = await http.post(
            f"/user/{CHAT}/upload",
            files={"file": ("Danh sách.xlsx", b"PK\x03\x04 roster", "application/octet-stream")},
            data={"caption": "gửi cán bộ"},
        )
        assert res.status_code == 200
        body = res.json()
        assert body["ok"] and isinstance(body["update_id"], int)
        missing = await http.post(f"/user/{CHAT}/upload", files={"other": ("x.csv", b"1", "text/csv")})
        assert missing.status_code == 400 and not missing.json()["ok"]
        empty = await http.post(f"/user/{CHAT}/upload", files={"file": ("x.csv", b"", "text/csv")})
        assert empty.status_code == 400
        view = (await http.get(f"/user/{CHAT}/messages")).json()
        assert view["user"][-1]["text"] == "📎 Danh sách.xlsx\ngửi cán bộ"
    (update,) = await file_bot.get_updates(timeout=0)
    assert update.update_id == body["update_id"] and update.message is not None
    doc = update.message.document
    assert doc is not None and doc.file_name == "Danh sách.xlsx" and update.message.caption == "gửi cán bộ"
    assert doc.mime_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    file = await file_bot.get_file(doc.file_id)
    assert bytes(await file.download_as_bytearray()) == b"PK\x03\x04 roster"


async def test_bot_sent_files_can_be_fetched_back(file_bot: Bot, emu: BotApiEmulator) -> None:
    emu.send_text(CHAT, "/start")
    doc = await file_bot.send_document(CHAT, document=b"%PDF-1.4 mau", filename="mẫu_đơn.pdf")
    photo = await file_bot.send_photo(CHAT, photo=PNG)
    assert doc.document is not None and photo.photo
    got_doc = await file_bot.get_file(doc.document.file_id)
    assert got_doc.file_path is not None and got_doc.file_path.endswith(".pdf")
    assert bytes(await got_doc.download_as_bytearray()) == b"%PDF-1.4 mau"
    got_photo = await file_bot.get_file(photo.photo[-1].file_id)
    assert got_photo.file_path is not None and "/photos/" in got_photo.file_path
    assert bytes(await got_photo.download_as_bytearray()) == PNG

    emu.send_media(CHAT, "voice")  # placeholder media: metadata only, zero bytes of the declared size
    updates = await file_bot.get_updates(timeout=0)
    voice = updates[-1].message.voice if updates[-1].message else None
    assert voice is not None
    got_voice = await file_bot.get_file(voice.file_id)
    assert got_voice.file_size == voice.file_size and len(await got_voice.download_as_bytearray()) == 6_200


async def test_commands_round_trip(bot: Bot, emu: BotApiEmulator) -> None:
    assert await bot.set_my_commands([("start", "Bắt đầu"), ("huongdan", "Hướng dẫn")])
    assert emu.commands == [
        {"command": "start", "description": "Bắt đầu"},
        {"command": "huongdan", "description": "Hướng dẫn"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "huongdan"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Bắt_đầu", "x")])
    assert await bot.delete_my_commands()
    assert emu.commands == []


class _Receiver(tornado.web.RequestHandler):
    def initialize(self, box: dict[str, Any]) -> None:
        self.box = box

    def post(self) -> None:
        if self.box["fail_first"] > 0:
            self.box["fail_first"] -= 1
            self.set_status(500)
            return
        self.box["got"].append(
            (json.loads(self.request.body), self.request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        self.box["event"].set()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    box: dict[str, Any] = {"got": [], "event": asyncio.Event(), "fail_first": 0}
    sockets = tornado.netutil.bind_sockets(0, address="127.0.0.1")
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/hook", _Receiver, {"box": box})]))
    server.add_sockets(sockets)
    try:
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook", box
    finally:
        server.stop()
        await server.close_all_connections()


async def _received(box: dict[str, Any], count: int) -> list[tuple[dict[str, Any], str | None]]:
    while len(box["got"]) < count:
        box["event"].clear()
        await asyncio.wait_for(box["event"].wait(), 5)
    return list(box["got"])


async def test_webhook_delivery(bot: Bot, emu: BotApiEmulator, receiver: tuple[str, dict[str, Any]]) -> None:
    url, box = receiver
    queued = emu.send_text(CHAT, "trước khi đặt webhook")
    assert await bot.set_webhook(url, secret_token="bi-mat_123")
    assert emu.webhook_url == url and emu.webhook_secret == "bi-mat_123"
    ((first, secret),) = await _received(box, 1)
    assert first == queued and secret == "bi-mat_123"

    box["fail_first"] = 1  # a failed POST is retried
    after = emu.send_text(CHAT, "sau khi đặt webhook")
    got = await _received(box, 2)
    assert got[1][0]["update_id"] == after["update_id"]
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0

    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    emu.send_text(CHAT, "polling lại")
    assert [u.message.text for u in await bot.get_updates(timeout=0) if u.message] == ["polling lại"]


async def test_wrong_token_and_unknown_method(emu: BotApiEmulator) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=emu.base_url):
            pass
    async with httpx.AsyncClient(base_url=emu.url) as http:
        wrong = await http.post("/bot999:WRONG/getMe")
        assert wrong.status_code == 401 and wrong.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
        unknown = await http.post(f"/bot{emu.token}/sendTelepathy")
        assert unknown.status_code == 404 and unknown.json()["description"] == "Not Found"
        as_json = await http.post(f"/bot{emu.token}/getMe", json={})
        assert as_json.json()["result"]["username"] == "dvc_assistant_bot"


async def test_user_http_routes(bot: Bot, emu: BotApiEmulator) -> None:
    async with httpx.AsyncClient(base_url=emu.url) as http:
        page = await http.get("/")
        assert page.status_code == 200 and "Trợ lý DVC — bản thử" in page.text

        sent = (await http.post(f"/user/{CHAT}/send", json={"text": "xin chào"})).json()
        assert sent["ok"] and isinstance(sent["update_id"], int)
        media = (await http.post(f"/user/{CHAT}/media", json={"kind": "voice"})).json()
        assert media["ok"]
        updates = await bot.get_updates(timeout=0)
        assert updates[0].message is not None and updates[0].message.text == "xin chào"
        assert updates[1].message is not None and updates[1].message.voice is not None

        idle = (await http.get(f"/user/{CHAT}/messages", params={"after": 0, "wait": 0.2})).json()
        assert idle["ok"] and idle["actions"] == [] and idle["seq"] == 0

        poll = asyncio.create_task(http.get(f"/user/{CHAT}/messages", params={"after": 0, "wait": 5}))
        msg = await bot.send_message(CHAT, "Chào bạn", reply_markup=keyboard(("Tiếp", "next")))
        view = (await asyncio.wait_for(poll, 5)).json()
        assert view["seq"] == 1 and [a["text"] for a in view["actions"]] == ["Chào bạn"]
        assert view["messages"][0]["buttons"] == [[{"text": "Tiếp", "data": "next"}]]
        assert [u["message_id"] for u in view["user"]] == [1, 2]

        pressed = await http.post(f"/user/{CHAT}/press", json={"message_id": msg.message_id, "data": "next"})
        assert pressed.json()["ok"]
        bad = await http.post(f"/user/{CHAT}/press", json={"message_id": 999, "data": "next"})
        assert bad.status_code == 400


async def test_wait_actions_timeout_names_chat(emu: BotApiEmulator) -> None:
    emu.send_text(CHAT, "/start")
    with pytest.raises(TimeoutError, match=f"chat {CHAT}.*arrived 0"):
        await emu.wait_actions(CHAT, 0, timeout=0.2)


# ------------------------------------------------------------------------------------------ pilot


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        f"Bạn nói: {update.effective_message.text}", reply_markup=keyboard(("Đồng ý", "yes"), ("Không", "no"))
    )


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"Chào! args={context.args}")


async def _choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Bạn chọn: {query.data}")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    data = await (await message.document.get_file()).download_as_bytearray()
    await message.reply_text(f"Đã nhận tệp {message.document.file_name} ({len(data)} byte)")


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = ApplicationBuilder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(MessageHandler(filters.Document.ALL, _document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    application.add_handler(CallbackQueryHandler(_choice))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@pytest.mark.usefixtures("app")
async def test_pilot_drives_a_real_application(emu: BotApiEmulator) -> None:
    user = User(emu, CHAT, first_name="Bác Ba")
    await user.send("/start hs123")
    assert (await user.reply()).text == "Chào! args=['hs123']"

    await user.send("hi")
    reply = await user.reply()
    assert reply.kind == "send" and reply.text == "Bạn nói: hi" and reply.has_button("Đồng ý")

    await user.press("Đồng ý")
    (edited,) = await user.replies()
    assert edited.kind == "edit" and edited.text == "Bạn chọn: yes" and edited.buttons == []
    assert emu.callback_answers and user.screen()[-1].edits == 1

    with pytest.raises(AssertionError, match="available"):
        await user.press("Không có nút này")
    await user.press_data("forged", message_id=reply.message_id)
    assert (await user.reply()).text == "Bạn chọn: forged"

    await user.send_document("danh_sach.csv", ROSTER)
    assert (await user.reply()).text == f"Đã nhận tệp danh_sach.csv ({len(ROSTER)} byte)"


async def test_stop_releases_long_polls() -> None:
    emulator = BotApiEmulator()
    await emulator.start()
    try:
        async with httpx.AsyncClient(base_url=emulator.url) as http:
            bot_poll = asyncio.create_task(http.get(f"/bot{emulator.token}/getUpdates", params={"timeout": 20}))
            user_poll = asyncio.create_task(http.get("/user/1/messages", params={"after": 0, "wait": 20}))
            waiter = asyncio.create_task(emulator.wait_actions(1, 0, timeout=20))
            stopper: list[asyncio.Task[None]] = []
            asyncio.get_running_loop().call_later(0.2, lambda: stopper.append(asyncio.create_task(emulator.stop())))
            started = time.monotonic()
            got_bot, got_user = await asyncio.wait_for(asyncio.gather(bot_poll, user_poll), 5)
            assert got_bot.json() == {"ok": True, "result": []}
            assert got_user.json()["actions"] == []
            await asyncio.wait_for(stopper[0], 5)
            with pytest.raises(TimeoutError, match="emulator stopped"):
                await asyncio.wait_for(waiter, 5)
            assert time.monotonic() - started < 3
    finally:
        await emulator.stop()


async def test_ptb_webhook_mode_end_to_end(emu: BotApiEmulator) -> None:
    with socket.socket() as probe:  # a free port for PTB's own webhook server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    application = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    try:
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            secret_token="bi-mat",
        )
        assert emu.webhook_secret == "bi-mat"
        user = User(emu, CHAT)
        await user.send("qua webhook")
        assert (await user.reply()).text == "Bạn nói: qua webhook"
        assert emu.webhook_errors == []
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
