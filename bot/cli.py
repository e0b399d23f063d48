"""The `dvcbot` command (DESIGN.md §4): run, demo, guides search, guides check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings
from bot.content import ContentError, check_content, load_content
from bot.search import SearchIndex

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # httpx logs every request URL at INFO, and a Bot API URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "guides":
        if args.guides_command == "check":
            return guides_check(settings.content_dir)
        return guides_search(settings, args.query, as_json=args.json, limit=args.limit)
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
    logging.getLogger("bot.content").setLevel(logging.CRITICAL)  # faults are `guides check`'s job
    try:
        content = load_content(settings.content_dir, settings.commune)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 2
    hits = SearchIndex(content).search(query, limit=limit)
    if as_json:
        print(json.dumps([{"id": h.id, "score": h.score} for h in hits], ensure_ascii=False))
    else:
        for hit in hits:
            print(f"{hit.score:.3f}  {hit.id}")
    return 0


async def wait_for_stop() -> None:
    """Until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run(settings: Settings) -> int:
    """The service: every channel whose token is set, plus the scheduler."""
    from bot.app import build_core
    from bot.channels.telegram import TelegramChannel, TelegramOptions
    from scheduler.app import build_scheduler

    token = settings.telegram_token()
    if not token:
        print("Set TELEGRAM_BOT_TOKEN (see .env.example), or try `dvcbot demo`.", file=sys.stderr)
        return 2
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        print("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL.", file=sys.stderr)
        return 2
    core = await build_core(settings)
    secret = settings.telegram_webhook_secret
    channel = TelegramChannel(
        core.engine,
        TelegramOptions(
            token=token,
            base_url=settings.telegram_api_base_url,
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=secret.get_secret_value() if secret else None,
            webhook_listen=settings.telegram_webhook_listen,
            webhook_port=settings.telegram_webhook_port,
        ),
    )
    scheduler = build_scheduler(core.db, settings.timezone, core.services.clock)
    await channel.start()
    scheduler.start()
    log.info("serving commune %s on telegram", settings.commune)
    try:
        await wait_for_stop()
    finally:
        scheduler.shutdown(wait=False)
        await channel.stop()
        await core.close()
    return 0
