"""Calibrate `memory.link_threshold` on real papers (memory/links.py: calibrate_threshold).

Usage: python bench/link_threshold.py [--shared ../shared/data] [--new 500] [--earlier 2945] [--quantile 0.95]
                                      [--embedder local] [--cache ~/.cache/brief-bench]

New papers: the last announcement week of the eclipse0922 cs corpus (cs.LG/CV/AI/RO). Earlier memory:
papers first announced in its earlier weeks. Unrelated memory, same size: astro-ph papers (cgarling's
Jan-Apr 2026 screening days), a field none of the new papers belongs to. Each new paper's best match in the
unrelated memory is what "the least bad of N papers" reaches by chance; the threshold is the lowest 0.01
step that at most 1 - quantile of new papers reach that way. The table adds, per threshold: how many new
papers get links from the real earlier memory, links per paper (k=3), and how often linked papers share
an author (independent evidence the links are real), beside the same rate below the threshold.
Embeddings go through the cached embedder (--cache): a second run takes seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]

from brief.memory.embedders import CachedEmbedder, make_embedder  # noqa: E402
from brief.memory.links import calibrate_threshold  # noqa: E402
from brief.models import Paper  # noqa: E402
from brief.sources.snapshot import SnapshotSource  # noqa: E402
from brief.sources.window import Window, week_of  # noqa: E402


def cs_papers(shared: Path) -> dict[str, list[Paper]]:
    """First announcement of each paper, by ISO week."""
    root = shared / "corpus" / "eclipse0922_en_csLG-csCV-csAI-csRO"
    first: dict[str, Paper] = {}
    for paper in SnapshotSource(root).fetch(Window(since=date(2026, 1, 1), until=date(2026, 12, 31))):
        if paper.abstract and (paper.id not in first or paper.announced < first[paper.id].announced):
            first[paper.id] = paper
    weeks: dict[str, list[Paper]] = {}
    for paper in first.values():
        weeks.setdefault(week_of(paper.announced), []).append(paper)
    return dict(sorted(weeks.items()))


def astro_papers(shared: Path) -> list[Paper]:
    """cgarling's screening days, each paper announced on the first day that lists it."""
    out: dict[str, Paper] = {}
    for path in sorted((shared / "screening" / "cgarling_astro-ph" / "daily_output_json").glob("*.json")):
        for pid, rec in json.loads(path.read_text(encoding="utf-8")).items():
            if rec.get("abstract") and rec.get("title"):
                out.setdefault(pid, Paper(id=pid, title=rec["title"], abstract=rec["abstract"], authors=rec.get("authors") or [],
                                          announced=date.fromisoformat(path.name[:10])))
    return list(out.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--new", type=int, default=500)
    ap.add_argument("--earlier", type=int, default=0, help="earlier papers (default: as many as unrelated ones)")
    ap.add_argument("--quantile", type=float, default=0.95)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--embedder", default="local")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "brief-bench")
    args = ap.parse_args()
    rng = random.Random(0)
    weeks = cs_papers(args.shared)
    last = list(weeks)[-1] if len(weeks[list(weeks)[-1]]) >= args.new else list(weeks)[-2]
    new = rng.sample(weeks[last], min(args.new, len(weeks[last])))
    pool = [p for w, ps in weeks.items() if w < last for p in ps]
    unrelated = astro_papers(args.shared)
    earlier = rng.sample(pool, min(len(pool), args.earlier or len(unrelated)))
    embedder = CachedEmbedder(make_embedder(args.embedder, args.cache), args.cache / "link-threshold.sqlite")
    vec = {name: embedder.embed([p.text_for_embedding() for p in papers])
           for name, papers in (("new", new), ("earlier", earlier), ("unrelated", unrelated))}
    cal = calibrate_threshold(vec["new"], vec["earlier"], vec["unrelated"], [p.authors for p in new],
                              [p.authors for p in earlier], k=args.k, quantile=args.quantile)
    print(f"embedder {embedder.name}; new: {len(new)} papers of {last}; earlier: {len(earlier)} cs papers of "
          f"{list(weeks)[0]}..{max(w for w in weeks if w < last)}; unrelated: {len(unrelated)} astro-ph papers")
    print(f"calibrated link_threshold = {cal.threshold:.2f} (quantile {cal.quantile}: at most "
          f"{1 - cal.quantile:.0%} of new papers reach it against the unrelated memory)")
    print(f"{'threshold':>9} {'chance':>7} {'linked':>7} {'links/paper':>11} {'shared author':>13}")
    for row in cal.rows:
        mark = "  <- calibrated" if row.threshold == cal.threshold else ""
        rate = f"{row.shared_author_rate:.1%}" if row.shared_author_rate is not None else "-"
        print(f"{row.threshold:>9.2f} {row.chance_rate:>7.1%} {row.linked:>7.1%} {row.links_per_paper:>11.2f} {rate:>13}{mark}")
    sizes = [n for n in (300, 1000) if n < len(unrelated)] + [len(unrelated)]
    drift = []
    for n in sizes:
        pick = np.array(rng.sample(range(len(unrelated)), n))
        drift.append(f"{n}: {calibrate_threshold(vec['new'], vec['earlier'][:1], vec['unrelated'][pick], quantile=args.quantile).threshold:.2f}")
    print("threshold by the size of the unrelated memory (chance matches rise with memory size): " + ", ".join(drift))
    if cal.below_shared_author_rate is not None:
        print(f"shared-author rate among top-{cal.k} candidates below the threshold: {cal.below_shared_author_rate:.1%}")


if __name__ == "__main__":
    main()
