"""Writes packet.md and key.json from two runs of sent_set.py (before.json, after.json) and the criteria's config.

Usage: python make_packet.py BEFORE.json AFTER.json CONFIG.toml
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from pathlib import Path


def main(before_path: str, after_path: str, config_path: str) -> None:
    before, after = json.loads(Path(before_path).read_text()), json.loads(Path(after_path).read_text())
    only_before, only_after = set(before["sent"]) - set(after["sent"]), set(after["sent"]) - set(before["sent"])
    ids = sorted(only_before | only_after)
    random.Random(48).shuffle(ids)
    topics = tomllib.loads(Path(config_path).read_text())["criteria"]["topics"]
    criteria = "\n".join(f"- **{t['name']}**: {t.get('description', '')} Relevant: {t.get('relevant', '')} "
                         f"Not relevant: {t.get('not_relevant', '')}" for t in topics)
    items = [f"## Item {n}\n\nTitle: {after['papers'][pid]['title']}\n\nAbstract: {after['papers'][pid]['abstract']}\n"
             for n, pid in enumerate(ids, 1)]
    Path("packet.md").write_text("# Which papers does a researcher with these criteria want to read? (blind)\n\n"
                                 f"Criteria (a paper is relevant if it fits one topic):\n{criteria}\n\n" + "\n".join(items))
    key = [{"item": n, "id": pid, "sent_by": "before" if pid in only_before else "after"} for n, pid in enumerate(ids, 1)]
    Path("key.json").write_text(json.dumps(key, indent=1))
    print(len(items), "items")


if __name__ == "__main__":
    main(*sys.argv[1:4])
