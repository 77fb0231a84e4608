"""End to end in a real headless browser: a counselor logs in, sees a new
escalation appear live, claims it and chats with a survivor in the web chat."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.web.app import create_app
from tests.conftest import REQUIRE_SERVICES, make_settings
from tests.escalation.staff import PASSWORD, add_staff

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _need_chromium() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"Chromium not found at {CHROMIUM} (HARBORLINE_REQUIRE_SERVICES=1)")
    pytest.skip(f"Chromium not found at {CHROMIUM}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    _need_chromium()
    settings = make_settings(tmp_path, PAGING_ENABLED=True)
    import asyncio

    async def prepare() -> None:
        await upgrade(settings.effective_database_url)
        db = Database(settings.effective_database_url)
        counselor = await add_staff(db, "maria")
        async with db.sessions() as session, session.begin():
            from escalation.models import Counselor

            row = await session.get(Counselor, counselor.id)
            assert row is not None
            row.on_call = True
        await db.close()

    asyncio.run(prepare())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not uvicorn_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


def test_counselor_claims_and_chats_with_a_survivor(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            counselor = browser.new_context().new_page()
            counselor.goto(f"{server}/console")  # Redirected to the log-in form.
            counselor.fill("input[name=name]", "maria")
            counselor.fill("input[name=password]", PASSWORD)
            counselor.click("button[type=submit]")
            expect(counselor.locator("#live")).to_have_text("live", timeout=10_000)

            survivor = browser.new_context().new_page()
            survivor.goto(server)
            expect(survivor.locator("#log")).to_contain_text("automated assistant")
            survivor.fill("#text", "I have the pills in my hand")
            survivor.click("form#composer button[type=submit]")
            expect(survivor.locator("#log")).to_contain_text("911")

            # Appears live, without a reload, with the page alert.
            expect(counselor.locator("#queue")).to_contain_text("imminent", timeout=10_000)
            expect(counselor.locator("#alert")).to_contain_text("paged", timeout=10_000)
            counselor.get_by_role("button", name="Claim").first.click()
            expect(counselor.locator("#detail-meta")).to_contain_text("pills in my hand")

            expect(survivor.locator("#log")).to_contain_text(
                "A counselor is here now", timeout=10_000
            )
            survivor.fill("#text", "thank you for coming")
            survivor.click("form#composer button[type=submit]")
            expect(counselor.locator("#transcript")).to_contain_text(
                "thank you for coming", timeout=10_000
            )
            counselor.fill("#reply-text", "I'm here with you. Are you somewhere safe?")
            counselor.click("form#reply button[type=submit]")
            expect(survivor.locator("#log")).to_contain_text(
                "Are you somewhere safe?", timeout=10_000
            )
        finally:
            browser.close()
