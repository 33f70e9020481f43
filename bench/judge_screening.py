"""A reading judge for a finished offline run: precision and estimated recall of its screening decisions.

No LLM exists here to judge screening, but a person (or a helper) can read. For a briefing JSON this
writes the strata to judge — every accept, the top-scored rejects in full, a seeded random sample of the
other rejects — and one blind reading sheet (ids, titles, abstracts, the criteria; shuffled, no decisions or
scores, several briefings' papers judged once). From a verdicts JSONL (`{"id", "relevant", "reason"}`) it
computes precision of the accepts and recall estimated with the strata's weights, with 95% intervals.

    python bench/judge_screening.py packet --briefing out/2026-W25.json --source CORPUS_DIR \
        --config criteria.toml --out evals/data/judge/a-W25 [--verdicts known.jsonl]
    python bench/judge_screening.py score --strata evals/data/judge/a-W25/W25-after.strata.json \
        --verdicts evals/data/judge/verdicts-a.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import numpy as np

from brief.agents.screener import topics_text
from brief.evals.criteria import load_criteria

TOP_REJECTS = 20
REST_SAMPLE = 40
_SIMILARITY = re.compile(r"similarity (-?\d+\.\d+)")


def corpus(source: Path) -> dict[str, dict]:
    """id → {title, abstract} from daily JSONL files (`summary` or `abstract` is the abstract)."""
    papers: dict[str, dict] = {}
    for path in sorted(source.glob("*.jsonl")) if source.is_dir() else [source]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                papers.setdefault(str(rec["id"]), {"title": rec.get("title", ""),
                                                   "abstract": rec.get("summary") or rec.get("abstract", "")})
    return papers


def reject_score(rej: dict) -> float:
    """A reject's stage-1 score: the briefing's `score`, else the similarity its reason states, else relevance."""
    if rej.get("score"):
        return float(rej["score"])
    found = _SIMILARITY.search(rej.get("reason", ""))
    return float(found.group(1)) if found else rej.get("relevance", 0) / 10


def strata(briefing: dict, seed: str) -> dict:
    accepts = [p["id"] for p in briefing["accepted"]]
    rejects = sorted(briefing["rejected"], key=lambda r: (-reject_score(r), r["id"]))
    top = [r["id"] for r in rejects[:TOP_REJECTS]]
    rest = sorted(r["id"] for r in rejects[TOP_REJECTS:])
    sample = sorted(random.Random(f"judge|{seed}").sample(rest, min(REST_SAMPLE, len(rest))))
    return {"week": briefing["week"], "accept": accepts, "accept_topic": {p["id"]: p.get("topic") for p in briefing["accepted"]},
            "top": top, "rest_sample": sample, "rest_total": len(rest),
            "per_topic": (briefing.get("screening") or {}).get("per_topic", [])}


def packet(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    criteria, _ = load_criteria(Path(args.config))
    papers = corpus(Path(args.source))
    known = set(load_verdicts(Path(args.verdicts))) if args.verdicts and Path(args.verdicts).exists() else set()
    wanted: set[str] = set()
    for path, name in zip(args.briefing, args.name or [Path(b).stem for b in args.briefing]):
        briefing = json.loads(Path(path).read_text())
        s = strata(briefing, seed=briefing["week"])  # the same draw for every run of a week: fewer papers to read
        (out / f"{name}.strata.json").write_text(json.dumps(s, indent=1) + "\n")
        wanted |= set(s["accept"]) | set(s["top"]) | set(s["rest_sample"])
    todo = sorted(wanted - known)
    random.Random(f"sheet|{args.out}").shuffle(todo)
    lines = ["# Reading sheet (blind: no decisions, no scores)", "", "## Criteria", "", topics_text(criteria.topics), ""]
    for n, pid in enumerate(todo, 1):
        p = papers.get(pid, {"title": "(not in the source)", "abstract": ""})
        abstract = " ".join(p["abstract"].split())
        lines += [f"## {n}. {pid}", f"**{p['title']}**", "", abstract[:args.chars] + ("…" if len(abstract) > args.chars else ""), ""]
    (out / "sheet.md").write_text("\n".join(lines))
    print(f"{len(todo)} papers to judge ({len(wanted) - len(todo)} already judged) → {out / 'sheet.md'}")


def load_verdicts(path: Path) -> dict[str, bool]:
    verdicts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            verdicts[str(rec["id"])] = bool(rec["relevant"])
    return verdicts


def estimate(s: dict, verdicts: dict[str, bool], draws: int = 2000, seed: int = 0) -> dict:
    """Precision of the accepts; recall = relevant accepts / (relevant accepts + relevant top rejects +
    the rest's sampled rate × its size); 95% intervals by a stratified bootstrap."""
    missing = [pid for pid in s["accept"] + s["top"] + s["rest_sample"] if pid not in verdicts]
    if missing:
        raise SystemExit(f"{len(missing)} papers have no verdict, e.g. {missing[:3]}")
    acc = np.array([verdicts[p] for p in s["accept"]], dtype=float)
    top = np.array([verdicts[p] for p in s["top"]], dtype=float)
    rest = np.array([verdicts[p] for p in s["rest_sample"]], dtype=float)

    def figures(a, t, r):
        found = a.sum()
        total = found + t.sum() + (r.mean() * s["rest_total"] if len(r) else 0.0)
        return (a.mean() if len(a) else float("nan")), (found / total if total else float("nan"))

    precision, recall = figures(acc, top, rest)
    rng = np.random.default_rng(seed)
    boot = [figures(rng.choice(acc, len(acc)) if len(acc) else acc, t=top,
                    r=rng.choice(rest, len(rest)) if len(rest) else rest) for _ in range(draws)]
    lo_p, hi_p = np.nanpercentile([b[0] for b in boot], [2.5, 97.5])
    lo_r, hi_r = np.nanpercentile([b[1] for b in boot], [2.5, 97.5])
    per_topic: dict[str, list[int]] = {}
    for pid in s["accept"]:
        per_topic.setdefault(s["accept_topic"].get(pid) or "(author)", [0, 0])
        per_topic[s["accept_topic"].get(pid) or "(author)"][0] += 1
        per_topic[s["accept_topic"].get(pid) or "(author)"][1] += int(verdicts[pid])
    return {"week": s["week"], "accepted": len(acc), "precision": round(float(precision), 3),
            "precision_ci": [round(float(lo_p), 3), round(float(hi_p), 3)], "recall": round(float(recall), 3),
            "recall_ci": [round(float(lo_r), 3), round(float(hi_r), 3)],
            "relevant_top_rejects": int(top.sum()), "rest_rate": round(float(rest.mean()), 3) if len(rest) else None,
            "rest_total": s["rest_total"], "accepts_relevant_by_topic": per_topic}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("packet")
    p.add_argument("--briefing", action="append", required=True)
    p.add_argument("--name", action="append", help="one per --briefing (default: the file's stem)")
    p.add_argument("--source", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--verdicts", help="papers already judged are left off the sheet")
    p.add_argument("--chars", type=int, default=100_000, help="abstract characters shown (default: all)")
    s = sub.add_parser("score")
    s.add_argument("--strata", action="append", required=True)
    s.add_argument("--verdicts", required=True)
    args = parser.parse_args()
    if args.command == "packet":
        packet(args)
        return
    verdicts = load_verdicts(Path(args.verdicts))
    for path in args.strata:
        print(json.dumps({"strata": Path(path).name, **estimate(json.loads(Path(path).read_text()), verdicts)}))


if __name__ == "__main__":
    main()
