"""A reading judge for themed reviews: which share of each run's papers is on the theme.

No LLM exists here to judge a review, but a person (or a helper) can read. For review JSONs of several runs
(e.g. the code before and after a change) this writes one blind reading sheet per packet: per theme, the
theme, then every paper any run kept, once, shuffled with a fixed seed and numbered, with title and
abstract only (no run, rank or score), and a key saying which run kept each number at which rank. From the
judge's verdicts (`{"n", "on_theme", "reason"}` per line) it prints each run's kept count and on-theme
share with a 95% (Wilson) interval.

    python bench/judge_review.py packet --run before=out-before --run after=out-after \
        --theme "KV cache compression for long-context LLM inference" [--theme ...] \
        --source CORPUS_DIR [--source ...] --out evals/data/judge/review
    python bench/judge_review.py score --key evals/data/judge/review/key.json \
        --verdicts evals/data/judge/review/verdicts.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from judge_screening import corpus

from brief.graphs.review_state import slug

ABSTRACT_CHARS = 900


def kept(out_dir: Path, theme: str) -> list[str]:
    """The ids a review kept, in its order (best first)."""
    report = json.loads((out_dir / f"review-{slug(theme)}.json").read_text(encoding="utf-8"))
    return [p["id"] for p in report["accepted"]]


def packet(args) -> None:
    runs = dict(r.split("=", 1) for r in args.run)
    papers: dict[str, dict] = {}
    for source in args.source:
        papers.update(corpus(Path(source)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Reading sheet: themed reviews (blind)", "",
             "Read README.md beside this file first. Each section gives a theme, then papers to judge against it.", ""]
    key: dict = {"themes": []}
    n = 0
    for theme in args.theme:
        ranks = {name: kept(Path(d), theme) for name, d in runs.items()}
        ids = sorted({pid for ids in ranks.values() for pid in ids})
        random.Random(f"review|{args.seed}|{theme}").shuffle(ids)
        lines += [f"## Theme: {theme}", ""]
        numbered = {}
        for pid in ids:
            n += 1
            p = papers.get(pid, {"title": "(not in the source)", "abstract": ""})
            abstract = " ".join(p["abstract"].split())
            cut = abstract[:args.chars].rsplit(" ", 1)[0] + " …" if len(abstract) > args.chars else abstract
            lines += [f"### {n}. {' '.join(p['title'].split())}", "", cut, ""]
            numbered[str(n)] = {"id": pid, "kept_by": {name: ids_.index(pid) + 1 for name, ids_ in ranks.items()
                                                       if pid in ids_}}
        key["themes"].append({"theme": theme, "kept": {name: len(ids_) for name, ids_ in ranks.items()}, "papers": numbered})
    (out / "packet.md").write_text("\n".join(lines), encoding="utf-8")
    (out / "key.json").write_text(json.dumps(key, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{n} papers over {len(args.theme)} themes → {out / 'packet.md'}, key → {out / 'key.json'}")


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def score(args) -> None:
    key = json.loads(Path(args.key).read_text(encoding="utf-8"))
    verdicts = {}
    for line in Path(args.verdicts).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            verdicts[str(rec["n"])] = bool(rec["on_theme"])
    print(f"{'theme':<55} {'run':<10} {'kept':>4} {'on theme':>8}  95% interval")
    for t in key["themes"]:
        for run, count in t["kept"].items():
            mine = [n for n, p in t["papers"].items() if run in p["kept_by"]]
            missing = [n for n in mine if n not in verdicts]
            if missing:
                raise SystemExit(f"{t['theme']!r}: papers {', '.join(missing[:5])} have no verdict")
            hits = sum(verdicts[n] for n in mine)
            lo, hi = wilson(hits, len(mine))
            share = f"{hits / len(mine):.0%}" if mine else "-"
            print(f"{t['theme'][:55]:<55} {run:<10} {count:>4} {share:>8}  {lo:.0%}-{hi:.0%} ({hits}/{len(mine)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("packet")
    p.add_argument("--run", action="append", required=True, help="NAME=DIR: a folder of review JSONs")
    p.add_argument("--theme", action="append", required=True)
    p.add_argument("--source", action="append", required=True, help="a corpus folder of daily JSONL files")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", default="2026")
    p.add_argument("--chars", type=int, default=ABSTRACT_CHARS)
    s = sub.add_parser("score")
    s.add_argument("--key", required=True)
    s.add_argument("--verdicts", required=True)
    args = parser.parse_args()
    packet(args) if args.command == "packet" else score(args)


if __name__ == "__main__":
    main()
