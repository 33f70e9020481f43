"""Themed reviews over a real corpus: prints each review's top cited papers with their similarity to the
theme, and the span of its timeline (a script that prints figures, not a test).

    python bench/review_themes.py --memory-dir DIR [--config brief.toml] [--out DIR] [--offline]
        [--theme "KV cache compression" ...] [--max-papers 30] [--top 10]

DIR must already hold the corpus, e.g. after
    brief memory import ../shared/data/corpus/eclipse0922_en_csLG-csCV-csAI-csRO --memory-dir DIR
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from brief.config_file import load_settings
from brief.graphs.review_state import ReviewRequest
from brief.app.runner import run_review

THEMES = ["diffusion models for robot manipulation", "KV cache compression", "medical image segmentation"]


def top_papers(report: dict, n: int) -> list[dict]:
    """The report's key papers (best first: screening relevance, then similarity to the theme), which it
    cites and summarises; `cited` counts their citations in the prose as well."""
    by_id = {p["id"]: p for p in report["accepted"]}
    return [by_id[pid] for pid in report["key_papers"][:n]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memory-dir", type=Path, required=True)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--out", type=Path, default=Path("briefings"))
    ap.add_argument("--offline", action="store_true")
    ap.add_argument("--theme", action="append")
    ap.add_argument("--max-papers", type=int, default=30)
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    settings = load_settings(args.config)
    settings = settings.model_copy(update={"out_dir": args.out, "offline": args.offline or settings.offline,
                                           "memory": settings.memory.model_copy(update={"dir": args.memory_dir})})
    for theme in args.theme or THEMES:
        started = time.perf_counter()
        result = run_review(settings, ReviewRequest(theme=theme, max_papers=args.max_papers))
        seconds = time.perf_counter() - started
        report = json.loads(Path(next(p for p in result.outputs if p.endswith(".json"))).read_text(encoding="utf-8"))
        weeks = report["timeline"]["weeks"]
        print(f"\n== {theme} ({report['mode']}; {seconds:.1f} s) ==")
        print(f"   {report['counts']['memory']} memory candidates, pool {report['counts']['pool']}, "
              f"{len(report['accepted'])} papers in {len(report['themes'])} sub-themes: "
              + "; ".join(f"{t['name']} ({len(t['paper_ids'])})" for t in report["themes"]))
        print(f"   timeline: {len(weeks)} weeks, {weeks[0]['week'] if weeks else '-'} to {weeks[-1]['week'] if weeks else '-'} "
              f"({', '.join(w['week'][-3:] + ' ' + str(w['count']) for w in weeks)}); "
              f"citations unresolved: {len(report['unresolved_citations'])}")
        print(f"   top {args.top} papers (similarity to the theme · citations in the prose · first seen):")
        for p in top_papers(report, args.top):
            print(f"   {p['similarity']:.3f}  {p['cited']:>2}x  {p['first_seen'] or '-':>8}  {p['id']:<11} {p['title'][:86]}")
        print(f"   files: {', '.join(Path(p).name for p in result.outputs)}")


if __name__ == "__main__":
    main()
