"""The explorer read by a clinician (issue 23), in a real browser: each outcome's
difference from the baseline with its interval, units on the trajectory axes, and infant
states drawn only from birth."""

from __future__ import annotations

from dyadsim.model.graph import NODE_BY_ID

from .test_explorer import _open, _switch_more_on

DIFF = "difference from baseline (95% CI)"


def _differences(page) -> dict[str, str]:
    headers = [h.strip() for h in page.locator(
        "[data-testid=stTable] thead th").all_inner_texts()]
    assert headers[-1] == DIFF, headers
    rows = page.locator("[data-testid=stTable] tbody tr")
    out = {}
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("th, td").all_inner_texts()]
        out[cells[0]] = cells[-1]
    return out


def test_the_difference_column_is_zero_until_something_changes(watched, explorer_url):
    page = _open(watched, explorer_url)
    before = _differences(page)
    assert before["Opioid use: share of days"] == "+0 pp (+0 to +0)"
    assert all(v in ("-", "+0 pp (+0 to +0)", "+0 (+0 to +0)") for v in before.values())
    _switch_more_on(page)
    after = _differences(page)
    changed = [k for k, v in after.items() if v != before[k]]
    assert len(changed) >= 3, after
    assert all(" to " in after[k] for k in changed)
    assert watched.errors == []


def _trajectories(page) -> dict:
    return page.locator(".js-plotly-plot").nth(1).evaluate(
        "el => ({data: el._fullData.map(t => ({x: Array.from(t.x), xaxis: t.xaxis, "
        "fill: t.fill})), layout: el.layout})")


def _panel(fig: dict, node: str) -> str:
    """The axis suffix ('', '2', ...) of the panel titled with the node's label."""
    titles = [a.get("text") for a in fig["layout"].get("annotations", [])]
    i = titles.index(NODE_BY_ID[node].label)
    return "" if i == 0 else str(i + 1)


def test_axes_carry_units_and_the_infant_starts_at_birth(watched, explorer_url):
    page = _open(watched, explorer_url)
    fig = _trajectories(page)
    for node in ("craving", "attachment"):
        k = _panel(fig, node)
        assert fig["layout"][f"yaxis{k}"]["title"]["text"] == NODE_BY_ID[node].unit

    def earliest(node: str) -> float:
        k = _panel(fig, node)
        lines = [t for t in fig["data"] if t["xaxis"] == f"x{k}" and t["fill"] != "toself"]
        return min(min(t["x"]) for t in lines)

    assert earliest("craving") < -15  # the mother is simulated from gestational week 20
    assert earliest("attachment") > -8  # the infant only from (each dyad's) birth
    assert watched.errors == []


def _graph(page) -> dict:
    return page.locator(".js-plotly-plot").first.evaluate(
        "el => ({data: el._fullData.map(t => ({x: Array.from(t.x), name: t.name, "
        "opacity: t.opacity})), annotations: (el.layout.annotations || []).map(a => a.text)})")


def test_the_graph_opens_at_the_papers_domains(watched, explorer_url):
    from dyadsim.app.domains import domains
    from dyadsim.model.graph import NODES
    from dyadsim.reports.diagram import build_diagram

    page = _open(watched, explorer_url)
    texts = [t for t in _graph(page)["annotations"] if t]
    titles = [m.title for m in domains(build_diagram({}, {}))]
    assert sum(t.startswith("<b>") for t in texts) == len(titles)
    assert all(any(title.replace("&", "&amp;") in t or title in t for t in texts)
               for title in titles)
    assert not {n.label for n in NODES} & set(texts)  # no node box at first sight
    assert watched.errors == []


def test_clicking_a_node_shows_only_its_own_edges(watched, explorer_url):
    from dyadsim.app.domains import node_edges
    from dyadsim.reports.diagram import build_diagram
    from dyadsim.reports.layout import layout

    from .test_explorer import _click_at, _every_node

    page = _open(watched, explorer_url)
    _every_node(page)
    craving = layout().nodes["craving"]
    _click_at(page, craving.x, craving.y)
    page.get_by_text("Craving (craving)").first.wait_for()
    traces = _graph(page)["data"]
    strong = sum(t["x"].count(None) for t in traces if t["name"] == "edge")
    assert strong == len(node_edges(build_diagram({}, {}), "craving"))
    assert any(t["name"] == "other edge" and t["opacity"] < 0.1 for t in traces)
    assert watched.errors == []
