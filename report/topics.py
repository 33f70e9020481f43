"""The per-topic screening table: how the week's cap was shared (papers that passed a topic's threshold,
accepted, cut by the cap). Markdown and HTML; the JSON carries the same rows in `screening.per_topic`."""

from __future__ import annotations

from html import escape

HEADER = ("topic", "qualifying", "accepted", "cut by the cap")


def topic_rows(b) -> list[tuple[str, int, int, int]]:
    stats = b.screening
    return [(t.topic, t.qualifying, t.accepted, t.cut) for t in stats.per_topic] if stats is not None else []


def topic_table_md(b) -> list[str]:
    """The section's markdown lines, or none when the run has no per-topic counts."""
    rows = topic_rows(b)
    if not rows:
        return []
    lines = ["", "## Per topic", "", "| " + " | ".join(HEADER) + " |", "|---|---:|---:|---:|"]
    return lines + [f"| {name.replace('|', '/')} | {q} | {a} | {c} |" for name, q, a, c in rows]


def topic_table_html(b) -> str:
    rows = topic_rows(b)
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
    body = "".join(f"<tr><td>{escape(name)}</td><td>{q}</td><td>{a}</td><td>{c}</td></tr>" for name, q, a, c in rows)
    return f'<h2 id="per-topic">Per topic</h2><table class="per-topic"><tr>{head}</tr>{body}</table>'
