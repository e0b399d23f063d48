"""A help request through the Telegram emulator: the citizen shares their number with Telegram's button,
two volunteers are asked, one takes it; when the citizen has blocked the bot, the volunteer is told."""

from __future__ import annotations

from bot.app import Core
from bot.runtime import Service
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.pilot import User
from bot.store import villages
from tests.team_fixtures import invite_code


async def test_help_request_through_telegram(emulator: BotApiEmulator, service: Service, core: Core) -> None:
    async with core.db.transaction() as conn:
        village = next(v.id for v in await villages.for_commune(conn, "11242") if v.name == "Thôn 1")
    volunteers = [User(emulator, chat_id=7101), User(emulator, chat_id=7102)]
    for user, name in zip(volunteers, ("Nam", "Hà"), strict=True):
        await user.send("/join " + await invite_code(core, role="volunteer", village_ids=[village], label=name))
        assert f"Chào mừng {name}" in (await user.reply()).text
    citizen = User(emulator, chat_id=7103)
    await citizen.send("/start")
    await citizen.reply()
    await citizen.press("🙋 Nhờ hỗ trợ")
    await citizen.reply()
    await citizen.press("Thôn 1")
    await citizen.reply()
    await citizen.press("🪪 VNeID – tài khoản định danh")
    await citizen.reply()
    await citizen.press("🌤 Buổi chiều")
    phone_step = await citizen.replies(2)
    assert "bước 4/4" in phone_step[0].text and "📱" in phone_step[1].text
    await citizen.share_contact("+84987654321")
    confirm = await citizen.replies(2)
    assert "0987 654 321" in confirm[0].text and "✅ Gửi yêu cầu" in confirm[-1].labels
    await citizen.press("✅ Gửi yêu cầu")
    assert "Tổ công nghệ số Thôn 1" in (await citizen.reply()).text

    offers = [await v.reply() for v in volunteers]
    assert all(o.labels == ["✋ Nhận giúp"] and "0987" not in o.text for o in offers)
    await volunteers[0].press("✋ Nhận giúp")
    taken = await volunteers[0].reply()
    assert "0987 654 321" in taken.text
    assert "Nam (Tổ công nghệ số) sẽ giúp" in (await citizen.reply()).text
    assert "đã có Nam nhận" in (await volunteers[1].reply()).text

    emulator.inject_error("sendMessage", status=403, chat_id=citizen.chat_id)  # the citizen blocked the bot
    await volunteers[0].press("💬 Nhắn người dân")
    await volunteers[0].reply()
    await volunteers[0].send("Chiều nay 3 giờ em qua ạ")
    told = await volunteers[0].replies(2)
    assert any("Không gửi được tin cho người dân" in r.text and "0987 654 321" in r.text for r in told)
