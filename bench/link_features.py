"""What tells a reader's "related" link from a "loose" one offline: every link a blind reading judge rated
(evals/data/judge/*/key.json + verdicts.jsonl), re-embedded with memory's default embedder (or --embedder's),
and each feature's AUC at ranking the related ones first; then, for the cosine, the share judged related among
the links kept at each cut (issue 16 asks for 60% related with at most 10% unrelated).

Usage: python bench/link_features.py [--shared ../shared/data] [--embedder local|static|minilm]

Features: `cosine` of the two abstracts; `density_new` / `density_earlier`, each paper's mean cosine to its 10
nearest papers of its field (the new paper's among the 21 days before it, the earlier one's among the new
paper's week); `csls`, the cosine less both densities' mean, twice (hubness-corrected similarity, as in
cross-lingual word retrieval); `fewer_closer`, how few papers of those 21 days lie closer to the new paper than
the earlier one (the count, negated); `tfidf`, the two texts' TF-IDF cosine over word stems (idf from every paper
loaded; stems in over 5% of them left out), i.e. shared vocabulary weighted by rarity; `title` and `method`, the
cosine of the two titles, and of the two method sentences (`reviewer.key_sentence`, else the title): the
judge's "same problem, method or benchmark" may sit there rather than in the whole abstract; and `cosine+0.25·x`
for each of these. Prints figures; asserts nothing. ~40 s (embedding ~7,000 abstracts).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.link_threshold import astro_papers, cs_papers  # noqa: E402
from brief.agents.summary_roles import key_sentence  # noqa: E402
from brief.memory.embedders import make_embedder  # noqa: E402
from brief.models import Paper  # noqa: E402
from brief.phrases import stem  # noqa: E402

JUDGE = REPO / "evals" / "data" / "judge"
SETS = ("links-W24-W25", "links-astro-s37", "link-check", "links-df-s37")  # the judged links with both ids kept


def load_papers(shared: Path) -> dict[str, tuple[str, date, str, Paper]]:
    """id → (the text memory embeds, announcement day, domain, the paper): link_threshold's cs corpus and
    astro-ph days."""
    cs = [p for week in cs_papers(shared).values() for p in week]
    return {p.id: (p.text_for_embedding(), p.announced, domain, p)
            for domain, papers in (("cs", cs), ("astro", astro_papers(shared))) for p in papers if p.announced}


def stems(text: str) -> list[str]:
    return [stem(w.lower()) for w in re.findall(r"[A-Za-z][A-Za-z0-9-]+", text)]


def tfidf_cosine(texts: list[str]):
    """A function of two texts: their TF-IDF cosine (sublinear tf; idf over `texts`; stems in over 5% of them
    carry no weight)."""
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(stems(text)))
    n = len(texts)

    def vector(text: str) -> dict[str, float]:
        v = {w: (1 + math.log(c)) * math.log(n / df[w]) for w, c in Counter(stems(text)).items() if 0 < df[w] <= 0.05 * n}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / norm for w, x in v.items()}

    def cosine(a: str, b: str) -> float:
        va, vb = vector(a), vector(b)
        return sum(x * vb.get(w, 0.0) for w, x in va.items())
    return cosine


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
    ap.add_argument("--embedder", default="local", choices=["local", "static", "minilm"],
                    help="memory's embedder to re-embed with (default: the default one)")
    args = ap.parse_args()
    papers = load_papers(args.shared)
    links = judged_links(papers)
    near = {pid for pid, (_, day, field, _) in papers.items()
            if any(field == papers[a][2] and 0 <= (papers[a][1] - day).days <= 21 for a, *_ in links)}
    ids = sorted(near | {p for a, b, *_ in links for p in (a, b)})
    print(f"{len(links)} judged links from {', '.join(SETS)}; embedding {len(ids)} abstracts …", flush=True)
    embedder = make_embedder(args.embedder, Path.home() / ".cache" / "brief-bench")
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    vectors = unit(embedder.embed([papers[i][0] for i in ids]))
    row = {pid: n for n, pid in enumerate(ids)}
    pair_ids = sorted({p for a, b, *_ in links for p in (a, b)})
    pair_row = {pid: n for n, pid in enumerate(pair_ids)}
    titles = unit(embedder.embed([papers[i][3].title for i in pair_ids]))
    methods = unit(embedder.embed([key_sentence(papers[i][3]) or papers[i][3].title for i in pair_ids]))
    lexical = tfidf_cosine([text for text, *_ in papers.values()])
    rows = []
    for new, earlier, verdict, name in links:
        day, field = papers[new][1], papers[new][2]
        before = [row[p] for p in ids if papers[p][2] == field and 1 <= (day - papers[p][1]).days <= 21 and p != earlier]
        week = [row[p] for p in ids if papers[p][2] == field and abs((day - papers[p][1]).days) <= 3 and p != new]
        a, b = vectors[row[new]], vectors[row[earlier]]
        cosine = float(a @ b)
        to_before, to_week = np.sort(vectors[before] @ a)[::-1], np.sort(vectors[week] @ b)[::-1]
        density_new, density_earlier = float(to_before[:10].mean()), float(to_week[:10].mean())
        i, j = pair_row[new], pair_row[earlier]
        rows.append({"set": name, "verdict": verdict, "cosine": cosine, "density_new": density_new,
                     "density_earlier": density_earlier, "csls": 2 * cosine - density_new - density_earlier,
                     "fewer_closer": -float((to_before > cosine).sum()), "tfidf": lexical(papers[new][0], papers[earlier][0]),
                     "title": float(titles[i] @ titles[j]), "method": float(methods[i] @ methods[j])})
    for r in rows:
        for extra in ("tfidf", "title", "method"):
            r[f"cosine+0.25·{extra}"] = r["cosine"] + 0.25 * r[extra]
    related = [r["verdict"] == "related" for r in rows]
    print(f"{sum(related)} related, {sum(r['verdict'] == 'loose' for r in rows)} loose, "
          f"{sum(r['verdict'] == 'unrelated' for r in rows)} unrelated\n\nAUC at ranking the related links first:")
    rated = [name for name in SETS if any(r["set"] == name and r["verdict"] == "related" for r in rows)]
    for feature in ("cosine", "density_new", "density_earlier", "csls", "fewer_closer", "tfidf", "title", "method",
                    "cosine+0.25·tfidf", "cosine+0.25·title", "cosine+0.25·method"):
        per_set = {name: round(auc([r[feature] for r in rows if r["set"] == name],
                                   [r["verdict"] == "related" for r in rows if r["set"] == name]), 2) for name in rated}
        print(f"  {feature:<16} {auc([r[feature] for r in rows], related):.3f}   per set {per_set}")
    for feature in ("cosine", "cosine+0.25·method"):
        print(f"\nlinks kept at a cut of {feature} (the strongest share of them):")
        values = np.array([r[feature] for r in rows])
        for keep in (1.0, 0.8, 0.6, 0.4, 0.3, 0.2):
            cut = float(np.quantile(values, 1 - keep))
            kept = [r for r in rows if r[feature] >= cut]
            print(f"  top {keep:4.0%} (≥ {cut:.3f}): {len(kept):3d} links, "
                  f"{np.mean([r['verdict'] == 'related' for r in kept]):.0%} related, "
                  f"{np.mean([r['verdict'] == 'unrelated' for r in kept]):.0%} unrelated")


if __name__ == "__main__":
    main()
