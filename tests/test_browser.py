"""The query page in a real browser: Debian's chromium driven by Playwright.

Playwright's own browser download is unreachable here, so the test uses
``/usr/bin/chromium`` from the Debian package (``.ci/run`` installs it). If
it is missing the test fails with the install line, it is never skipped.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivig_kg import queries
from ivig_kg.store import GraphStore
from ivig_kg.web import make_server
from ivig_kg.web.server import ServeOptions

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
README_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "query-page.png"
"""Refreshed only with IVIG_KG_UPDATE_SCREENSHOTS=1, so a test run leaves the checkout clean."""


@pytest.fixture(scope="module")
def base(built_store: GraphStore) -> Iterator[str]:
    server = make_server(built_store, ServeOptions(port=0, timeout=20))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.site.base
    server.shutdown()
    server.server_close()


def test_query_page_in_chromium(base: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: install it with 'apt-get install -y chromium' "
                    "(as root; .ci/run does this)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 960})
            outside: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(base)
            expect(page.locator("h1")).to_have_text("Query the graph")
            page.select_option("#canned", "effect-estimates")
            canned = queries.get("effect-estimates")
            expect(page.locator("#question")).to_have_text(canned.question)
            assert page.input_value("#query") == canned.text
            page.fill("#param-study", "ivigr:ivig-ms-commentary/achiron-2004")
            page.click("#run")
            table = page.locator("#results table.results")
            expect(table).to_be_visible(timeout=20_000)
            expect(page.locator("#status")).to_contain_text("row(s)")
            headers = table.locator("th").all_inner_texts()
            assert "estimate" in headers and "study" in headers
            body = table.locator("tbody").inner_text()
            assert "Achiron" in body and "Hommes" not in body  # the bound parameter restricted the study
            expect(page.locator("#downloads a", has_text="CSV")).to_have_attribute("href", re.compile("format=csv"))
            shot = README_SCREENSHOT if os.environ.get("IVIG_KG_UPDATE_SCREENSHOTS") == "1" \
                else tmp_path / "query-page.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.read_bytes().startswith(b"\x89PNG")

            # an ad-hoc query typed into the editor
            page.select_option("#canned", "")
            page.fill("#query", "SELECT ?study WHERE { ?study a ivig:RandomizedControlledTrial } ORDER BY ?study")
            page.click("#run")
            expect(page.locator("#status")).to_contain_text("3 row(s)")

            # follow a result link to the entity page and see the highlighted quote
            page.click("#results a:has-text('achiron-2004')")
            expect(page.locator("h1")).to_contain_text("Achiron et al. 2004")
            mark = page.locator("blockquote.source mark").first
            expect(mark).to_be_visible()
            assert "randomized, placebo-controlled, double-blind" in mark.inner_text()
            assert page.url == base + "resource/ivig-ms-commentary/achiron-2004"
            assert errors == []
            assert outside == []  # no CDN, nothing fetched from elsewhere
        finally:
            browser.close()
