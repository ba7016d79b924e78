"""Headless Chromium for the pages' browser tests (this module holds no tests).

Debian's Chromium (``apt-get install -y chromium``, which ``infra/local/tools.sh test``
installs) driven by Playwright's Python package; Playwright's own browser download is
never used.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def require_chromium() -> str:
    """Debian's Chromium, or the test fails saying how to install it."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    return CHROMIUM


@asynccontextmanager
async def opened(url: str, *, height: int, width: int = 1440) -> AsyncIterator[Any]:
    """A headless Chromium page on ``url`` (closed afterwards)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                           headless=True, timeout=30_000)
        try:
            page = await browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(15_000)
            await page.goto(url)
            yield page
        finally:
            await browser.close()
