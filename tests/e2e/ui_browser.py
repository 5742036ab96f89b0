"""Headless Chromium, driven by Playwright, on the Dagster UI and the pages `aquamind ui` serves.

The browser is the system's Chromium (Debian: `apt-get install chromium`; .ci/run installs it), never
one that `playwright install` downloads. Every step runs under `session.step(name)`: when it fails,
each open page is saved as a PNG in the session's screenshot directory and the exception says where.

    with UISession.launch(exe, "http://127.0.0.1:3000", tmp_path / "screens") as ui:
        with ui.step("materialize 2016"):
            short_id = ui.materialize_partition("group:environment", ["environmental_readings"], "2016")
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Response, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000  # the UI answers slowly while runs take the machine's cores
LOCAL_RESOURCE = "Not allowed to load local resource"
SELECTION_INPUT = "Search and filter assets"  # aria-label of the catalog's selection box (a CodeMirror)


@dataclass
class UISession:
    playwright: Playwright
    browser: Browser
    context: BrowserContext
    page: Page
    base_url: str          # the Dagster UI
    shots: Path            # screenshots of failed steps
    console: list[str] = field(default_factory=list)            # "url: text" of every console message
    responses: dict[str, int] = field(default_factory=dict)     # url -> HTTP status, every page

    @classmethod
    @contextlib.contextmanager
    def launch(cls, executable: str, base_url: str, shots: Path) -> Iterator[UISession]:
        shots.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.set_default_timeout(TIMEOUT_MS)
                session = cls(playwright=pw, browser=browser, context=context, page=context.new_page(),
                              base_url=base_url.rstrip("/"), shots=shots)
                context.on("console", session._on_console)
                context.on("response", session._on_response)
                # Dagster's "Join the Dagster community" dialog opens once per browser profile, over
                # whatever page comes first: dismiss it whenever it is in the way.
                session.page.add_locator_handler(session.page.get_by_text("Join the Dagster community"),
                                                 lambda _: session.page.get_by_role("button", name="Skip").click())
                yield session
            finally:
                browser.close()

    def _on_console(self, msg: ConsoleMessage) -> None:
        self.console.append(f"{msg.location.get('url', '')}: {msg.text}")

    def _on_response(self, response: Response) -> None:
        self.responses[response.url] = response.status

    # ---------------------------------------------------------------------------- failures
    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run a step; on failure, screenshot every open page and name the files in the error."""
        try:
            yield
        except BaseException as exc:
            saved = []
            for i, page in enumerate(self.context.pages):
                path = self.shots / f"{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')}-{i}.png"
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(path), full_page=True, timeout=15_000)
                    path.with_suffix(".txt").write_text(f"{page.url}\n\n{page.inner_text('body', timeout=5_000)}")
                    saved.append(str(path))
            exc.add_note(f"browser step {name!r} failed; screenshots: {saved or 'none could be taken'}")
            raise

    # ---------------------------------------------------------------------------- the Dagster UI
    def goto(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def materialize_partition(self, selection: str, assets: list[str], partition: str) -> str:
        """From *Catalog*: filter with `selection`, tick each of `assets` (the list must hold exactly
        those), *Materialize selected*, a custom partition selection of `partition`, launch. Returns the
        short run id of the "Launched run" toast (one partition launches one run, several a backfill)."""
        page = self.goto("/assets")
        page.get_by_label(SELECTION_INPUT).focus()  # CodeMirror's hidden textarea takes the keys
        page.keyboard.type(selection)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"asset-selection="))
        # each listed asset's box carries data-testid="checkbox-<key>"; the inputs are hidden under
        # their styled labels, which take the clicks
        listed = """() => [...document.querySelectorAll("input[type=checkbox][data-testid^='checkbox-']")]
                            .map(b => b.dataset.testid.slice('checkbox-'.length)).sort()"""
        try:  # until the list is filtered
            page.wait_for_function(f"want => JSON.stringify(({listed})()) === JSON.stringify(want)", arg=sorted(assets))
        except PlaywrightTimeoutError:
            raise AssertionError(f"{selection!r} lists {page.evaluate(listed)}, expected {sorted(assets)}") from None
        for key in assets:
            box = page.get_by_test_id(f"checkbox-{key}")
            box.locator("xpath=..").click()
            assert box.is_checked(), f"{key} not selected"
        page.get_by_role("button", name=f"Materialize selected ({len(assets)})").click()

        dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
        dialog.get_by_text(f"Launch runs to materialize {len(assets)} assets").wait_for()
        dialog.get_by_role("button", name="Custom", exact=True).click()
        box = dialog.get_by_placeholder(re.compile(r"^ex: "))  # "ex: 2015, 2016, [2017...2024]"
        box.fill(partition)
        box.press("Enter")
        dialog.get_by_text("1 partition", exact=True).wait_for()
        dialog.get_by_role("button", name="Launch 1 run").click()
        toast = page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}"))
        toast.wait_for()
        return re.search(r"Launched run ([0-9a-f]{8})", toast.inner_text()).group(1)

    def partition_shows(self, asset_path: list[str], partition: str, text: str, timeout_ms: int = 10_000) -> bool:
        """Whether the asset's *Partitions* tab, with `partition` open, shows `text` (e.g. "Unsynced")."""
        page = self.goto(f"/assets/{'/'.join(asset_path)}?view=partitions&partition={partition}")
        try:
            page.get_by_text(re.compile(rf"^{re.escape(text)}\b")).first.wait_for(timeout=timeout_ms)
            return True
        except PlaywrightTimeoutError:
            return False

    def follow_metadata_link(self, asset_path: list[str], href: str) -> Page:
        """Open the asset's page, click its metadata link to `href` (it opens a new tab); that tab, loaded."""
        page = self.goto(f"/assets/{'/'.join(asset_path)}")
        link = page.locator(f"a[title='Open in a new tab'][href='{href}']")
        link.wait_for()
        with self.context.expect_page() as opened:
            link.click()
        tab = opened.value
        tab.wait_for_load_state("load")
        return tab


# -------------------------------------------------------------------------------- the report
@dataclass
class ChartReading:
    name: str
    y_ticks: list[str]   # the value axis' labels, bottom to top
    x_ticks: list[str]   # the category or x axis' labels, left to right
    tips: list[str]      # every point's or bar's hover text (<title>)


def read_charts(page: Page) -> list[ChartReading]:
    """Each chart of the report as the browser renders it (svg.py: value ticks right-aligned left of the
    axis, x ticks centred at 11 px, one <title> per point or bar)."""
    out = []
    sections = page.locator("section[id^='chart-']")
    for i in range(sections.count()):
        sec = sections.nth(i)
        svg = sec.locator("svg")
        y_ticks, x_ticks = ":scope > text[text-anchor='end']", ":scope > text[text-anchor='middle'][font-size='11']"
        out.append(ChartReading(name=sec.get_attribute("id").removeprefix("chart-"),
                                y_ticks=svg.locator(y_ticks).all_text_contents(),
                                x_ticks=svg.locator(x_ticks).all_text_contents(),
                                tips=svg.locator("title").all_text_contents()))
    return out


def hover_value(page: Page, mark_selector: str) -> str | None:
    """Hover the first mark (point or bar) matching the selector; the hover text of what is under the
    mouse (the element the browser hit-tests there and its <title>, which Chromium shows as tooltip)."""
    mark = page.locator(mark_selector).first
    mark.scroll_into_view_if_needed()
    mark.hover()
    box = mark.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    return page.evaluate("""([x, y]) => {
        const hit = document.elementFromPoint(x, y);
        const mark = hit && hit.closest('circle, rect');
        const title = mark && mark.querySelector(':scope > title');
        return title ? title.textContent : null;
    }""", [x, y])
