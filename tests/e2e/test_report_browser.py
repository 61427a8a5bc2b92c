"""A report opened from file:// with the network off renders every figure."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    r = subprocess.run([sys.executable, "-m", "dyadsim.cli", "simulate", "--dyads", "60",
                        "--seed", "3", "--out", str(out), "--report", "--quiet",
                        "--do", "moud=1"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out / "report.html"


def test_report_renders_every_figure_offline(browser_context, report_file):
    blocked = []

    def block(route):
        if route.request.url.startswith("file://") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    browser_context.set_offline(True)
    page = browser_context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    page.route("**/*", block)
    try:
        page.goto(report_file.as_uri())
        figures = page.locator("figure")
        assert figures.count() >= 3  # graph, trajectories, outcomes
        assert all(figures.nth(i).locator("figcaption").inner_text().strip()
                   for i in range(figures.count()))
        images = page.locator("figure img")
        assert images.count() >= 2
        sizes = images.evaluate_all("els => els.map(e => [e.complete, e.naturalWidth])")
        assert all(done and width > 100 for done, width in sizes), sizes
        graph = page.locator("svg.dyadsim-graph")
        assert graph.count() == 1
        assert graph.bounding_box()["width"] > 600
        assert graph.locator("g.node").count() >= 50
        assert graph.locator("path.edge").count() >= 100
        assert blocked == [] and errors == []
    finally:
        page.close()
        browser_context.set_offline(False)
