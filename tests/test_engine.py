"""The engine without any channel: plain Inbound in, Outbound out, state in a real SQLite file."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.messages import Inbound, Outbound
from tests.conftest import Clock

_ids = itertools.count(1)


def event(kind: str, chat: str = "42", channel: str = "telegram", **fields: Any) -> Inbound:
    return Inbound(channel, chat, str(next(_ids)), kind, **fields)  # type: ignore[arg-type]


def labels(reply: Outbound) -> list[str]:
    return [b.label for b in reply.button_list()]


def data_of(reply: Outbound, label: str) -> str:
    return next(b.data for b in reply.button_list() if b.label == label)


async def test_start_welcomes_with_commune_and_main_menu(core: Core) -> None:
    [reply] = await core.engine.handle(event("command", command="start"))
    assert "Xã Nguyễn Lương Bằng" in reply.text and "OTP" in reply.text
    assert labels(reply) == [
        *["📘 Hướng dẫn theo chủ đề", "🔎 Hỏi bằng lời", "🙋 Nhờ hỗ trợ", "☎️ Liên hệ xã", "🔔 Thông báo của xã"],
        "🙇 Em nên gọi anh/chị là…",  # until the person has chosen
    ]


async def test_topic_guide_forward_back_done_and_rating(core: Core) -> None:
    h = core.engine.handle
    [topics] = await h(event("button", data="tp", message_id="1"))
    [topic] = await h(event("button", data=data_of(topics, "🪪 VNeID – tài khoản định danh"), message_id="1"))
    [step1] = await h(event("button", data=data_of(topic, "Cài VNeID và đăng ký tài khoản"), message_id="1"))
    assert "Bước 1/8" in step1.text and step1.edit
    assert labels(step1) == [  # a question: answer it, or ask for help, or leave
        *["✅ Có thẻ gắn chip rồi", "❌ Chưa có thẻ gắn chip", "📩 Công an đã đăng ký sẵn"],
        *["🙋 Cần người giúp", "❓ Hỏi nhanh", "🏠 Menu"],
    ]
    [step2] = await h(event("button", data=data_of(step1, "✅ Có thẻ gắn chip rồi"), message_id="1"))
    assert "Bước 2/8" in step2.text
    [step3] = await h(event("button", data=data_of(step2, "Tiếp ▶"), message_id="1"))
    assert "Bước 3/8" in step3.text
    [back] = await h(event("button", data=data_of(step3, "◀ Trước"), message_id="1"))
    assert "Bước 2/8" in back.text
    [ask] = await h(event("button", data=data_of(back, "✅ Xong"), message_id="1"))
    assert "Hướng dẫn có giúp được anh/chị không?" in ask.text and len(ask.buttons[0]) == 5
    [thanks] = await h(event("button", data="r:vneid-register:4", message_id="1"))
    assert "4★" in thanks.text
    [noted] = await h(event("text", text="Rất dễ hiểu " * 100))
    assert "góp ý" in noted.text
    async with core.db.transaction() as conn:
        rows = await (await conn.execute("SELECT subject_id, stars, person, length(comment) FROM ratings")).fetchall()
    assert [tuple(r) for r in rows] == [("vneid-register", 4, "telegram:42", 500)]


async def test_same_update_twice_is_answered_once(core: Core) -> None:
    update = event("command", command="start")
    assert len(await core.engine.handle(update)) == 1
    assert await core.engine.handle(update) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("zz:1", "Nút này đã cũ"),
        ("g:no-such-guide:1", "không tìm thấy hướng dẫn"),
        ("g:vneid-register", "không tìm thấy hướng dẫn"),
        ("t:../../etc", "Nút này đã cũ"),
        ("r:vneid-register:9", "Nút này đã cũ"),
        ("r:vneid-register:-1", "Nút này đã cũ"),
        ("gx:x:y:z", "không tìm thấy hướng dẫn"),
        ("", "Nút này đã cũ"),
    ],
)
async def test_forged_or_unknown_buttons_get_an_explanation_and_the_menu(core: Core, data: str, expected: str) -> None:
    replies = await core.engine.handle(event("button", data=data, message_id="3"))
    assert expected.lower() in replies[0].text.lower()
    assert "🏠 Menu" in labels(replies[-1]) or "📘 Hướng dẫn theo chủ đề" in labels(replies[-1])
    async with core.db.transaction() as conn:
        assert (await (await conn.execute("SELECT count(*) FROM ratings")).fetchone())[0] == 0


async def test_button_to_a_step_that_no_longer_exists_restarts_the_guide(core: Core) -> None:
    replies = await core.engine.handle(event("button", data="g:vneid-register:42", message_id="3"))
    assert "không còn" in replies[0].text
    assert "Bước 1/8" in replies[1].text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * 5000, "dài quá"),
        ("   ", "bằng chữ"),
        ("😀🙏🎉", "bằng chữ"),
        ("xin chao", "Em chào anh/chị"),
        ("gia vang hom nay", "chưa hiểu"),
        ("123456", "OTP"),
        ("ma otp cua toi la 123456", "OTP"),
    ],
)
async def test_bad_or_odd_text(core: Core, text: str, expected: str) -> None:
    [reply] = await core.engine.handle(event("text", text=text))
    assert expected in reply.text
    assert {"📘 Hướng dẫn theo chủ đề", "🏠 Menu"} & set(labels(reply))  # always a way on


async def test_a_clear_question_opens_its_guide(core: Core) -> None:
    [reply] = await core.engine.handle(event("text", text="khai sinh cho con"))
    assert reply.text.startswith("📘 Khai sinh cho con") and "Bước 1/" in reply.text


async def test_deep_link_and_unknown_deep_link(core: Core) -> None:
    [reply] = await core.engine.handle(event("command", command="start", payload="guide-pay-online"))
    assert reply.text.startswith(f"📘 {core.services.content.guides['pay-online'].title}\nBước 1/")
    [bad] = await core.engine.handle(event("command", command="start", payload="guide-nope"))
    assert "không tìm thấy" in bad.text.lower()


async def test_unsupported_and_unknown_command(core: Core) -> None:
    [voice] = await core.engine.handle(event("unsupported", media="voice"))
    assert "ghi âm" in voice.text
    [cmd] = await core.engine.handle(event("command", command="xyz"))
    assert "không có lệnh" in cmd.text


async def test_restart_keeps_the_place_in_a_guide(settings: Settings, clock: Clock) -> None:
    first = await build_core(settings, clock=clock)
    await first.engine.handle(event("button", data="g:dvc-login:3", message_id="9", chat="7"))
    await first.close()
    second = await build_core(settings, clock=clock)
    try:
        [menu] = await second.engine.handle(event("command", command="start", chat="7"))
        resume = labels(menu)[0]
        assert resume.startswith("▶ Tiếp tục") and "Bước 3/" in resume
        [step] = await second.engine.handle(event("button", data=data_of(menu, resume), chat="7"))
        assert "Bước 3/" in step.text
    finally:
        await second.close()


async def test_text_only_channel_gets_a_numbered_menu_and_digits_press(core: Core) -> None:
    [welcome] = await core.engine.handle(event("command", command="start", channel="zalo", chat="z1"))
    assert welcome.buttons == () and "1. 📘 Hướng dẫn theo chủ đề" in welcome.text
    assert "4. ☎️ Liên hệ xã" in welcome.text
    shown = max(int(line.split(".")[0]) for line in welcome.text.splitlines() if line[:1].isdigit())
    [again] = await core.engine.handle(event("text", text="số 9", channel="zalo", chat="z1"))
    assert again.text.startswith(f"Dạ, danh sách trên chỉ có số 1 đến {shown}.")  # a short correction
    [contact] = await core.engine.handle(event("text", text=" 4. ", channel="zalo", chat="z1"))
    assert "Điện thoại" in contact.text  # the corrected menu still answers


async def test_a_failing_step_apologises_and_the_update_is_not_retried(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(text: str, context: str | None = None) -> object:
        raise RuntimeError("model broken")

    monkeypatch.setattr(core.services.understanding, "understand", boom)
    update = event("text", text="khai sinh")
    [reply] = await core.engine.handle(update)
    assert "trục trặc" in reply.text and "/menu" in reply.text
    assert await core.engine.handle(update) == []


async def test_the_bot_stores_no_message_text(core: Core) -> None:
    await core.engine.handle(event("text", text="so dinh danh cua toi 001088012345"))
    async with core.db.transaction() as conn:
        rows = await (await conn.execute("SELECT state FROM sessions")).fetchall()
    assert all("001088012345" not in r[0] for r in rows)


async def test_a_step_answers_the_speaker_and_notifies_someone_else_in_the_same_turn(core: Core) -> None:
    """One transaction writes both; the other person is on a text-only channel, so their copy is a numbered
    menu and their reply "1" presses its button."""
    from bot.flows.base import Answer, Turn, button
    from bot.messages import Recipient
    from bot.store.outbox import NOTIFY, REPLY

    volunteer = Recipient("zalo", "z9")

    async def ask_for_help(turn: Turn) -> Answer:
        notice = Outbound(
            "🙋 Có người cần giúp ở Thôn 1.",
            ((button("✋ Nhận giúp", "zzz:take"),),),
            to=volunteer,
            key="help:1:offer:z9",
        )
        return Answer([Outbound("Em đã báo Tổ công nghệ số."), notice], {})

    async def take(turn: Turn) -> Answer:
        return Answer([Outbound(f"Anh/chị đã nhận ({turn.inbound.chat_id}).")], {})

    core.router.buttons["zz"] = ask_for_help
    core.router.buttons["zzz"] = take
    [reply] = await core.engine.handle(event("button", data="zz", message_id="3", chat="c1"))
    assert reply.text == "Em đã báo Tổ công nghệ số."
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT channel, chat_id, priority, dedupe_key, payload FROM outbox ORDER BY id"
        )
    assert [(r[0], r[1], r[2]) for r in rows] == [("telegram", "c1", REPLY), ("zalo", "z9", NOTIFY)]
    assert rows[1][3] == "help:1:offer:z9:0" and "1. ✋ Nhận giúp" in rows[1][4]
    [taken] = await core.engine.handle(event("text", text="1", channel="zalo", chat="z9"))
    assert taken.text == "Anh/chị đã nhận (z9)."
    await core.engine.handle(event("button", data="zz", message_id="4", chat="c1"))  # asked again
    async with core.db.transaction() as conn:
        again = await conn.execute_fetchall("SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'help:%'")
    assert next(iter(again))[0] == 1  # the notification's key makes it once only
