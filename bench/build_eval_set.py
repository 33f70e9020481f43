"""Build the small labelled set shipped in evals/data from ../shared/data/screening (run once; commit its output).

    python bench/build_eval_set.py [--shared ../shared/data/screening] [--out evals/data]

Two collections, each with its criteria converted to brief's TOML form:
- astro: cgarling astro-ph, 4 weeks (2026-W05..W08), a random sample of every week's scored candidates;
  label = gpt-4.1 RELEVANCE >= 7 (unscored candidates are absent: missing is unknown, not negative).
- cs: the cs.AI/cs.CV silver set, 3 weeks (2026-W20..W22), a random sample per week; label = kept by the
  JackYFL screener (gpt-4.1) with RELEVANCE >= 7, the stricter class its README suggests: its permissive
  keeps (>= 3) put topic similarity at chance. Its negatives include papers an h-index pre-filter dropped
  unread: precision is a lower bound there, recall is trustworthy.
Samples are uniform within each week, so each week keeps its real share of positives. The criteria files
carry no [screening] section: `brief eval` screens the shipped set with brief's defaults, not tuned to it.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date
from pathlib import Path

from brief.config import Criteria
from brief.evals.criteria import gold_topic, parse_topics_text
from brief.evals.datasets import load
from brief.sources.window import week_of

REPO = Path(__file__).resolve().parents[1]
SEED = 20260301
PLAN = {
    "astro": {
        "files": "cgarling_astro-ph/daily_output_json/*.json",
        "topics": "cgarling_astro-ph/configs_and_prompts/paper_topics.txt",
        "threshold": 7,
        "weeks": ["2026-W05", "2026-W06", "2026-W07", "2026-W08"],
        "per_week": 95,
        "categories": ["astro-ph"],
        "about": "cgarling astro-ph (gpt-4.1 RELEVANCE >= 7), 2026-W05..W08, uniform sample per week",
    },
    "cs": {
        "files": "jackyfl_x_eclipse_silver/silver_2026-05.jsonl",
        "topics": "jackyfl_x_eclipse_silver/criteria_configs/paper_topics.txt",
        "threshold": 7,
        "weeks": ["2026-W20", "2026-W21", "2026-W22"],
        "per_week": 125,
        "categories": None,
        # the file's topics are unnamed sentences: short names make per-topic tables readable
        "names": ["Spatial intelligence for embodied agents", "New VLLMs and MLLMs",
                  "Embodied AI benchmarks and methods", "Vision foundation models"],
        "about": "cs.AI/cs.CV silver (kept by the JackYFL gpt-4.1 screener with RELEVANCE >= 7), 2026-W20..W22, uniform sample per week",
    },
}


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def criteria_toml(criteria: Criteria, about: str) -> str:
    lines = [f"# {about}", "# Built by bench/build_eval_set.py from the set's own paper_topics.txt.", "", "[criteria]"]
    for key in ("authors", "include_keywords", "exclude_keywords", "interests"):
        lines.append(f"{key} = {toml_value(getattr(criteria, key))}")
    for topic in criteria.topics:
        lines += ["", "[[criteria.topics]]"]
        for key, value in topic.model_dump(exclude_none=True).items():
            if value not in ("", []):
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def build(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, plan in PLAN.items():
        criteria = parse_topics_text((shared / plan["topics"]).read_text(encoding="utf-8"))
        for topic, new_name in zip(criteria.topics, plan.get("names", [])):
            topic.name = new_name
        raw = {}
        for path in sorted(shared.glob(plan["files"])):  # the COMMENT names the matched topic
            if path.suffix == ".jsonl":
                recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            else:
                recs = [{"id": k, **v} for k, v in json.loads(path.read_text()).items()]
            for rec in recs:
                raw.setdefault(str(rec.get("arxiv_id") or rec.get("id")), rec)
        dataset = load(str(shared / plan["files"]), criteria, positive_threshold=plan["threshold"])
        rng = random.Random(f"{SEED}:{name}")
        rows = []
        for week in plan["weeks"]:
            in_week = sorted((i for i in dataset.items if i.week == week), key=lambda i: i.paper.id)
            for item in sorted(rng.sample(in_week, min(plan["per_week"], len(in_week))), key=lambda i: i.paper.id):
                p = item.paper
                rec = raw.get(p.id, {})
                rows.append({
                    "id": p.id, "title": p.title, "abstract": p.abstract, "authors": p.authors[:12],
                    "categories": plan["categories"] or p.categories, "date": (p.announced or date.min).isoformat(),
                    "label": item.label, "relevance": item.relevance,
                    "topic": gold_topic(rec.get("COMMENT"), criteria) if item.label else None,
                })
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        (out / f"{name}.criteria.toml").write_text(criteria_toml(criteria, plan["about"]), encoding="utf-8")
        by_week = {w: (sum(1 for r in rows if week_of(date.fromisoformat(r["date"])) == w),
                       sum(r["label"] for r in rows if week_of(date.fromisoformat(r["date"])) == w)) for w in plan["weeks"]}
        print(f"{name}: {len(rows)} papers, {sum(r['label'] for r in rows)} positive; per week (papers, positives): {by_week}")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"{out}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data" / "screening")
    ap.add_argument("--out", type=Path, default=REPO / "evals" / "data")
    args = ap.parse_args()
    build(args.shared, args.out)
