"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright for Python, on the web
apps as `make run` serves them, each from its own origin, against the same seeded local stack as the e2e
tests (its fixtures are imported from tests/e2e/conftest.py).

On a failure the page's screenshot is saved in the test's tmp_path and its path printed.
Playwright's expect() waits (EXPECT_TIMEOUT_MS) instead of sleeping: the machine may be busy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.e2e.conftest import Api, StackProcess, api, info, stack  # noqa: F401 (fixtures used here)

CHROMIUM = os.environ.get("MALL_CHROMIUM", "/usr/bin/chromium")
EXPECT_TIMEOUT_MS = 20_000
# Korenmarkt, Ghent: where the demo shops are (tools/demo_data.py).
GHENT = {"latitude": 51.0543, "longitude": 3.7219}

expect.set_options(timeout=EXPECT_TIMEOUT_MS)
PROBLEMS: dict[int, list[str]] = {}


def _console(problems: list[str], message: ConsoleMessage) -> None:
    # Chromium logs every non-2xx fetch as "Failed to load resource": an error the page shows in words
    # (a declined card, short stock) is expected, so only the page's own errors count.
    if message.type == "error" and "Failed to load resource" not in message.text:
        problems.append(f"console error: {message.text}")


def script_errors(page: Page) -> list[str]:
    """Uncaught exceptions and console errors the page's own scripts produced so far."""
    return PROBLEMS.get(id(page), [])


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (make test does, as root)")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test (no cart or order left from another), English, located in Ghent."""
    created = browser.new_context(
        locale="en-GB",
        geolocation=GHENT,
        permissions=["geolocation"],
        viewport={"width": 1000, "height": 900},
    )
    created.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A page that records uncaught exceptions and console errors (see script_errors); screenshot kept on
    failure."""
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    opened.on("console", lambda message: _console(problems, message))
    PROBLEMS[id(opened)] = problems
    yield opened
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        try:
            opened.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failed page: {shot}")
        except Exception as error:  # the page may be gone; the failure itself matters more
            print(f"\nno screenshot: {error}")
    PROBLEMS.pop(id(opened), None)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def storefront_url(info: dict[str, Any]) -> str:  # noqa: F811 (the imported fixture)
    return str(info["storefront_url"])


@pytest.fixture(scope="session")
def back_office_url(info: dict[str, Any]) -> str:  # noqa: F811
    return str(info["back_office_url"])
