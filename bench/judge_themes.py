"""A blind reading sheet of the themes of two versions of the same weekly briefings, and its score.

Usage:
    python bench/judge_themes.py packet --run before O1/2026-W24.json O1/2026-W25.json \
        --run after O2/2026-W24.json O2/2026-W25.json --corpus SNAPSHOT_DIR --out DIR [--seed 19] [--chars 250]
        [--known KEY.json --prefix U]  # only themes not judged before
    python bench/judge_themes.py label DIR/key.json --run final O3/2026-W24.json O3/2026-W25.json
    python bench/judge_themes.py score DIR/key.json DIR/verdicts.jsonl

`packet` writes DIR/packet.md (every distinct theme: its name and its papers' titles and the opening of their
abstracts, shuffled; a theme identical in both versions, name and papers, is shown once) and DIR/key.json
(which version(s) and week each item came from; the judge never opens it). `label` marks in a key the items
a further version's briefings show and names those it has no item for (a packet with `--known` asks about
them). `score` reads the judge's
verdicts, one {"item", "verdict": coherent|mixed, "name": good|fair|bad, "why"} per line, and prints per
version the themes, how many were coherent and the names' grades, for named themes and for a topic's
assorted rest apart.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.judge_screening import corpus  # noqa: E402


def packet(runs: list[list[str]], corpus_dir: Path, out: Path, seed: int, chars: int, known: Path | None = None,
           prefix: str = "T") -> None:
    papers_of = corpus(corpus_dir)
    judged = {(k["week"], k["name"], tuple(k["ids"])) for k in json.loads(known.read_text())} if known else set()
    items: dict[tuple, dict] = {}
    texts: dict[tuple, list[str]] = {}
    for name, *paths in runs:
        for path in paths:
            briefing = json.loads(Path(path).read_text())
            week, papers = briefing["week"], {p["id"]: p for p in briefing["accepted"]}
            for theme in briefing["themes"]:
                key = (week, theme["name"], tuple(sorted(theme["paper_ids"])))
                if key in judged:
                    continue
                items.setdefault(key, {"week": week, "runs": [], "name": theme["name"], "size": len(theme["paper_ids"]),
                                      "ids": list(key[2])})
                items[key]["runs"].append(name)
                texts[key] = [f"- {papers[i]['title']}: {' '.join(papers_of.get(i, {}).get('abstract', '').split())[:chars]}"
                              for i in theme["paper_ids"]]
    order = sorted(items)
    random.Random(seed).shuffle(order)
    lines = ["# Themes of weekly briefings (blind: two versions of each week, mixed; identical themes shown once)", ""]
    key = []
    for n, k in enumerate(order, 1):
        lines += [f"## {prefix}{n} name: {items[k]['name']}", *texts[k], ""]
        key.append({"item": f"{prefix}{n}", **items[k]})
    out.mkdir(parents=True, exist_ok=True)
    (out / "packet.md").write_text("\n".join(lines))
    (out / "key.json").write_text(json.dumps(key, indent=1))
    print(f"{len(order)} themes → {out / 'packet.md'}")


def label(key_path: Path, run: str, paths: list[str]) -> None:
    """Mark in a key the items a run's briefings show (same week, name and papers); name the themes no item is."""
    key = json.loads(key_path.read_text())
    index = {(k["week"], k["name"], tuple(k["ids"])): k for k in key}
    unjudged = []
    for path in paths:
        briefing = json.loads(Path(path).read_text())
        for theme in briefing["themes"]:
            item = index.get((briefing["week"], theme["name"], tuple(sorted(theme["paper_ids"]))))
            if item is None:
                unjudged.append(f"{briefing['week']} {theme['name']}")
            elif run not in item["runs"]:
                item["runs"].append(run)
    key_path.write_text(json.dumps(key, indent=1))
    print(f"{run}: {len(unjudged)} themes not in the key" + "".join(f"\n  {u}" for u in unjudged))


def score(key_path: Path, verdicts_path: Path) -> None:
    key = {k["item"]: k for k in json.loads(key_path.read_text())}
    verdicts = {v["item"]: v for v in map(json.loads, verdicts_path.read_text().splitlines()) if v}
    missing = sorted(set(key) - set(verdicts))
    if missing:
        print(f"no verdict for {len(missing)} themes: {', '.join(missing[:5])}")
    runs = sorted({r for k in key.values() for r in k["runs"]})
    print("run     kind      themes papers coherent mixed  names good/fair/bad")
    for run in runs:
        for kind in ("named", "assorted"):
            mine = [i for i, k in key.items() if run in k["runs"] and i in verdicts
                    and k["name"].endswith(": assorted") == (kind == "assorted")]
            grades = Counter(verdicts[i]["name"] for i in mine)
            coherent = sum(verdicts[i]["verdict"] == "coherent" for i in mine)
            papers = sum(key[i]["size"] for i in mine)
            print(f"{run:<7} {kind:<9} {len(mine):>6} {papers:>6} {coherent:>8} {len(mine) - coherent:>5}  "
                  f"{grades['good']}/{grades['fair']}/{grades['bad']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("packet")
    p.add_argument("--run", nargs="+", action="append", required=True, metavar="NAME_THEN_BRIEFINGS")
    p.add_argument("--corpus", type=Path, required=True, help="the snapshot corpus the weeks came from (abstracts)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=19)
    p.add_argument("--chars", type=int, default=250)
    p.add_argument("--known", type=Path, help="a key.json whose themes were judged already: left out")
    p.add_argument("--prefix", default="T", help="the items' label (T1, T2, …)")
    m = sub.add_parser("label")
    m.add_argument("key", type=Path)
    m.add_argument("--run", required=True)
    m.add_argument("briefings", nargs="+")
    s = sub.add_parser("score")
    s.add_argument("key", type=Path)
    s.add_argument("verdicts", type=Path)
    args = ap.parse_args()
    if args.command == "packet":
        packet(args.run, args.corpus, args.out, args.seed, args.chars, args.known, args.prefix)
    elif args.command == "label":
        label(args.key, args.run, args.briefings)
    else:
        score(args.key, args.verdicts)


if __name__ == "__main__":
    main()
