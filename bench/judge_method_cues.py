"""Blind A/B packets for a reading judge: the offline summary's Method / TL;DR before and after a change.

Usage:
  python bench/judge_method_cues.py packet BEFORE_DIR AFTER_DIR --corpus DIR [--corpus DIR] --out OUT [--per 22]
  python bench/judge_method_cues.py score OUT/key.json OUT/verdicts*.jsonl

BEFORE_DIR / AFTER_DIR hold `brief weekly --json` briefings (any depth); every accepted paper in both whose
summary changed becomes an item: title, abstract, and the two Method fields as X and Y in a seeded random order
(the TL;DR is the Method sentence whenever there is one). `key.json` (not for the judge) says which is which.
"""

from __future__ import annotations

import argparse
import glob
import json
import random
from collections import Counter
from pathlib import Path


def summaries(root: str) -> dict[str, tuple[str, dict]]:
    out = {}
    for f in sorted(glob.glob(f"{root}/**/2026-W*.json", recursive=True)):
        for p in json.load(open(f))["accepted"]:
            out[p["id"]] = (p["title"], p.get("summary") or {})
    return out


def abstracts(corpora: list[str]) -> dict[str, str]:
    out = {}
    for c in corpora:
        for f in sorted(Path(c).glob("*.jsonl")):
            for line in f.read_text().splitlines():
                p = json.loads(line)
                out[p["id"]] = p.get("summary") or p.get("abstract") or ""
    return out


def packet(args) -> None:
    before, after, text = summaries(args.before), summaries(args.after), abstracts(args.corpus)
    items = [(pid, before[pid], after[pid]) for pid in sorted(set(before) & set(after))
             if before[pid][1].get("method") != after[pid][1].get("method")]
    rng = random.Random(args.seed)
    rng.shuffle(items)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    key = []
    for start in range(0, len(items), args.per):
        lines = []
        for n, (pid, (title, b), (_, a)) in enumerate(items[start:start + args.per], start + 1):
            x_is_after = rng.random() < 0.5
            x, y = (a, b) if x_is_after else (b, a)
            key.append({"item": n, "id": pid, "x": "after" if x_is_after else "before"})
            lines += [f"## Item {n}", f"**Title:** {title}", f"**Abstract:** {text.get(pid, '(missing)')}", "",
                      f"**X:** {x.get('method')}", f"**Y:** {y.get('method')}", ""]
        (out / f"packet-{start // args.per + 1}.md").write_text("\n".join(lines))
    (out / "key.json").write_text(json.dumps(key, indent=1))
    print(f"{len(items)} items in {len(range(0, len(items), args.per))} packets under {out}")


def score(args) -> None:
    key = {k["item"]: k for k in json.loads(Path(args.key).read_text())}
    tally, ok = Counter(), Counter()
    for path in args.verdicts:
        for line in Path(path).read_text().splitlines():
            if not line.strip():
                continue
            v = json.loads(line)
            k = key[v["item"]]
            side = {"X": k["x"], "Y": "before" if k["x"] == "after" else "after"}
            tally[side.get(v["better"], "same")] += 1
            for label, verdict in (("X", v["x_ok"]), ("Y", v["y_ok"])):
                ok[(side[label], bool(verdict))] += 1
    n = sum(tally.values())
    print(f"{n} items judged: after better {tally['after']}, before better {tally['before']}, same {tally['same']}")
    for side in ("before", "after"):
        good, bad = ok[(side, True)], ok[(side, False)]
        print(f"  {side}: acceptable Method field {good} of {good + bad}")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("packet")
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--corpus", action="append", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--per", type=int, default=22)
    p.add_argument("--seed", type=int, default=37)
    s = sub.add_parser("score")
    s.add_argument("key")
    s.add_argument("verdicts", nargs="+")
    args = ap.parse_args()
    packet(args) if args.cmd == "packet" else score(args)


if __name__ == "__main__":
    main()
