"""What tells a reader's "related" link from a "loose" one offline: every link a blind reading judge rated
(evals/data/judge/*/key.json + verdicts.jsonl), re-embedded with memory's default embedder, and each feature's
AUC at ranking the related ones first; then, for the cosine, the share judged related among the links kept at
each cut (issue 16 asks for 60% related with at most 10% unrelated).

Usage: python bench/link_features.py [--shared ../shared/data]

Features: `cosine` of the two abstracts; `density_new` / `density_earlier`, each paper's mean cosine to its 10
nearest papers of its field (the new paper's among the 21 days before it, the earlier one's among the new
paper's week); `csls`, the cosine less both densities' mean, twice (hubness-corrected similarity, as in
cross-lingual word retrieval); `fewer_closer`, how few papers of those 21 days lie closer to the new paper than
the earlier one (the count, negated). Prints figures; asserts nothing. ~30 s (embedding ~7,000 abstracts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.link_threshold import astro_papers, cs_papers  # noqa: E402
from brief.memory.embedders import make_embedder  # noqa: E402

JUDGE = REPO / "evals" / "data" / "judge"
SETS = ("links-W24-W25", "links-astro-s37", "link-check", "links-df-s37")  # the judged links with both ids kept


def load_papers(shared: Path) -> dict[str, tuple[str, date, str]]:
    """id → (the text memory embeds, announcement day, domain): link_threshold's cs corpus and astro-ph days."""
    cs = [p for week in cs_papers(shared).values() for p in week]
    return {p.id: (p.text_for_embedding(), p.announced, domain)
            for domain, papers in (("cs", cs), ("astro", astro_papers(shared))) for p in papers if p.announced}


def judged_links(papers: dict) -> list[tuple[str, str, str, str]]:
    """(new id, earlier id, verdict, set) for every judged link whose papers are both in the data."""
    out = []
    for name in SETS:
        key = json.loads((JUDGE / name / "key.json").read_text())
        verdicts = {str(v["item"]): v["verdict"].split()[0]
                    for v in map(json.loads, (JUDGE / name / "verdicts.jsonl").read_text().splitlines()) if v.get("verdict")}
        for item in key["links"] if isinstance(key, dict) else key:
            if str(item["item"]) in verdicts and item["new"] in papers and item["earlier"] in papers:
                out.append((item["new"], item["earlier"], verdicts[str(item["item"])], name))
    return out


def auc(scores: list[float], positive: list[bool]) -> float:
    pos = [s for s, p in zip(scores, positive) if p]
    neg = [s for s, p in zip(scores, positive) if not p]
    return float(np.mean([(a > b) + 0.5 * (a == b) for a in pos for b in neg])) if pos and neg else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    papers = load_papers(args.shared)
    links = judged_links(papers)
    near = {pid for pid, (_, day, field) in papers.items()
            if any(field == papers[a][2] and 0 <= (papers[a][1] - day).days <= 21 for a, *_ in links)}
    ids = sorted(near | {p for a, b, *_ in links for p in (a, b)})
    print(f"{len(links)} judged links from {', '.join(SETS)}; embedding {len(ids)} abstracts …", flush=True)
    vectors = make_embedder("local", Path.home() / ".cache" / "brief-bench").embed([papers[i][0] for i in ids])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    row = {pid: n for n, pid in enumerate(ids)}
    rows = []
    for new, earlier, verdict, name in links:
        day, field = papers[new][1], papers[new][2]
        before = [row[p] for p in ids if papers[p][2] == field and 1 <= (day - papers[p][1]).days <= 21 and p != earlier]
        week = [row[p] for p in ids if papers[p][2] == field and abs((day - papers[p][1]).days) <= 3 and p != new]
        a, b = vectors[row[new]], vectors[row[earlier]]
        cosine = float(a @ b)
        to_before, to_week = np.sort(vectors[before] @ a)[::-1], np.sort(vectors[week] @ b)[::-1]
        density_new, density_earlier = float(to_before[:10].mean()), float(to_week[:10].mean())
        rows.append({"set": name, "verdict": verdict, "cosine": cosine, "density_new": density_new,
                     "density_earlier": density_earlier, "csls": 2 * cosine - density_new - density_earlier,
                     "fewer_closer": -float((to_before > cosine).sum())})
    related = [r["verdict"] == "related" for r in rows]
    print(f"{sum(related)} related, {sum(r['verdict'] == 'loose' for r in rows)} loose, "
          f"{sum(r['verdict'] == 'unrelated' for r in rows)} unrelated\n\nAUC at ranking the related links first:")
    rated = [name for name in SETS if any(r["set"] == name and r["verdict"] == "related" for r in rows)]
    for feature in ("cosine", "density_new", "density_earlier", "csls", "fewer_closer"):
        per_set = {name: round(auc([r[feature] for r in rows if r["set"] == name],
                                   [r["verdict"] == "related" for r in rows if r["set"] == name]), 2) for name in rated}
        print(f"  {feature:<16} {auc([r[feature] for r in rows], related):.3f}   per set {per_set}")
    print("\nlinks kept at a cosine cut (the strongest share of them):")
    cosines = np.array([r["cosine"] for r in rows])
    for keep in (1.0, 0.8, 0.6, 0.4, 0.3, 0.2):
        cut = float(np.quantile(cosines, 1 - keep))
        kept = [r for r in rows if r["cosine"] >= cut]
        print(f"  top {keep:4.0%} (cosine ≥ {cut:.3f}): {len(kept):3d} links, "
              f"{np.mean([r['verdict'] == 'related' for r in kept]):.0%} related, "
              f"{np.mean([r['verdict'] == 'unrelated' for r in kept]):.0%} unrelated")


if __name__ == "__main__":
    main()
