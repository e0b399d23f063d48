"""🔳 Per-guide QR codes for posters at the one-stop office: scanning one opens the guide in the bot."""

from __future__ import annotations

import io

from bot.content import Guide
from bot.flows.base import Answer, Router, Turn, button, requires
from bot.flows.common import menu_answer, reply
from bot.messages import Attachment, Outbound

router = Router()


@router.button("qr")
@requires("team.manage")
async def pick_guide(turn: Turn) -> Answer:
    guides = sorted(turn.content.guides.values(), key=lambda g: g.title)
    items = [button(g.title[:60], f"qrg:{g.id}") for g in guides[:40]]
    return reply(turn, turn.t("qr_pick"), *items, edit=turn.inbound.kind == "button")


@router.button("qrg")
@requires("team.manage")
async def guide_qr(turn: Turn) -> Answer:
    args = turn.args()
    guide = turn.content.guides.get(args[0]) if len(args) == 1 else None
    if guide is None:
        return menu_answer(turn, turn.t("stale_button"))
    link = _deep_link(turn, f"guide-{guide.id}")
    if link is None:
        return menu_answer(turn, turn.t("qr_no_link"))
    png = poster_png(link, guide)
    file = Attachment(f"QR_{guide.id}.png", png, is_image=True)
    caption = turn.t("qr_caption", title=guide.title, link=link)
    return Answer([Outbound(caption, attachment=file)])


def _deep_link(turn: Turn, payload: str) -> str | None:
    """A link that opens the guide: the officer's own messenger's if it has such links, else any
    running one's (Zalo bots have no start payload, so a poster made on Zalo opens the Telegram bot)."""
    makers = turn.services.deep_links
    ordered = [makers[turn.inbound.channel]] if turn.inbound.channel in makers else []
    ordered += [make for channel, make in sorted(makers.items()) if channel != turn.inbound.channel]
    return next((link for make in ordered if (link := make(payload)) is not None), None)


def poster_png(link: str, guide: Guide) -> bytes:
    """The QR code, large enough to scan from a wall, with the guide's title printed under it."""
    import segno
    from PIL import Image, ImageDraw, ImageFont

    from bot.services.digest import font_path

    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=12, border=3)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    font = ImageFont.truetype(str(font_path()), 28)
    lines = _wrap(guide.title, 30)
    poster = Image.new("RGB", (code.width, code.height + 44 * len(lines) + 30), "white")
    poster.paste(code, (0, 0))
    draw = ImageDraw.Draw(poster)
    for i, line in enumerate(lines):
        width = draw.textlength(line, font=font)
        draw.text(((code.width - width) / 2, code.height + 10 + 44 * i), line, fill="black", font=font)
    out = io.BytesIO()
    poster.save(out, format="PNG")
    return out.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]
