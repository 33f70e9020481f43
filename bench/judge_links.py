"""Links and themes by a reading judge: draw the sample a reader judges, and recompute the figures from verdicts.

    python bench/judge_links.py sample BRIEFING.json CORPUS_DIR [--n 30] [--seed 16]   # the pairs to read
    python bench/judge_links.py score evals/data/judge_links_2026-W24.jsonl              # the percentages

Verdict file (JSON lines; instructions in evals/data/judge_links_2026-W24.md): {"kind": "link", "run": ...,
"new", "earlier", "verdict": related | loose | unrelated, "why"} and {"kind": "theme", "run", "name", "size",
"verdict": coherent | mixed, "why"}.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path


def sample(briefing: Path, corpus: Path, n: int, seed: int) -> None:
    report = json.loads(briefing.read_text())
    pairs = [(p["id"], link) for p in report["accepted"] for link in p["links"]]
    texts = {}
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            texts.setdefault(record["id"].split("v")[0], record)
    print(f"{len(pairs)} links in {briefing}; targets: {Counter(link['id'] for _, link in pairs).most_common(3)}")
    for i, (new, link) in enumerate(random.Random(seed).sample(pairs, min(n, len(pairs)))):
        a, b = texts[new], texts[link["id"]]
        print(f"## {i} {new} -> {link['id']} sim={link['similarity']:.2f} reason={link.get('reason')!r}")
        for tag, r in (("A", a), ("B", b)):
            print(f"{tag} [{r['categories'][0]}] {r['title']}\n   {r['summary'][:420]}")
        print()


def score(verdicts: Path) -> dict:
    links: dict[str, Counter] = defaultdict(Counter)
    themes: dict[str, Counter] = defaultdict(Counter)
    for line in verdicts.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        (links if row["kind"] == "link" else themes)[row["run"]][row["verdict"]] += 1
    out = {}
    for run in sorted(set(links) | set(themes)):
        n = sum(links[run].values())
        out[run] = {
            "links": n,
            **{f"{v}_pct": round(100 * links[run][v] / n, 1) if n else None for v in ("related", "loose", "unrelated")},
            "themes": sum(themes[run].values()), "themes_coherent": themes[run]["coherent"],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("briefing", type=Path)
    s.add_argument("corpus", type=Path)
    s.add_argument("--n", type=int, default=30)
    s.add_argument("--seed", type=int, default=16)
    c = sub.add_parser("score")
    c.add_argument("verdicts", type=Path)
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.briefing, args.corpus, args.n, args.seed)
    else:
        print(json.dumps(score(args.verdicts), indent=2))


if __name__ == "__main__":
    main()
