"""The `dvcbot` command (DESIGN.md §4): run, demo, guides search, guides check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot import logs
from bot.channels.base import Channel
from bot.config import Settings
from bot.content import ContentError, check_content, load_commune, load_content, official_name
from bot.store import Database, DatabaseUrlError, audit, invites
from bot.understand import Understanding, evaluate

log = logging.getLogger("dvcbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dvcbot", description="DVC Assistant chatbot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve every channel whose token is set, plus the scheduler")
    demo = sub.add_parser("demo", help="local emulator + web chat + bot on the sample commune, no token")
    demo.add_argument("--port", type=int, default=8080, help="web chat and emulator port (default 8080)")
    demo.add_argument("--database", default="sqlite:///data/demo.db", help="DATABASE_URL for the demo")
    guides = sub.add_parser("guides", help="guide content tools")
    gsub = guides.add_subparsers(dest="guides_command", required=True)
    search = gsub.add_parser("search", help="rank guides and actions for a question")
    search.add_argument("query")
    search.add_argument("--json", action="store_true", help='print [{"id": ..., "score": ...}]')
    search.add_argument("--limit", type=int, default=3)
    gsub.add_parser("check", help="validate all content; non-zero exit on any fault")
    ev = gsub.add_parser("eval", help="accuracy of the understanding on a labelled TSV (text<TAB>intent)")
    ev.add_argument("file", type=Path)
    ev.add_argument("--misses", type=int, default=60, help="how many misses to list")

    invite = sub.add_parser("invite", help="print a one-time invite code (the first officer of a commune)")
    invite.add_argument("role", choices=["officer", "admin"])
    invite.add_argument("--commune", required=True, help="commune code, e.g. 11242")
    invite.add_argument("--name", default="Cán bộ xã", help="who the code is for (shown in the team list)")

    households = sub.add_parser("households", help="household roster tools")
    hsub = households.add_subparsers(dest="households_command", required=True)
    imp = hsub.add_parser("import", help="import a CSV/XLSX roster; faults change nothing")
    imp.add_argument("file", type=Path)
    imp.add_argument("--commune", required=True)
    imp.add_argument("--create-villages", action="store_true", help="add villages the file names but the commune lacks")
    exp = hsub.add_parser("export", help="export households with status, last visit and volunteer as XLSX")
    exp.add_argument("--commune", required=True)
    exp.add_argument("file", type=Path)

    digest = sub.add_parser("digest", help="officers' weekly and monthly digest")
    dsub = digest.add_subparsers(dest="digest_command", required=True)
    preview = dsub.add_parser("preview", help="print a digest and write its chart PNG, for checking")
    preview.add_argument("--commune", required=True)
    period = preview.add_mutually_exclusive_group()
    period.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: the last week that ended)")
    period.add_argument("--month", help="a month, e.g. 2026-11")
    preview.add_argument("--png", type=Path, help="chart file (default: digest-<period>.png here)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    # The demo prints its address and errors only, unless LOG_LEVEL asks for more.
    quiet = args.command == "demo" and "LOG_LEVEL" not in os.environ
    logs.configure("WARNING" if quiet else settings.log_level, secrets_of(settings))
    if args.command == "guides":
        if args.guides_command == "check":
            return guides_check(settings.content_dir)
        if args.guides_command == "eval":
            return guides_eval(settings, args.file, args.misses)
        return guides_search(settings, args.query, as_json=args.json, limit=args.limit)
    if args.command == "invite":
        return asyncio.run(invite_command(settings, args.role, args.commune, args.name))
    if args.command == "households":
        if args.households_command == "import":
            return asyncio.run(import_command(settings, args.file, args.commune, args.create_villages))
        return asyncio.run(export_command(settings, args.commune, args.file))
    if args.command == "digest":
        return asyncio.run(digest_preview(settings, args.commune, args.week, args.month, args.png))
    if args.command == "demo":
        from bot.sandbox.demo import run_demo

        return asyncio.run(run_demo(settings, port=args.port, database_url=args.database))
    return asyncio.run(run(settings))


def guides_check(content_dir: Path) -> int:
    faults = check_content(content_dir)
    for fault in faults:
        print(fault)
    if faults:
        print(f"{len(faults)} fault(s) found", file=sys.stderr)
        return 1
    print("content OK")
    return 0


def guides_search(settings: Settings, query: str, *, as_json: bool, limit: int) -> int:
    understanding = _understanding(settings)
    if understanding is None:
        return 2
    hits = understanding.search(query, limit=limit)
    if as_json:
        print(json.dumps([{"id": h.id, "score": h.score} for h in hits], ensure_ascii=False))
    else:
        for hit in hits:
            print(f"{hit.score:.3f}  {hit.id}")
    return 0


def _understanding(settings: Settings) -> Understanding | None:
    logging.getLogger("bot.content").setLevel(logging.CRITICAL)  # faults are `guides check`'s job
    logging.getLogger("bot.understand").setLevel(logging.WARNING)
    try:
        content = load_content(settings.content_dir, settings.commune)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return None
    return Understanding(content)


def guides_eval(settings: Settings, path: Path, misses: int) -> int:
    """Top-1 accuracy, per intent and per band, and the misses, on a TSV of text<TAB>intent."""
    import csv

    understanding = _understanding(settings)
    if understanding is None:
        return 2
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [r for r in csv.reader(handle, delimiter="\t") if len(r) >= 2]
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    labelled = [(r[0], r[1].strip()) for r in rows if r[0] != "text"]
    unknown = sorted({i for _, i in labelled} - set(understanding.intents))
    if unknown:
        print(f"unknown intents in {path}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    result = evaluate(understanding, labelled)
    print(f"messages: {result.total}")
    print(f"top-1 accuracy: {result.correct}/{result.total} = {100 * result.accuracy:.1f} %")
    print(f"right guide (quick answer or not): {100 * result.same_guide / max(result.total, 1):.1f} %")
    for band, (right, total) in result.bands.items():
        print(f"  band {band:8s}: {total:4d} messages, {right} right")
    print(f"off-topic answered with a guide: {result.off_topic_answered}")
    print("per intent (right/total):")
    for intent, (right, total) in result.per_intent.items():
        flag = "" if right == total else "  <"
        print(f"  {intent:42s} {right:3d}/{total:<3d}{flag}")
    print(f"misses ({len(result.misses)}):")
    for miss in result.misses[:misses]:
        print(f"  {miss.expected:34s} got {miss.got:34s} {miss.score:.2f}  {miss.text}")
    return 0


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the logs must never show."""
    values = (
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.zalo_bot_token,
        settings.zalo_webhook_secret,
        settings.file_link_secret,
    )
    return [v.get_secret_value() for v in values if v is not None]


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def channels_for(settings: Settings) -> list[Channel]:
    """Every channel whose token is set."""
    from bot.channels.telegram import TelegramChannel, TelegramOptions

    found: list[Channel] = []
    token = settings.telegram_token()
    if token:
        secret = settings.telegram_webhook_secret
        found.append(
            TelegramChannel(
                TelegramOptions(
                    token=token,
                    base_url=settings.telegram_api_base_url,
                    webhook_url=settings.telegram_webhook_url,
                    webhook_secret=secret.get_secret_value() if secret else None,
                )
            )
        )
    zalo = settings.zalo_token()
    if zalo:
        from bot.channels.zalo import ZaloChannel, ZaloOptions

        zalo_secret = settings.zalo_webhook_secret
        found.append(
            ZaloChannel(
                ZaloOptions(
                    token=zalo,
                    base_url=settings.zalo_api_base_url,
                    webhook_url=settings.zalo_webhook_url,
                    webhook_secret=zalo_secret.get_secret_value() if zalo_secret else None,
                )
            )
        )
    return found


def settings_problem(settings: Settings) -> str | None:
    """What stops `dvcbot run` before it starts, in both languages; None when it can start."""
    if not settings.telegram_token() and not settings.zalo_token():
        return (
            "Cần TELEGRAM_BOT_TOKEN hoặc ZALO_BOT_TOKEN (xem .env.example), hoặc chạy thử `dvcbot demo`. "
            "/ Set TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN (see .env.example), or try `dvcbot demo`."
        )
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        return (
            "Dùng TELEGRAM_WEBHOOK_URL thì cần cả TELEGRAM_WEBHOOK_SECRET. "
            "/ TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL."
        )
    zalo_secret = settings.zalo_webhook_secret
    if settings.zalo_webhook_url and not (zalo_secret and 8 <= len(zalo_secret.get_secret_value()) <= 256):
        return (
            "Dùng ZALO_WEBHOOK_URL thì cần ZALO_WEBHOOK_SECRET dài 8-256 ký tự. "
            "/ ZALO_WEBHOOK_SECRET (8-256 characters) is required with ZALO_WEBHOOK_URL."
        )
    if settings.zalo_token() and not settings.public_base_url:
        log.warning("PUBLIC_BASE_URL is not set: Zalo users get no charts, QR codes or report files")
    return None


async def run(settings: Settings) -> int:
    """The service: every channel whose token is set, the senders, the worker and the scheduler."""
    from bot.runtime import build_service

    problem = settings_problem(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    stop = stop_on_signals()
    try:
        service = await build_service(settings, channels_for)
    except (ContentError, DatabaseUrlError) as exc:
        print(f"dvcbot: {exc}", file=sys.stderr)
        return 2
    try:
        await service.start()
        failure = await service.wait(stop)
    finally:
        await service.stop()
    if failure:
        print(f"dvcbot: {failure}", file=sys.stderr)
        return 1
    return 0


async def _open_for(settings: Settings, code: str) -> tuple[Database, str] | None:
    """The database, with the commune's villages synced if it has a settings file, and the commune's name."""
    from bot.app import sync_villages

    commune = None
    if code.isdigit():  # a code names a file under content/communes/: digits only, no paths
        with contextlib.suppress(ContentError):
            commune = load_commune(settings.content_dir, code)
    name = commune.name if commune is not None else official_name(code)
    if name is None:
        print(f"Không có mã xã {code!r} (xem danh sách của vietnam-provinces).", file=sys.stderr)
        return None
    db = await Database.open(settings.database_url)
    if commune is not None:
        await sync_villages(db, commune)
    return db, name


async def invite_command(settings: Settings, role: str, code: str, name: str) -> int:
    """Print a one-time code; `/join CODE` in the bot uses it."""
    opened = await _open_for(settings, code)
    if opened is None:
        return 2
    db = opened[0]
    now = datetime.now(UTC)
    try:
        async with db.transaction() as conn:
            invite, secret = await invites.create(
                conn, commune=code, role=role, label=name[:60], village_ids=[], created_by=None, now=now
            )
            await audit.record(
                conn,
                commune=code,
                actor="cli",
                action="create",
                object=f"invite:{invite.id}",
                now=now,
                role=role,
            )
    finally:
        await db.close()
    print(secret)
    print(
        f"Mã mời dùng 1 lần ({'cán bộ xã' if role == 'officer' else 'quản trị'}, xã {code}), hết hạn "
        f"{invite.expires_at:%d/%m/%Y %H:%M} UTC. Trong bot gõ: /join {secret}",
        file=sys.stderr,
    )
    return 0


async def import_command(settings: Settings, path: Path, code: str, create_villages: bool) -> int:
    from bot.roster import parse_roster
    from bot.services.households import import_roster

    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    # Parse before taking the database: a running bot must not wait on a big file's parsing.
    parsed = await asyncio.to_thread(parse_roster, data, path.name)
    opened = await _open_for(settings, code)
    if opened is None:
        return 2
    db = opened[0]
    try:
        async with db.transaction() as conn:
            result = await import_roster(
                conn,
                parsed=parsed,
                commune=code,
                data=data,
                filename=path.name,
                actor="cli",
                now=datetime.now(UTC),
                create_villages=create_villages,
            )
    finally:
        await db.close()
    for warning in result.warnings:
        print(f"lưu ý: {warning}", file=sys.stderr)
    if result.faults:
        for fault in result.faults:
            print(fault)
        print(f"{len(result.faults)} lỗi; chưa nhập gì.", file=sys.stderr)
        return 1
    if result.unknown_villages:
        print("Thôn chưa có trong danh sách của xã: " + ", ".join(result.unknown_villages), file=sys.stderr)
        print(
            "Chưa nhập gì. Sửa tệp, hoặc chạy lại với --create-villages để thêm các thôn này.",
            file=sys.stderr,
        )
        return 1
    created = f", thêm thôn: {', '.join(result.villages_created)}" if result.villages_created else ""
    print(f"đã nhập {result.added} hộ mới, cập nhật {result.updated} hộ{created}")
    return 0


async def export_command(settings: Settings, code: str, path: Path) -> int:
    from bot.services.households import export_roster

    opened = await _open_for(settings, code)
    if opened is None:
        return 2
    db, name = opened
    try:
        data, count = await db.read(
            lambda conn: export_roster(conn, commune=code, commune_name=name, timezone=settings.timezone)
        )
        async with db.transaction() as conn:
            await audit.record(
                conn, commune=code, actor="cli", action="export", object="households", now=datetime.now(UTC), rows=count
            )
    finally:
        await db.close()
    await asyncio.to_thread(path.write_bytes, data)
    print(f"đã xuất {count} hộ vào {path}")
    return 0


async def digest_preview(settings: Settings, code: str, week: str | None, month: str | None, png: Path | None) -> int:
    """The digest officers would get for a period, printed, with its chart written next to it."""
    from zoneinfo import ZoneInfo

    from bot.services import figures
    from bot.services.digest import prepare, render_text

    tz = settings.timezone
    try:
        if week:
            period = figures.week(week, tz)
        elif month:
            period = figures.month(month, tz)
        else:
            period = figures.last_ended("week", datetime.now(UTC), tz)
    except ValueError as exc:
        print(f"{exc} (ví dụ: --week 2026-W47 hoặc --month 2026-11)", file=sys.stderr)
        return 2
    try:
        content = load_content(settings.content_dir, code)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 2
    opened = await _open_for(settings, code)
    if opened is None:
        return 2
    db, _ = opened
    target = content.commune.targets.get("target_date")
    try:
        made = await db.read(
            lambda conn: prepare(conn, commune=code, period=period, target_date=str(target) if target else None)
        )
    finally:
        await db.close()
    if period.end > datetime.now(UTC):
        ends = period.end.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")
        print(f"Lưu ý: kỳ {period.label} chưa kết thúc ({ends}); số liệu tính đến hiện tại.", file=sys.stderr)
    print(render_text(made.figures, content, tz, settings.content_dir))
    path = png or Path(f"digest-{period.label}.png")
    await asyncio.to_thread(path.write_bytes, made.chart)
    print(f"\n📊 Biểu đồ: {path}")
    return 0
