"""Links and themes by a reading judge: draw the sample a reader judges, and recompute the figures from verdicts.

    python bench/judge_links.py sample BRIEFING.json CORPUS_DIR [--n 30] [--seed 16]   # the pairs to read
    python bench/judge_links.py score evals/data/judge_links_2026-W24.jsonl              # the percentages
    python bench/judge_links.py packet B1.json B2.json --corpus DIR --n 30 --out DIR     # a blind sheet + key

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


def _corpus_texts(corpus: Path) -> dict[str, dict]:
    """id (without version) → the corpus record, from the daily JSONL files (unreadable lines skipped)."""
    texts: dict[str, dict] = {}
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            texts.setdefault(record["id"].split("v")[0], record)
    return texts


def sample(briefing: Path, corpus: Path, n: int, seed: int) -> None:
    report = json.loads(briefing.read_text())
    pairs = [(p["id"], link) for p in report["accepted"] for link in p["links"]]
    texts = _corpus_texts(corpus)
    print(f"{len(pairs)} links in {briefing}; targets: {Counter(link['id'] for _, link in pairs).most_common(3)}")
    for i, (new, link) in enumerate(random.Random(seed).sample(pairs, min(n, len(pairs)))):
        a, b = texts[new], texts[link["id"]]
        print(f"## {i} {new} -> {link['id']} sim={link['similarity']:.2f} reason={link.get('reason')!r}")
        for tag, r in (("A", a), ("B", b)):
            print(f"{tag} [{r['categories'][0]}] {r['title']}\n   {r['summary'][:420]}")
        print()


def packet(briefings: list[Path], corpus: Path, n: int, seed: int, out: Path) -> None:
    """A blind reading sheet: `n` links drawn evenly from the briefings (no similarity, reason or week shown) and
    every theme (its name and its papers); `key.json` maps each item back to its briefing, apart."""
    texts = _corpus_texts(corpus)
    rng = random.Random(seed)
    lines, key = ["# Reading sheet: links, then themes", ""], {"links": [], "themes": []}
    per = [n // len(briefings) + (i < n % len(briefings)) for i in range(len(briefings))]
    reports = [json.loads(b.read_text()) for b in briefings]
    for take, path, report in zip(per, briefings, reports):
        pairs = [(p["id"], link["id"]) for p in report["accepted"] for link in p["links"]]
        for new, earlier in rng.sample(pairs, min(take, len(pairs))):
            key["links"].append({"item": f"L{len(key['links']) + 1}", "briefing": path.name, "new": new, "earlier": earlier})
    rng.shuffle(key["links"])
    for i, row in enumerate(key["links"], 1):
        row["item"] = f"L{i}"
        lines.append(f"## {row['item']}")
        for tag, pid in (("A", row["new"]), ("B", row["earlier"])):
            r = texts[pid]
            lines.append(f"{tag}: {r['title']}\n   {' '.join(r['summary'].split())[:600]}")
        lines.append("")
    papers = {p["id"]: p for report in reports for p in report["accepted"]}
    for path, report in zip(briefings, reports):
        for theme in report["themes"]:
            item = f"T{len(key['themes']) + 1}"
            key["themes"].append({"item": item, "briefing": path.name, "name": theme["name"], "size": len(theme["paper_ids"])})
            lines.append(f"## {item} name: {theme['name']}")
            for pid in theme["paper_ids"]:
                lines.append(f"- {papers[pid]['title']}: {' '.join(texts[pid]['summary'].split())[:300]}")
            lines.append("")
    out.mkdir(parents=True, exist_ok=True)
    (out / "packet.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "key.json").write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
    print(f"{len(key['links'])} links and {len(key['themes'])} themes → {out}/packet.md (key apart: {out}/key.json)")


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
    k = sub.add_parser("packet")
    k.add_argument("briefings", type=Path, nargs="+")
    k.add_argument("--corpus", type=Path, required=True)
    k.add_argument("--n", type=int, default=30)
    k.add_argument("--seed", type=int, default=16)
    k.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("score")
    c.add_argument("verdicts", type=Path)
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.briefing, args.corpus, args.n, args.seed)
    elif args.command == "packet":
        packet(args.briefings, args.corpus, args.n, args.seed, args.out)
    else:
        print(json.dumps(score(args.verdicts), indent=2))


if __name__ == "__main__":
    main()
