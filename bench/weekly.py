"""A weekly run at real volume against its limits: 3,000 papers, a scripted LLM with a set latency.

Usage: python bench/weekly.py [--shared ../shared/data] [--papers 3000] [--latency 0.3] [--json FILE] [--timeline]

What it does, all offline:
1. Builds a 3,000-paper week (2026-W26) from the unique papers of ../shared's eclipse0922 arXiv corpus
   (several real weeks merged, spread over five announcement days), and two 1,700-paper history weeks before it.
2. Starts the scripted OpenAI-compatible server (tests/scripted_llm.py) in this process: it answers like a
   consistent judge (relevance 8 when a paper's title names one of the demo config's four topics and the
   paper is in that topic's field, else 2) with answers as long as a real model's (summaries from the
   abstract's sentences, ~200-word themes), and counts usage as chars/4. Each answer comes `--latency`
   seconds after its request arrived, as a remote model's would.
3. Runs the history weeks once (they teach stage 1 and fill memory), then each measured run as its own
   `run_weekly` process on a copy of that memory (so peak RSS and imports are the run's own):
     overhead   latency 0, concurrency 16  → the time that is ours: everything but waiting for the model
     c1 / c16   latency --latency, concurrency 1 and 16 → wall vs ideal (calls x latency / concurrency)
     no-prefilter, all-LLM batch-of-5 (full abstracts, the seed digest's method) → tokens per fetched paper
4. Prints wall per stage, LLM calls, tokens, the ideal, the ratio, peak RSS, the speedup and the targets.

The demo config is used as a user would have it (max 30 accepted a week), with model prices of gpt-4o-mini
and a provider limit of 10,000 requests a minute (set --rpm).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from brief.text import sentences  # noqa: E402
from tests.handlers import CITED, each_paper  # noqa: E402
from tests.scripted_llm import ScriptedLLMServer, ScriptedRequest  # noqa: E402

CORPUS = "corpus/eclipse0922_en_csLG-csCV-csAI-csRO"
WEEK = "2026-W26"
WEEK_DAYS = ["2026-06-22", "2026-06-23", "2026-06-24", "2026-06-25", "2026-06-26"]
HISTORY = {"2026-W24": ["2026-06-08", "2026-06-09", "2026-06-10", "2026-06-11", "2026-06-12"],
           "2026-W25": ["2026-06-15", "2026-06-16", "2026-06-17", "2026-06-18", "2026-06-19"]}
# The judge: the demo config's four topics as a careful reader of titles applies them. A title term alone
# is not enough (an "image manipulation" detector is not robot manipulation, a "web navigation" agent is
# not a mobile robot), so each topic also needs one of its fields among the paper's categories.
TOPIC_RULES = {
    "Robot manipulation learning": (r"manipulat\w*|grasp\w*|dexterous|bimanual|vision-language-action|VLA|imitation learning",
                                    {"cs.RO"}),
    "Legged and mobile robot navigation": (r"locomotion|quadruped\w*|humanoid\w*|legged|navigation|mobile robots?",
                                           {"cs.RO"}),
    "3D scene understanding and reconstruction": (r"gaussian splatting|nerf|slam|point clouds?|3d reconstruction|3d scenes?|"
                                                  r"novel view synthesis", {"cs.CV", "cs.RO", "cs.GR"}),
    "World models for embodied agents": (r"world models?|video prediction|model-based reinforcement learning",
                                         {"cs.RO", "cs.LG", "cs.AI", "cs.CV"}),
}
TOPIC_RES = {name: (re.compile(rf"\b({terms})\b", re.IGNORECASE), fields) for name, (terms, fields) in TOPIC_RULES.items()}


def judge(rec: dict) -> str | None:
    """The topic a paper is relevant to (relevance 8), or None (relevance 2)."""
    cats = set(rec.get("categories") or [])
    return next((name for name, (rx, fields) in TOPIC_RES.items() if rx.search(rec["title"]) and cats & fields), None)


# -- the data ---------------------------------------------------------------------------------------------

def build_weeks(shared: Path, out: Path, papers: int, history: int) -> tuple[dict[str, str], set[str]]:
    """Write two history weeks of `history` papers and the measured week of `papers` as daily JSONL files;
    return the judge's labels ({paper id: topic} for the papers it accepts) and the measured week's accepts."""
    unique: dict[str, dict] = {}
    for path in sorted((shared / CORPUS).glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            rec = json.loads(line)
            unique.setdefault(rec["id"], rec)
    records = list(unique.values())
    if len(records) < papers + len(HISTORY) * history:
        raise SystemExit(f"the corpus has {len(records)} unique papers: fewer than --papers {papers} + 2 x --history {history}")
    out.mkdir(parents=True, exist_ok=True)
    weeks = [(WEEK_DAYS, records[:papers])]
    weeks += [(days, records[papers + i * history: papers + (i + 1) * history]) for i, days in enumerate(HISTORY.values())]
    labels = {}
    for days, chunk in weeks:
        for i, day in enumerate(days):
            lines = [json.dumps(rec) for rec in chunk[i::len(days)]]
            (out / f"{day}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        labels.update({rec["id"]: topic for rec in chunk if (topic := judge(rec))})
    return labels, {rec["id"] for rec in records[:papers] if rec["id"] in labels}


# -- the scripted model: a consistent judge with answers of a real model's length ---------------------------

def handlers(labels: dict[str, str]) -> dict:

    def screen(req: ScriptedRequest) -> dict:
        results = []
        for pid in req.paper_ids:
            topic = labels.get(pid)
            results.append({"id": pid, "relevance": 8 if topic else 2, "novelty": 6 if topic else 3,
                            "topic": topic or "none",
                            "reason": (f"The paper proposes work squarely on {topic.lower()}." if topic else
                                       "The paper's subject is outside every topic in the criteria.")})
        return {"results": results}

    def review(block: str) -> dict:
        found = re.search(r"<abstract>(.*?)</abstract>", block, re.S)
        parts = sentences(found.group(1) if found else "") + ["Not stated in the abstract."] * 4
        return {"reason": "The abstract confirms the topic match; no exclusion note applies.", "confirmed": True,
                "summary": {"tldr": parts[0], "problem": parts[1], "method": parts[2], "results": parts[3],
                            "limitations": "Not stated in the abstract."}}

    def theme(req: ScriptedRequest) -> dict:
        keys = list(dict.fromkeys(CITED.findall(req.user.split("Earlier papers from memory")[0])))
        prose = " ".join(f"One line of work [{k}] extends the theme with a new method, evaluates it against strong "
                         "baselines and reports consistent gains on the standard benchmarks of the field."
                         for k in keys[:8])
        return {"name": "Learned policies and their evaluation", "text": prose or "No papers this week."}

    def overview(req: ScriptedRequest) -> dict:
        keys = list(dict.fromkeys(CITED.findall(req.user)))[:6]
        return {"text": " ".join(f"This week's strongest signal includes [{k}], which connects to earlier work "
                                 "the memory holds and opens a comparison across fields." for k in keys)}

    def link_check(req: ScriptedRequest) -> dict:  # the same judged topic is a specific tie, else the area only
        new, *earlier = re.findall(r'<paper id="([^"]+)">', req.user)
        return {"results": [{"id": pid, "reason": "Both papers address the same task with learned policies.",
                             "tie": "same problem" if labels.get(pid) and labels.get(pid) == labels.get(new)
                             else "same area only"} for pid in earlier]}

    return {"ScreenBatch": screen, "ReviewBatch": each_paper(review), "ThemeDraft": theme, "Overview": overview,
            "LinkCheck": link_check}


# -- one measured run, in its own process ----------------------------------------------------------------

def child(spec: dict) -> None:
    """Run one week as `brief weekly` would, and print what was measured as one JSON line."""
    import resource

    from pydantic import SecretStr

    from brief.config_file import load_settings
    from brief.app.runner import run_weekly
    from brief.sources.window import parse_week

    base = load_settings(None, env={})
    llm = base.llm.model_copy(update={
        "base_url": spec["base_url"], "api_key": SecretStr("bench-key"), "model": "gpt-4o-mini",
        "concurrency": spec["concurrency"], "requests_per_minute": spec["rpm"], "max_retries": 0,
        "timeout_seconds": 120, **({"batch_size": spec["batch_size"]} if spec.get("batch_size") else {})})
    screening = base.screening.model_copy(update=spec.get("screening", {}))
    root = Path(spec["root"])
    settings = base.model_copy(update={
        "llm": llm, "screening": screening, "out_dir": root / "briefings",
        "memory": base.memory.model_copy(update={"dir": root / "memory", "cache_dir": root / "cache"})})
    started = time.perf_counter()
    state = run_weekly(settings, parse_week(spec["week"]), [f"snapshot:{spec['snapshot']}"]).state
    wall = time.perf_counter() - started
    stages = {name: s.model_dump() for name, s in state.usage.stages.items()}
    print(json.dumps({
        "wall": wall, "timings": state.timings, "usage": stages, "fetched": len(state.papers),
        "sent": state.screen_stats.sent if state.screen_stats else 0,
        "screen_stats": state.screen_stats.model_dump() if state.screen_stats else None,
        "judged": sorted(pid for pid, d in state.decisions.items() if d.stage in ("llm", "author")),
        "stage1_scores": {s.paper_id: s.score for s in state.scores},
        "accepted": len(state.accepted), "accepted_ids": sorted(p.id for p in state.accepted), "themes": len(state.themes), "embedded": state.usage.embedded,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _kind(request: ScriptedRequest) -> str:
    """A call's kind for the timeline: its schema, and for screening whether it was a first look (abstracts cut)."""
    first_look = request.schema_name == "ScreenBatch" and "[abstract cut short]" in request.user
    return (request.schema_name or "text") + (" first look" if first_look else "")


def run(spec: dict, server: ScriptedLLMServer, positives: set[str]) -> dict:
    """One measured run: a fresh copy of the history memory, a child process, the server's own counters."""
    root = Path(spec["root"])
    shutil.copytree(spec["history"], root)
    (root / "memory" / "llm-cache.sqlite").unlink(missing_ok=True)  # no answers from an earlier run
    calls, tokens_in, tokens_out = server.calls, server.prompt_tokens, server.completion_tokens
    first_request = len(server.requests)
    started = time.perf_counter()
    command = [sys.executable, __file__, "--child", json.dumps(spec)]
    if spec.get("profile"):  # every thread sampled, the waits on the model left out (py-spy's default)
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        command = [spy, "record", "--rate", "50", "--format", "raw", "--output", spec["profile"], "--", *command]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"run {spec['name']} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(next(line for line in reversed(proc.stdout.splitlines()) if line.startswith("{")))
    out.update(name=spec["name"], process_wall=time.perf_counter() - started, calls=server.calls - calls,
               tokens_in=server.prompt_tokens - tokens_in, tokens_out=server.completion_tokens - tokens_out,
               latency=server.latency, concurrency=spec["concurrency"])
    out["ideal"] = out["calls"] * out["latency"] / out["concurrency"]
    chats = [r for r in server.requests[first_request:] if r.mode != "embeddings"]
    start = min((r.arrived for r in chats), default=0.0)
    out["arrivals"] = sorted((round(r.arrived - start, 4), _kind(r)) for r in chats)
    judged = set(out.pop("judged"))
    out["stage1_recall"] = len(positives & judged) / max(1, len(positives))  # of the judge's accepts, sent to it
    scores = out.pop("stage1_scores")
    if scores:  # what the best cut of the same ranking would have sent for recall 0.95: the cut's own slack
        from brief.agents.prefilter import share_for_recall
        ids = sorted(scores)
        out["best_share"] = share_for_recall(np.array([scores[i] for i in ids]), np.array([i in positives for i in ids], int))
    shutil.rmtree(root, ignore_errors=True)
    return out


# -- the invocation --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--papers", type=int, default=3000)
    ap.add_argument("--history", type=int, default=1700, help="papers in each of the two history weeks")
    ap.add_argument("--latency", type=float, default=0.3, help="seconds the scripted model takes per call")
    ap.add_argument("--rpm", type=float, default=10000.0, help="the provider's requests-per-minute limit")
    ap.add_argument("--json", type=Path, help="also save every figure here")
    ap.add_argument("--profile", nargs="*", default=[], metavar="RUN",
                    help="sample these runs with py-spy (pip install py-spy) into RUN.profile.txt: collapsed stacks")
    ap.add_argument("--only", nargs="*", metavar="RUN", help="measure only these runs (overhead always runs)")
    ap.add_argument("--screening", nargs="*", default=[], metavar="KEY=VALUE",
                    help="[screening] settings for every run, e.g. audit_sample=80 (values read as JSON)")
    ap.add_argument("--history-all-llm", action="store_true",
                    help="the LLM judges every history paper (unbiased labels for stage 1; a user's --no-prefilter weeks)")
    ap.add_argument("--timeline", action="store_true",
                    help="print when each run's calls arrived at the model, a line per --latency seconds: the waves")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(json.loads(args.child))

    from bench.weekly_report import print_report  # noqa: PLC0415 - the child never needs it

    with tempfile.TemporaryDirectory(prefix="brief-bench-weekly-") as tmp:
        tmp = Path(tmp)
        labels, week_positives = build_weeks(args.shared, tmp / "snapshot", args.papers, args.history)
        with ScriptedLLMServer(handlers=handlers(labels)) as server:
            overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.screening)}
            common = {"base_url": server.base_url, "snapshot": str(tmp / "snapshot"), "rpm": args.rpm,
                      "history": str(tmp / "history")}
            for week in HISTORY:
                print(f"history {week} ({args.history} papers) into memory …", flush=True)
                history = dict(common, name="history", root=str(tmp / "history"), week=week, concurrency=16,
                               screening={**overrides, "prefilter": not args.history_all_llm})
                proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(history)], capture_output=True, text=True)
                if proc.returncode:
                    raise SystemExit(f"history {week} failed:\n{proc.stderr[-3000:]}")
            plan = [
                ("overhead", 0.0, 16, {}),
                ("c1", args.latency, 1, {}),
                ("c16", args.latency, 16, {}),
                ("no-prefilter", 0.0, 16, {"screening": {"prefilter": False}}),
                ("all-LLM batch-of-5", 0.0, 16, {"screening": {"prefilter": False, "brief_band": 0.0}, "batch_size": 5}),
            ]
            results = []
            for name, latency, concurrency, extra in plan:
                if args.only and name not in args.only and name != "overhead":
                    continue
                if name in args.profile:
                    extra = dict(extra, profile=str(Path(f"{name}.profile.txt").resolve()))
                print(f"run {name}: latency {latency} s, concurrency {concurrency} …", flush=True)
                server.latency = latency
                extra = dict(extra, screening={**overrides, **extra.get("screening", {})})
                spec = dict(common, name=name, root=str(tmp / name), week=WEEK, concurrency=concurrency, **extra)
                results.append(run(spec, server, week_positives))
    figures = print_report(results, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
        print(f"saved {args.json}")


if __name__ == "__main__":
    main()
