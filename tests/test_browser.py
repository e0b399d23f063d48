"""The demo page in a real browser (headless Chromium from Debian's packages, driven by Playwright's Python
package with `executable_path`): switch to the officer and back, walk a guide, see each conversation kept.

Skipped, saying why, where Chromium or Playwright is missing; `.ci/run` installs Chromium.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.sandbox.demo import start_demo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
async_api = pytest.importorskip("playwright.async_api", reason="Playwright's Python package is not installed")
if CHROMIUM is None:
    pytest.skip(
        "Chromium is not installed (Debian: apt-get install chromium); the browser test is skipped",
        allow_module_level=True,
    )

# Longer than the page's own 25 s long poll: on a busy CI machine an answer was seen to appear only on
# the page's next poll (a wake-up missed between the page and the emulator; noted, not yet found).
TIMEOUT_MS = 40_000


@pytest.fixture
async def demo(settings: Settings) -> AsyncIterator[str]:
    """`dvcbot demo` in-process: both emulators and the web chat, the real service, the seeded people."""
    running = await start_demo(settings, poll_timeout=1, scheduler=False)
    try:
        yield running.emulator.url
    finally:
        await running.stop()


async def test_switch_identity_and_walk_a_guide_in_the_browser(demo: str) -> None:
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(demo + "/")
            expect = async_api.expect
            expect.set_options(timeout=TIMEOUT_MS)
            # First the citizen: the bot greets them with the menu.
            await expect(page.locator("#who")).to_contain_text("Người dân")
            await expect(page.locator(".msg.bot").last).to_contain_text("Xin chào")
            # Switch to the officer: their own chat, their own menu.
            await page.get_by_role("button", name="🏛 Cán bộ xã").click()
            await expect(page.locator("#who")).to_contain_text("Cán bộ xã")
            await expect(page.get_by_role("button", name="🛠 Quản lý (cán bộ xã)").last).to_be_visible()
            # Back to the citizen: the conversation is still there; walk a guide.
            await page.get_by_role("button", name="👤 Người dân").click()
            await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")
            await page.locator("#text").fill("dang ky vneid muc 2")
            await page.locator("#composer button[type=submit]").click()
            step = page.locator(".msg.bot").filter(has_text="Bước 1/").last
            await expect(step).to_be_visible()
            await step.locator(".keys button").first.click()  # "Tiếp ▶", or the step's first choice
            await expect(page.locator(".msg.bot").filter(has_text="Bước 2/").last).to_be_visible()
            # The officer on Zalo: the same member, a numbered menu, answered by typing its number.
            await page.get_by_role("button", name="Zalo (trả lời bằng số)").click()
            await page.get_by_role("button", name="🏛 Cán bộ xã").click()
            await expect(page.locator("#who")).to_contain_text("trên Zalo")
            menu = page.locator(".msg.bot").filter(has_text="Trả lời bằng số").last
            await expect(menu).to_contain_text(". 🛠 Quản lý (cán bộ xã)")
            line = next(t for t in (await menu.inner_text()).splitlines() if t.endswith("🛠 Quản lý (cán bộ xã)"))
            await page.locator("#text").fill(line.split(".")[0])
            await page.locator("#composer button[type=submit]").click()
            await expect(page.locator(".msg.bot").filter(has_text="Tạo mã mời").last).to_be_visible()
        finally:
            await browser.close()
