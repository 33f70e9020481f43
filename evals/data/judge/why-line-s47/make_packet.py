"""Writes packet.md and key.json of this judge from two briefings' JSON of the same week (before, after).

Usage, with brief importable: python make_packet.py BEFORE.json AFTER.json CONFIG.toml
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from pathlib import Path

from brief.report.paper_view import matched_note, unstated_matches


def before_line(paper: dict) -> str:
    """The Why line as stop 46 wrote it: every match the reason doesn't name, as a match."""
    extra = unstated_matches(paper["reason"], paper["matched"])
    return paper["reason"] + (f" (matched: {', '.join(extra)})" if extra else "")


def main(before_path: str, after_path: str, config_path: str) -> None:
    before = {p["id"]: p for p in json.loads(Path(before_path).read_text())["accepted"]}
    after = json.loads(Path(after_path).read_text())["accepted"]
    rnd = random.Random(47)
    items: list[str] = []
    key: list[dict] = []
    for paper in after:
        if paper["id"] not in before:
            continue
        old = before_line(before[paper["id"]])
        new = paper["reason"] + matched_note(paper["reason"], paper["matched"], paper.get("matched_elsewhere", {}))
        if old == new:
            continue
        x_is_after = rnd.random() < 0.5
        x, y = (new, old) if x_is_after else (old, new)
        items.append(f"## Item {len(items) + 1}\n\nPaper: {paper['title']}\nKept for topic: {paper['topic']}\n\n"
                     f"X: Why: {x}\n\nY: Why: {y}\n")
        key.append({"item": len(items), "id": paper["id"], "x_is_after": x_is_after, "before": old, "after": new})
    topics = tomllib.loads(Path(config_path).read_text())["criteria"]["topics"]
    listed = "\n".join(f"- {t['name']}: keywords {', '.join(t.get('keywords', []))}" for t in topics)
    Path("packet.md").write_text("# Why lines: which tells a reader better why the paper was kept (blind)\n\n"
                                 f"The criteria's topics and their keywords:\n{listed}\n\n" + "\n".join(items))
    Path("key.json").write_text(json.dumps(key, indent=1))
    print(len(items), "items")


if __name__ == "__main__":
    main(*sys.argv[1:4])
