"""The per-topic screening table: how the week's cap was shared (papers that passed a topic's threshold,
accepted, cut by the cap; offline, when any were, those set aside as chance matches). Markdown and HTML; the
JSON carries the same rows in `screening.per_topic`."""

from __future__ import annotations

from html import escape

HEADER = ("topic", "qualifying", "accepted", "cut by the cap")
CHANCE = "set aside at the chance level"


def topic_rows(b) -> tuple[tuple[str, ...], list[tuple]]:
    """The header and one row a topic; the chance column only when a topic set papers aside."""
    stats = b.screening
    rows = [(t.topic, t.qualifying, t.accepted, t.cut, t.chance) for t in stats.per_topic] if stats is not None else []
    if any(row[-1] for row in rows):
        return (*HEADER, CHANCE), rows
    return HEADER, [row[:-1] for row in rows]


def topic_table_md(b) -> list[str]:
    """The section's markdown lines, or none when the run has no per-topic counts."""
    header, rows = topic_rows(b)
    if not rows:
        return []
    lines = ["", "## Per topic", "", "| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    return lines + ["| " + " | ".join([name.replace("|", "/"), *map(str, counts)]) + " |" for name, *counts in rows]


def topic_table_html(b) -> str:
    header, rows = topic_rows(b)
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(f"<tr><td>{escape(name)}</td>" + "".join(f"<td>{n}</td>" for n in counts) + "</tr>"
                   for name, *counts in rows)
    return f'<h2 id="per-topic">Per topic</h2><table class="per-topic"><tr>{head}</tr>{body}</table>'
