"""The briefing's picture, as hand-written SVG: no plotting dependency, no external resource, inline in HTML.

One row per theme: its size this week as a bar, and its trend as a sparkline of the share of each week's
papers that lay near the theme (previous weeks in memory, then this week), with the direction named.
Shares, not counts, because weekly volumes differ. Every piece of text is escaped.
"""

from __future__ import annotations

import html

from brief.models import ThemeBrief
from brief.text import counted

PALETTE = ["#2f6db5", "#d9822b", "#3a9a5b", "#b8433d", "#7d5ba6", "#8c6d3f", "#c9559c", "#5f7380",
           "#a3a32b", "#2aa3b8"]
_ROW, _TOP, _WIDTH = 38, 58, 820
_LABEL_W, _BAR_X, _BAR_W = 292, 304, 190
_SPARK_X, _SPARK_W = 556, 150
_ARROWS = {"growing": "▲ growing", "shrinking": "▼ shrinking", "steady": "— steady", "new": "● new", "no history": ""}


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _t(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _spark(theme: ThemeBrief, y: float) -> str:
    """Shares per week as a line; weeks memory holds nothing from are ticks without a point (no data ≠ zero)."""
    trend = theme.trend
    if trend is None or trend.direction == "no history":  # None: not measured (a theme of one or two papers)
        why = "no trend measured" if trend is None else "no earlier weeks in memory"
        return f'<text x="{_SPARK_X}" y="{y + 4}" font-size="12" fill="#6b7580">{why}</text>'
    shares = trend.shares
    top = max(shares) or 1.0
    step = _SPARK_W / max(len(shares) - 1, 1)
    last = len(shares) - 1
    ticks, points, dots = [], [], []
    for i, (share, week, count, total) in enumerate(zip(shares, trend.weeks, trend.counts, trend.totals)):
        x = _SPARK_X + i * step
        ticks.append(f'<line x1="{x:.1f}" y1="{y + 10}" x2="{x:.1f}" y2="{y + 13}" stroke="#c4cad0"/>')
        if total == 0:
            continue
        py = y + 11 - 22 * (share / top)
        points.append(f"{x:.1f},{py:.1f}")
        dots.append(f'<circle cx="{x:.1f}" cy="{py:.1f}" r="{3.5 if i == last else 2.4}" '
                    f'fill="{"#1d232a" if i == last else "#8a949e"}"><title>{_t(week)}: {count} of {total} papers</title></circle>')
    label = _ARROWS[trend.direction]
    tone = {"growing": "#2e7d32", "shrinking": "#b23b3b", "new": "#2f6db5"}.get(trend.direction, "#5b6672")
    line = f'<polyline points="{" ".join(points)}" fill="none" stroke="#5b6672" stroke-width="1.6"/>' if len(points) > 1 else ""
    return (f'<line x1="{_SPARK_X}" y1="{y + 11}" x2="{_SPARK_X + _SPARK_W}" y2="{y + 11}" stroke="#e3e7eb"/>'
            f'{"".join(ticks)}{line}{"".join(dots)}'
            f'<text x="{_SPARK_X + _SPARK_W + 12}" y="{y + 4}" font-size="12" fill="{tone}">{_t(label)}</text>')


def themes_svg(themes: list[ThemeBrief], week: str) -> str:
    """The chart as an `<svg>` element (empty string when there are no themes)."""
    if not themes:
        return ""
    height = _TOP + _ROW * len(themes) + 26
    most = max(len(t.paper_ids) for t in themes)
    trend = next((t.trend for t in themes if t.trend and t.trend.direction != "no history"), None)
    span = f"{trend.weeks[0]} … {trend.weeks[-1]}" if trend else week
    first = next((w for w, total in zip(trend.weeks, trend.totals) if total), None) if trend else None
    if trend and first and first != trend.weeks[0]:  # the earlier ticks are weeks memory saw nothing of
        span += f" · memory starts {first}"
    rows = []
    for i, theme in enumerate(themes):
        y = _TOP + i * _ROW + _ROW / 2
        n = len(theme.paper_ids)
        width = max(3.0, _BAR_W * n / most)
        cross = " · cross-field" if theme.bridges else ""
        rows.append(
            f'<g><title>{_t(theme.name)}: {counted(n, "paper")}{_t(cross)}</title>'
            f'<text x="{_LABEL_W}" y="{y + 4}" font-size="13" text-anchor="end" fill="#1d232a">'
            f"{i + 1}. {_t(_short(theme.name, 36))}</text>"
            f'<rect x="{_BAR_X}" y="{y - 9}" width="{width:.1f}" height="18" rx="3" fill="{colour(i)}"/>'
            f'<text x="{_BAR_X + width + 6:.1f}" y="{y + 4}" font-size="12" fill="#1d232a">{n}'
            f'{" ⇄" if theme.bridges else ""}</text>'
            f"{_spark(theme, y)}</g>"
        )
    desc = "; ".join(f"{t.name}: {counted(len(t.paper_ids), 'paper')}, {t.trend.direction if t.trend else 'no trend'}" for t in themes)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_WIDTH} {height}" width="100%" '
        f'style="max-width:{_WIDTH}px" font-family="system-ui,-apple-system,Segoe UI,sans-serif">'
        f"<title>Themes of {_t(week)}: size and trend</title><desc>{_t(desc)}</desc>"
        f'<rect width="{_WIDTH}" height="{height}" fill="#fbfcfd" rx="6"/>'
        f'<text x="{_BAR_X}" y="24" font-size="13" font-weight="600" fill="#1d232a">papers this week</text>'
        f'<text x="{_SPARK_X}" y="24" font-size="13" font-weight="600" fill="#1d232a">share of each week near the theme</text>'
        f'<text x="{_SPARK_X}" y="41" font-size="11" fill="#6b7580">{_t(span)}</text>'
        f'<text x="{_BAR_X}" y="41" font-size="11" fill="#6b7580">⇄ has cross-field bridges</text>'
        + "".join(rows)
        + f'<text x="12" y="{height - 9}" font-size="11" fill="#6b7580">Trend: remembered papers near the theme centre, '
        "as a share of all papers memory saw that week; the last point is this week.</text></svg>"
    )


def themes_bars(themes: list[ThemeBrief]) -> str:
    """The same chart as an HTML list of bars, shown instead of the SVG on narrow screens (a phone would
    shrink the SVG's text below reading size): name, papers, trend word, a bar in the theme's colour."""
    if not themes:
        return ""
    most = max(len(t.paper_ids) for t in themes)
    rows = []
    for i, theme in enumerate(themes):
        n = len(theme.paper_ids)
        trend = _ARROWS[theme.trend.direction] if theme.trend else ""
        rows.append(f'<li><span>{i + 1}. {_t(theme.name)}</span><span>{n}{" ⇄" if theme.bridges else ""}'
                    f'{" · " + _t(trend) if trend else ""}</span>'
                    f'<span class="bar" style="width:{max(2.0, 100 * n / most):.0f}%;background:{colour(i)}"></span></li>')
    return f'<ul class="bars" aria-hidden="true">{"".join(rows)}</ul>'
