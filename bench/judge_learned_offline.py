"""A blind reading sheet for one offline week, decided with and without stage 1's learned ranking.

Usage: python bench/judge_learned_offline.py [--shared ../shared/data] [--out evals/data/judge/learned-offline]

W22 and W23 (300 papers each from ../shared's eclipse0922 corpus) are screened by the scripted model
answering as bench/weekly.py's title judge, so memory holds their decisions; W24 then runs offline into that
memory (the learned ranking decides) and into an empty one (the criteria's evidence decides). The union of
both runs' accepts goes to OUT/packet.md (shuffled, no run shown) and the runs to OUT/key.json; a judge
reads the packet and writes OUT/verdicts.jsonl (OUT/README.md says how, and how to score it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from brief.agents.screener import topics_text  # noqa: E402
from brief.app.runner import run_weekly  # noqa: E402
from brief.sources.window import parse_week  # noqa: E402
from tests.handlers import brief_handlers  # noqa: E402
from tests.integration.screening_weeks import screening_settings, write_weeks  # noqa: E402
from tests.scripted_llm import ScriptedLLMServer  # noqa: E402


def title_judge():
    spec = importlib.util.spec_from_file_location("bench_weekly", REPO / "bench" / "weekly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.judge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "evals" / "data" / "judge" / "learned-offline")
    args = ap.parse_args()
    judge = title_judge()
    root = Path(tempfile.mkdtemp(prefix="brief-judge-"))
    write_weeks(args.shared, root / "snapshot", ["2026-W22", "2026-W23", "2026-W24"])
    records = {}
    for path in (root / "snapshot").glob("*.jsonl"):
        for line in path.open(encoding="utf-8"):
            rec = json.loads(line)
            records[rec["id"]] = rec
    labels = {pid: 8 if judge(rec) else 2 for pid, rec in records.items()}
    source = [f"snapshot:{root / 'snapshot'}"]
    with ScriptedLLMServer(handlers=brief_handlers(labels, "Robot manipulation learning")) as srv:
        taught = screening_settings(root / "taught", root / "cache", srv.base_url)
        for week in ("2026-W22", "2026-W23"):
            run_weekly(taught, parse_week(week), source)
    cold = screening_settings(root / "cold", root / "cache", "http://127.0.0.1:9/v1")

    def offline(settings):
        return settings.model_copy(update={"offline": True, "screening": settings.screening.model_copy(update={"max_accepted": 30})})

    after = run_weekly(offline(taught), parse_week("2026-W24"), source).state
    before = run_weekly(offline(cold), parse_week("2026-W24"), source).state
    runs = {name: {pid for pid, d in state.decisions.items() if d.accepted} for name, state in (("after", after), ("before", before))}
    print(f"after: {len(runs['after'])} accepted ({after.screen_stats.ranker}); before: {len(runs['before'])} "
          f"({before.screen_stats.ranker}); {len(runs['after'] & runs['before'])} in common")
    items = sorted(runs["after"] | runs["before"])
    random.Random(27).shuffle(items)
    lines = ["# Reading sheet: is each paper relevant to the researcher's criteria?", "", "## Criteria", "",
             topics_text(taught.criteria.topics), ""]
    key = []
    for n, pid in enumerate(items, 1):
        rec = records[pid]
        lines += [f"### P{n}", f"**{rec['title']}**", "", (rec.get("summary") or "")[:700], ""]
        key.append({"item": f"P{n}", "id": pid, "after": pid in runs["after"], "before": pid in runs["before"],
                    "bench_judge": bool(judge(rec))})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "packet.md").write_text("\n".join(lines), encoding="utf-8")
    (args.out / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    print(f"{len(items)} papers → {args.out}/packet.md (key apart: key.json)")


if __name__ == "__main__":
    main()
