"""The report as one self-contained HTML page: inline SVG charts drawn here, no scripts.

Nothing is fetched when the file is opened (no CDN, no fonts, no JavaScript), so it works
from disk, offline, and from ``serve``. Every text that comes from the store (group names,
rule ids, customers' quotes) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape
from typing import Any

from empathy_firewall.insights.report import Report

__all__ = ["render_html"]

_PALETTE = ("#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#30343f", "#e07a5f")
_W, _H, _PAD = 640, 240, 40
_LABELS = {
    "sla_breach": "SLA breach",
    "group_hop": "group hop",
    "reassignment": "reassignment",
    "reopen": "reopen",
    "assignee_overloaded": "assignee overloaded",
    "long_wait": "long wait (> 1 day)",
    "customer_messages": "customer messages",
    "delay_acknowledgement": "delay acknowledgement",
    "baton": "handoff baton",
    "recovery": "service recovery",
}


def _label(kind: str) -> str:
    return _LABELS.get(kind, kind)


def _tick(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"


def _ordinal(text: str) -> int:
    return date.fromisoformat(text[:10]).toordinal()


def _line_chart(
    chart_id: str,
    series: Mapping[str, Sequence[Sequence[Any]]],
    *,
    y_range: tuple[float, float] | None = None,
    y_label: str = "",
) -> str:
    """A line chart of ``{name: [[day, value], ...]}`` as inline SVG."""
    points = {name: [(_ordinal(d), float(v)) for d, v in rows] for name, rows in series.items()}
    points = {k: v for k, v in points.items() if v}
    if not points:
        return '<p class="empty">No data in this period.</p>'
    xs = [x for rows in points.values() for x, _ in rows]
    ys = [y for rows in points.values() for _, y in rows]
    x0, x1 = min(xs), max(xs)
    y0, y1 = y_range if y_range is not None else (min(0.0, min(ys)), max(ys) or 1.0)
    if y1 <= y0:
        y1 = y0 + 1.0
    span = max(x1 - x0, 1)

    def sx(x: float) -> float:
        return _PAD + (x - x0) / span * (_W - 2 * _PAD)

    def sy(y: float) -> float:
        return _H - _PAD + (y - y0) / (y1 - y0) * -(_H - 2 * _PAD)

    parts = [
        f'<svg id="{chart_id}" class="chart" data-chart="line" '
        f'viewBox="0 0 {_W} {_H + 20 * len(points)}" '
        f'role="img" aria-label="{escape(y_label)}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" class="axis"/>',
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" class="axis"/>',
        f'<text x="4" y="{_PAD - 8}" class="tick">{escape(y_label)}</text>',
    ]
    for value in (y0, (y0 + y1) / 2, y1):
        parts.append(
            f'<text x="{_PAD - 4}" y="{sy(value) + 4:.1f}" class="tick" text-anchor="end">'
            f"{_tick(value)}</text>"
        )
    if y0 < 0 < y1:
        parts.append(
            f'<line x1="{_PAD}" y1="{sy(0):.1f}" x2="{_W - _PAD}" y2="{sy(0):.1f}" class="zero"/>'
        )
    for x, anchor in ((x0, "start"), (x1, "end")):
        parts.append(
            f'<text x="{sx(x):.1f}" y="{_H - _PAD + 16}" class="tick" text-anchor="{anchor}">'
            f"{date.fromordinal(x).isoformat()}</text>"
        )
    for index, (name, rows) in enumerate(sorted(points.items())):
        color = _PALETTE[index % len(_PALETTE)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in rows)
        parts.append(
            f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" '
            f'points="{path}"><title>{escape(_label(name))}</title></polyline>'
        )
        legend_y = _H + 20 * index
        parts.append(
            f'<rect x="{_PAD}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{_PAD + 16}" y="{legend_y}" class="legend">{escape(_label(name))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _forest(chart_id: str, effects: Sequence[Mapping[str, Any]]) -> str:
    """Effects with their 95% intervals, one row each, zero marked."""
    known = [e for e in effects if e.get("ci95")]
    if not known:
        return '<p class="empty">Too little data to estimate any effect yet.</p>'
    lo = min(min(float(e["ci95"][0]) for e in known), 0.0)
    hi = max(max(float(e["ci95"][1]) for e in known), 0.0)
    margin = (hi - lo) * 0.1 or 0.1
    lo, hi = lo - margin, hi + margin
    left, width, row = 190, _W - 190 - 20, 28
    height = row * len(effects) + 40

    def sx(v: float) -> float:
        return left + (v - lo) / (hi - lo) * width

    parts = [
        f'<svg id="{chart_id}" class="chart" data-chart="forest" viewBox="0 0 {_W} {height}" '
        f'role="img" aria-label="effects with 95% intervals" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{sx(0):.1f}" y1="10" x2="{sx(0):.1f}" y2="{height - 25}" class="zero"/>',
        f'<text x="{sx(lo):.1f}" y="{height - 8}" class="tick">{lo:+.2f}</text>',
        f'<text x="{sx(hi):.1f}" y="{height - 8}" class="tick" text-anchor="end">{hi:+.2f}</text>',
    ]
    for index, e in enumerate(effects):
        y = 24 + index * row
        name = f"{_label(e['kind'])} (n={e['n']})"
        parts.append(f'<text x="8" y="{y + 4}" class="legend">{escape(name)}</text>')
        if not e.get("ci95"):
            verdict = escape(str(e.get("verdict", "too thin to tell")))
            parts.append(f'<text x="{left}" y="{y + 4}" class="thin">{verdict}</text>')
            continue
        a, b = e["ci95"]
        color = "#d1495b" if b < 0 else "#00798c" if a > 0 else "#6c757d"
        parts.append(
            f'<line x1="{sx(a):.1f}" y1="{y}" x2="{sx(b):.1f}" y2="{y}" stroke="{color}" '
            f'stroke-width="3"/><circle class="estimate" cx="{sx(e["effect"]):.1f}" cy="{y}" '
            f'r="5" fill="{color}"><title>{e["effect"]:+.3f} [{a:+.3f}, {b:+.3f}]</title>'
            "</circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="empty">Nothing to show in this period.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _effect_rows(effects: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    out = []
    for e in effects:
        ci = e.get("ci95")
        fci = e.get("frustration_ci95")
        out.append(
            [
                _label(e["kind"]),
                e["n"],
                "" if e["effect"] is None else f"{e['effect']:+.3f}",
                "" if not ci else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]",
                ""
                if e.get("frustration_rate_change") is None
                else f"{e['frustration_rate_change'] * 100:+.1f} pts"
                + ("" if not fci else f" [{fci[0] * 100:+.1f}, {fci[1] * 100:+.1f}]"),
                e["verdict"]
                + (
                    f" (always with {', '.join(map(_label, e['together_with']))}: joint effect)"
                    if e.get("together_with")
                    else ""
                ),
            ]
        )
    return out


_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:60rem;
color:#222;padding:0 1rem}h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.chart{width:100%;height:auto;background:#fafafa;border:1px solid #eee}
.axis{stroke:#999}.zero{stroke:#444;stroke-dasharray:4 3}.tick{font-size:11px;fill:#555}
.legend{font-size:12px;fill:#222}.thin{font-size:12px;fill:#888;font-style:italic}
table{border-collapse:collapse;margin:.6rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;
text-align:left;font-size:.9rem}.note{color:#555;font-size:.9rem}.empty{color:#888}
blockquote{border-left:4px solid #66a182;margin:.6rem 0;padding:.2rem .8rem;background:#f4faf6}
"""


def render_html(report: Report) -> str:
    """The whole report page (see the module docstring)."""
    data = report.as_dict()
    period = data["period"]
    scope = f"group {period['group']}" if period["group"] else "all groups"
    totals = data["totals"]
    moments = (
        "".join(
            f"<blockquote>\u201c{escape(m['quote'])}\u201d<br><small>"
            + (
                f'<a href="{escape(m["url"])}">ticket {escape(m["ticket"].rsplit(":", 1)[-1])}</a>'
                if m.get("url")
                else f"ticket {escape(m['ticket'].rsplit(':', 1)[-1])}"
            )
            + f" \u00b7 {escape(str(m['group'] or ''))} \u00b7 {escape(m['at'][:10])}</small>"
            "</blockquote>"
            for m in data["moments"]
        )
        or '<p class="empty">No positive moments recorded in this period.</p>'
    )
    strain = data["strain"]
    strain_rows = [
        [g["group"], g["agents"], g["replies_per_agent"], g["frustrated_messages_per_agent"]]
        for g in strain["groups"]
    ]
    health_rows = [
        [
            r["rule"],
            r["firings"],
            r["undone"],
            "" if r["precision"] is None else f"{r['precision'] * 100:.0f}%",
        ]
        for r in data["rule_health"]
    ]
    sentiment = data["sentiment"]
    sections = [
        "<h1>What the empathy firewall learned</h1>",
        f'<p class="note">{escape(period["since"][:10])} to {escape(period["until"][:10])}, '
        f"{escape(scope)}: {totals['customer_messages']} customer and "
        f"{totals['agent_messages']} agent messages; {data['insights']['observations']} "
        f"customer replies in {totals['tickets_analysed']} tickets analysed.</p>",
        "<h2>Which disruptions hurt</h2>",
        '<p class="note">Change in the customer\'s next message after each kind of internal '
        "disruption, compared with similar conversations without it (same channel, group, "
        "ticket age and the customer's earlier sentiment). Sentiment runs from -1 to +1; "
        "negative means worse. Bars are 95% intervals; most harmful first.</p>",
        _forest("chart-disruptions", data["insights"]["disruptions"]),
        _table(
            ["disruption", "n", "sentiment change", "95% interval", "frustration rate", "verdict"],
            _effect_rows(data["insights"]["disruptions"]),
        ),
        "<h2>What helped</h2>",
        '<p class="note">The same comparison for what the firewall did: positive means the '
        "customer's next message was warmer than in similar conversations where it did not "
        "act.</p>",
        _forest("chart-interventions", data["insights"]["interventions"]),
        _table(
            [
                "intervention",
                "n",
                "sentiment change",
                "95% interval",
                "frustration rate",
                "verdict",
            ],
            _effect_rows(data["insights"]["interventions"]),
        ),
        "<h2>Friction over time</h2>",
        '<p class="note">Disruptions per day (each at the moment it happened).</p>',
        _line_chart(
            "chart-friction",
            {k: v for k, v in data["friction"].items() if k != "customer_messages"},
            y_label="per day",
        ),
        '<p class="note">Customer messages per day (the workload).</p>',
        _line_chart(
            "chart-workload",
            {"customer_messages": data["friction"]["customer_messages"]},
            y_label="messages",
        ),
        "<h2>Customer sentiment over time</h2>",
        "<h3>By group</h3>",
        _line_chart(
            "chart-sentiment-group", sentiment["by_group"], y_range=(-1, 1), y_label="sentiment"
        ),
        "<h3>By channel</h3>",
        _line_chart(
            "chart-sentiment-channel",
            sentiment["by_channel"],
            y_range=(-1, 1),
            y_label="sentiment",
        ),
        "<h3>Frustration rate by group</h3>",
        _line_chart(
            "chart-frustration-group",
            sentiment["frustration_rate_by_group"],
            y_range=(0, 1),
            y_label="share frustrated",
        ),
        "<h2>Team strain (groups only)</h2>",
        f'<p class="note">Aggregated per group; groups with fewer than '
        f"{strain['min_group_agents']} agents are not shown ({strain['hidden_groups']} hidden). "
        "Never a measure of any one person.</p>",
        _table(
            ["group", "agents", "replies per agent", "frustrated customer messages per agent"],
            strain_rows,
        ),
        "<h2>Moments to celebrate</h2>",
        moments,
        "<h2>Rule health</h2>",
        '<p class="note">How often each rule acted, and how often an agent undid it (removed '
        "the tag, deleted the note). Precision = share not undone.</p>",
        _table(["rule", "firings", "undone", "precision"], health_rows),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>empathy-firewall report</title>"
        f"<style>{_STYLE}</style></head><body>" + "\n".join(sections) + "</body></html>\n"
    )
