"""The demo table (``dyadsim demo``): the main outcomes of two populations side by side.

:func:`outcome_rows` turns one :func:`dyadsim.reports.summary.summarize` dict into
``(label, value)`` rows, :func:`demo_rows` pairs two of them, :func:`demo_table` renders the
rows as a rich table. Shares are shown in per cent with their 95% CI where the summary gives
one (normal approximation; the display clips a share's CI to 0-100%); a value the summary
lacks (for example NOWS for a population without a pregnancy) is shown as ``n/a``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

NA = "n/a"
ATTACHMENT = ("secure", "avoidant", "resistant", "disorganized")
DOMAINS = ("physical", "psychological", "cognitive", "social", "economic")

# The two populations of the demo: (preset name, column heading).
DEMO_POPULATIONS: tuple[tuple[str, str], ...] = (
    ("pregnant_oud_moud", "Pregnant, OUD on MOUD"),
    ("low_risk_mothers", "Low-risk mothers"),
)


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x)


def fmt_pct(x: float) -> str:
    """A share as per cent: one decimal, or two significant digits below 1%."""
    v = 100.0 * x
    if v == 0 or abs(v) >= 1:
        return f"{v:.1f}%"
    return f"{v:.2g}%"


def _stat(summary: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    s = summary.get(key)
    return s if isinstance(s, Mapping) else None


def share_with_ci(stat: Mapping[str, Any] | None) -> str:
    """``{"mean", "ci95"}`` of a share as ``"7.3% (7.0-7.5)"``."""
    mean = _num(stat.get("mean")) if stat else None
    if mean is None:
        return NA
    text = fmt_pct(mean)
    ci = stat.get("ci95") if stat else None
    if isinstance(ci, Sequence) and len(ci) == 2 and all(_num(c) is not None for c in ci):
        lo, hi = (min(max(float(c), 0.0), 1.0) for c in ci)
        text += f" ({fmt_pct(lo).rstrip('%')}–{fmt_pct(hi)})"
    return text


def mean_with_ci(stat: Mapping[str, Any] | None, digits: int = 3) -> str:
    """``{"mean", "ci95"}`` of a score as ``"0.704 (0.702-0.706)"``."""
    mean = _num(stat.get("mean")) if stat else None
    if mean is None:
        return NA
    text = f"{mean:.{digits}f}"
    ci = stat.get("ci95") if stat else None
    if isinstance(ci, Sequence) and len(ci) == 2 and all(_num(c) is not None for c in ci):
        text += f" ({float(ci[0]):.{digits}f}–{float(ci[1]):.{digits}f})"
    return text


def _share(stat_key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda s: share_with_ci(_stat(s, stat_key))


def _attachment(cls: str) -> Callable[[Mapping[str, Any]], str]:
    def get(s: Mapping[str, Any]) -> str:
        dist = _stat(s, "attachment")
        v = _num(dist.get(cls)) if dist else None
        return NA if v is None else fmt_pct(v)
    return get


def _wellbeing(domain: str, months: int = 24) -> Callable[[Mapping[str, Any]], str]:
    def get(s: Mapping[str, Any]) -> str:
        d = _stat(s, f"wellbeing_{months}m")
        v = _num(d.get(domain)) if d else None
        return NA if v is None else f"{v:.2f}"
    return get


# (label, formatter of one summary). A label "Group: item" groups rows in the rendering.
ROWS: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("Opioid use: share of days", _share("share_of_days_with_opioid_use")),
    ("Opioid use: any", _share("any_opioid_use")),
    ("Overdose: any", _share("any_overdose")),
    ("Overdose: fatal", _share("fatal_overdose")),
    ("NOWS (neonatal opioid withdrawal)", _share("nows")),
    ("On MOUD at 12 months postpartum", _share("on_moud_12m_postpartum")),
    ("CPS report", _share("cps_report")),
    ("Parenting quality (mean, 0-1)", lambda s: mean_with_ci(_stat(s, "parenting_mean"))),
    *((f"Attachment: {c}", _attachment(c)) for c in ATTACHMENT),
    *((f"Well-being at 24 months: {d} (0-1)", _wellbeing(d)) for d in DOMAINS),
)

# The rows ``dyadsim simulate`` prints after a run.
BRIEF = ("Opioid use: share of days", "Overdose: any", "Overdose: fatal",
         "NOWS (neonatal opioid withdrawal)", "On MOUD at 12 months postpartum", "CPS report",
         "Parenting quality (mean, 0-1)", "Attachment: secure")


def outcome_rows(summary: Mapping[str, Any], brief: bool = False) -> list[tuple[str, str]]:
    """``(label, formatted value)`` for every demo row (``brief``: the short list)."""
    return [(label, fmt(summary)) for label, fmt in ROWS if not brief or label in BRIEF]


def demo_rows(summary_a: Mapping[str, Any],
              summary_b: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(label, value in a, value in b)`` for every demo row."""
    return [(label, fmt(summary_a), fmt(summary_b)) for label, fmt in ROWS]


def _group(label: str) -> str:
    return label.split(":", 1)[0] if ":" in label else label


def demo_table(rows: Sequence[Sequence[str]], headings: Sequence[str], *,
               title: str | None = None, caption: str | None = None) -> Table:
    """Render rows of ``(label, value, ...)`` as a rich table; ``headings`` are the value
    columns' headings. Rows of the same "Group: item" group are kept together."""
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    table.add_column("Outcome", style="bold", no_wrap=False)
    for h in headings:
        table.add_column(h, justify="right")
    prev: tuple[str, bool] | None = None
    for row in rows:
        grouped = ":" in row[0]
        here = (_group(row[0]), grouped)
        if prev is not None and here != prev and (grouped or prev[1]):
            table.add_section()
        table.add_row(*(Text(str(cell)) for cell in row))
        prev = here
    return table
