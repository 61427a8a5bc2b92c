"""The explorer in a real browser: it loads cleanly and locally, MORE changes the outcomes,
a knock-out changes the diagram, and the downloaded TOML reproduces the numbers shown."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from dyadsim.reports.demo import outcome_rows

UPDATE_S = 240


def _open(watched, url):
    page = watched.page
    page.goto(url)
    page.locator("[data-testid=stTable]").wait_for(timeout=UPDATE_S * 1000)
    _settle(page)
    return page


def _settle(page, timeout_s: float = UPDATE_S) -> None:
    """Wait until the app has finished its rerun: no running status, no stale (faded)
    element, no progress bar, on several consecutive checks."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        busy = (page.locator("[data-testid=stStatusWidget]").count()
                + page.locator("[data-stale=true]").count()
                + page.locator("[data-testid=stProgress]").count())
        quiet = 0 if busy else quiet + 1
        if quiet >= 4:
            return
        time.sleep(0.25)
    raise TimeoutError("the explorer did not finish updating")


def _table(page) -> dict[str, tuple[str, str]]:
    """The outcome table: outcome -> (this scenario, baseline)."""
    rows = page.locator("[data-testid=stTable] tbody tr")
    out = {}
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("th, td").all_inner_texts()]
        out[cells[0]] = (cells[1], cells[2])
    return out


def _sidebar(page):
    return page.locator("[data-testid=stSidebar]")


def _every_node(page) -> None:
    """Switch the graph from the domains (how it opens) to every node."""
    page.get_by_text("every node", exact=True).click()
    _settle(page)


def _switch_more_on(page) -> None:
    _sidebar(page).get_by_text("MORE", exact=True).click()
    _settle(page)
    _sidebar(page).get_by_text("MORE starts").wait_for()


def test_page_loads_without_errors_or_outside_requests(watched, explorer_url):
    page = _open(watched, explorer_url)
    assert page.get_by_text("The model's graph").count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 2  # graph and trajectories
    assert len(_table(page)) >= 10
    assert watched.errors == []
    assert watched.external() == []
    assert any(u.startswith(explorer_url) for u in watched.requests)


def test_switching_more_on_changes_the_outcome_table(watched, explorer_url):
    page = _open(watched, explorer_url)
    before = _table(page)
    assert all(a == b for a, b in before.values())  # nothing switched: scenario = baseline
    _switch_more_on(page)
    after = _table(page)
    assert after.keys() == before.keys()
    assert [k for k in after if after[k][1] != before[k][1]] == []  # baseline unchanged
    changed = [k for k in after if after[k][0] != before[k][0]]
    assert len(changed) >= 3, changed
    assert watched.errors == []


def test_edge_knockout_changes_the_diagram(watched, explorer_url):
    page = _open(watched, explorer_url)
    _every_node(page)
    graph = page.locator(".js-plotly-plot").first
    assert graph.get_by_text("knocked out (weight 0)").count() == 0
    fills_before = graph.locator("path[style*='fill: rgb']").evaluate_all(
        "els => els.map(e => e.style.fill)")
    box = _sidebar(page).locator("[data-testid=stMultiSelect]").first
    box.click()
    page.keyboard.type("Craving → Opioid use")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _settle(page)
    graph = page.locator(".js-plotly-plot").first
    graph.get_by_text("knocked out (weight 0)").wait_for()
    fills_after = graph.locator("path[style*='fill: rgb']").evaluate_all(
        "els => els.map(e => e.style.fill)")
    assert fills_after != fills_before  # node colours now show the knock-out's effect
    assert watched.errors == []


def test_downloaded_toml_reproduces_the_numbers_shown(watched, explorer_url, tmp_path):
    page = _open(watched, explorer_url)
    _switch_more_on(page)
    shown = _table(page)
    with page.expect_download() as dl:
        page.get_by_text("Download scenario (TOML)").click()
    toml = tmp_path / "scenario.toml"
    dl.value.save_as(toml)
    assert "[[interventions]]" in toml.read_text()
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "dyadsim.cli", "simulate", str(toml), "--out",
                        str(out), "--quiet"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert {label: value for label, value in outcome_rows(summary)} == \
        {label: v[0] for label, v in shown.items()}


def test_invalid_setting_is_a_message_not_a_traceback(watched, explorer_url):
    page = _open(watched, explorer_url)
    _switch_more_on(page)
    week = _sidebar(page).get_by_label("gestational week")
    week.fill("10")
    week.press("Enter")
    _settle(page)
    alert = page.locator("[data-testid=stAlert]").filter(has_text="cannot run")
    alert.wait_for()
    assert "before the study start" in alert.inner_text()
    assert page.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in page.content()


def _click_at(page, x: float, y: float) -> None:
    """Click the graph at drawing coordinates (x, y) of the diagram layout."""
    from dyadsim.reports.layout import layout

    lay = layout()
    area = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
    area.scroll_into_view_if_needed()
    bb = area.bounding_box()
    page.mouse.click(bb["x"] + x / lay.width * bb["width"],
                     bb["y"] + y / lay.height * bb["height"])
    _settle(page)


def test_clicking_a_node_or_edge_explains_it(watched, explorer_url):
    from dyadsim.reports.diagram import build_diagram
    from dyadsim.reports.layout import layout

    page = _open(watched, explorer_url)
    _every_node(page)
    craving = layout().nodes["craving"]
    _click_at(page, craving.x, craving.y)
    page.get_by_text("Craving (craving)").first.wait_for()
    assert page.get_by_text("craving.tau").count() >= 1  # its parameters with bounds
    edge = next(e for e in build_diagram({}, {}).edges
                if e.weight_name == "craving->opioid_use")
    (x0, y0), (cx, cy), (x1, y1) = edge.points
    _click_at(page, 0.25 * x0 + 0.5 * cx + 0.25 * x1, 0.25 * y0 + 0.5 * cy + 0.25 * y1)
    page.get_by_text("Craving → Opioid use (+)").first.wait_for()
    from dyadsim.model.graph import EDGE_BY_WEIGHT

    citation = EDGE_BY_WEIGHT["craving->opioid_use"].citation
    assert page.get_by_text(citation[:12]).count() >= 1  # its citation from the graph data
    assert watched.errors == []


def test_the_report_downloads_from_the_page(watched, explorer_url, tmp_path):
    page = _open(watched, explorer_url)
    page.get_by_text("Build the report (HTML)").click()
    _settle(page)
    with page.expect_download() as dl:
        page.get_by_text("Download the report").click()
    path = tmp_path / "report.html"
    dl.value.save_as(path)
    html = path.read_text()
    assert '<svg class="dyadsim-graph"' in html and "this run vs baseline" in html
    assert "http" not in html and "<script" not in html
