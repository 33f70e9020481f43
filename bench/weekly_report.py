"""Prints bench/weekly.py's figures: runs, stages, tokens per fetched paper, and each target met or missed."""

from __future__ import annotations

import os
import platform

STAGES = ["fetch", "screen", "review", "remember", "link", "synthesise", "write"]
RUNS = ["overhead", "c1", "c16", "no-prefilter", "all-LLM batch-of-5"]  # the targets need every one


def _tokens(run: dict, stage: str | None = None) -> int:
    stages = [run["usage"].get(stage, {})] if stage else run["usage"].values()
    return sum(s.get("input_tokens", 0) + s.get("output_tokens", 0) for s in stages)


def _model_time(run: dict) -> float:
    """Wall seconds with at least one call in flight, per stage, summed over the stages (they never overlap)."""
    return sum(s.get("seconds", 0.0) for s in run["usage"].values())


def _cost(run: dict) -> float:
    return sum(s.get("cost_usd", 0.0) for s in run["usage"].values())


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load {os.getloadavg()[0]:.1f} at the end"


def print_timeline(results: list[dict]) -> None:
    """Each run's calls by the slot of `latency` seconds they arrived in: a call can only wait on calls of
    earlier slots, so the slots with calls in them are the run's dependent rounds (at most). At concurrency 1
    every call is a round of its own: those runs are left out."""
    for r in results:
        if not r["latency"] or not r["arrivals"] or r["concurrency"] == 1:
            continue
        slots: dict[int, dict[str, int]] = {}
        spread: dict[int, list[float]] = {}  # when each slot's calls arrived
        for at, kind in r["arrivals"]:
            slot = slots.setdefault(int(at / r["latency"]), {})
            slot[kind] = slot.get(kind, 0) + 1
            spread.setdefault(int(at / r["latency"]), []).append(at)
        print(f"\ncalls by arrival, {r['name']} ({len(slots)} slots of {r['latency']} s with calls; model time "
              f"{_model_time(r):.1f} s = {_model_time(r) / r['latency']:.1f} latencies):")
        for slot, kinds in sorted(slots.items()):
            first, last = min(spread[slot]), max(spread[slot])
            print(f"  {slot * r['latency']:5.1f} s  " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
                  + f"  (arrived {first:.3f}-{last:.3f} s)")


def print_report(results: list[dict], args) -> dict:
    by = {r["name"]: r for r in results}
    print(f"\nmachine: {_machine()}")
    print(f"week: {by.get('c16', results[0])['fetched']} papers fetched, scripted model latency {args.latency} s a call, "
          f"{args.rpm:.0f} requests/min allowed\n")
    head = f"{'run':20s} {'lat':>4s} {'conc':>4s} {'wall s':>7s} {'calls':>5s} {'tok in':>8s} {'tok out':>7s} " \
           f"{'ideal s':>7s} {'wall/ideal':>10s} {'sent':>5s} {'acc':>4s} {'RSS MB':>6s} {'$':>7s}"
    print(head)
    for r in results:
        ratio = f"{r['wall'] / r['ideal']:.2f}" if r["ideal"] else "-"
        print(f"{r['name']:20s} {r['latency']:4.1f} {r['concurrency']:4d} {r['wall']:7.1f} {r['calls']:5d} "
              f"{r['tokens_in']:8d} {r['tokens_out']:7d} {r['ideal']:7.1f} {ratio:>10s} {r['sent']:5d} "
              f"{r['accepted']:4d} {r['peak_rss_mb']:6.0f} {_cost(r):7.4f}")
    print("\nLLM tokens (in + out) and model time per stage:")
    for r in results:
        parts = " · ".join(f"{name} {s.get('input_tokens', 0) + s.get('output_tokens', 0)} tok in {s.get('calls', 0)} calls, "
                           f"{s.get('seconds', 0):.1f} s" for name, s in sorted(r["usage"].items()))
        print(f"  {r['name']:20s} {parts}")
    print("\nscreening: stage 1 and the share it sent")
    for r in results:
        s = r.get("screen_stats") or {}
        print(f"  {r['name']:20s} {s.get('ranker', '-'):18s} trained on {s.get('trained_on', 0):5d}, sent "
              f"{s.get('sent', 0)}/{s.get('candidates', 0)} ({s.get('share_sent', 0):.0%}, {s.get('cut_by', '')}); "
              f"audit {s.get('audit_drawn', 0)} found {s.get('audit_drawn_positives', 0)}, "
              f"extended by {s.get('extended', 0)} ({s.get('extended_positives', 0)} accepted); "
              f"audit recall estimate {s.get('recall_estimate')}; true recall {r['stage1_recall']:.3f}"
              + (f"; the best cut of this ranking sends {r['best_share']:.1%} for recall 0.95" if r.get("best_share") else ""))
    print("\nwall seconds per stage (graph nodes):")
    print(f"{'run':20s} " + " ".join(f"{s:>10s}" for s in STAGES))
    for r in results:
        print(f"{r['name']:20s} " + " ".join(f"{r['timings'].get(s, 0):10.1f}" for s in STAGES))

    if getattr(args, "timeline", False):
        print_timeline(results)
    if "overhead" in by:
        o = by["overhead"]
        print(f"\nlocal work (overhead run, model at 0 s): {o['wall']:.1f} s in the graph, {o['process_wall']:.1f} s "
              f"with the process; {o['accepted']} accepted, stage-1 recall {o['stage1_recall']:.3f}, "
              f"tokens {o['tokens_in'] + o['tokens_out']}")
    if {"c1", "c16"} <= set(by):
        print(f"model time at concurrency 1 → 16: {_model_time(by['c1']):.2f} s → {_model_time(by['c16']):.2f} s, "
              f"{_model_time(by['c1']) / max(1e-9, _model_time(by['c16'])):.1f}x")
    if not set(RUNS) <= set(by):  # --only: the tables, no targets
        return {"machine": _machine(), "runs": results}
    overhead = by["overhead"]["wall"]
    c1, c16 = by["c1"], by["c16"]
    speedup = c1["wall"] / c16["wall"]
    llm_speedup = _model_time(c1) / max(1e-9, _model_time(c16))
    fetched = c16["fetched"]
    per_paper = {name: _tokens(by[name]) / fetched for name in ("c16", "no-prefilter", "all-LLM batch-of-5")}
    screen_per_paper = {name: _tokens(by[name], "screen") / fetched for name in per_paper}
    base = screen_per_paper["all-LLM batch-of-5"]
    print(f"\ntokens per fetched paper ({fetched} fetched):")
    print(f"{'':30s} {'screening':>10s} {'whole run':>10s} {'vs batch-of-5 screen':>21s}")
    for label, name in (("with prefilter", "c16"), ("without prefilter", "no-prefilter"),
                        ("all-LLM batch-of-5 (seed)", "all-LLM batch-of-5")):
        print(f"{label:30s} {screen_per_paper[name]:10.1f} {per_paper[name]:10.1f} "
              f"{per_paper[name] / base:21.3f}")

    targets = [
        ("non-LLM overhead ≤ 90 s", f"{overhead:.1f} s (process with imports: {by['overhead']['process_wall']:.1f} s)",
         overhead <= 90),
        ("c1 wall ≤ 1.2 x ideal + overhead", f"{c1['wall']:.1f} ≤ {1.2 * c1['ideal'] + overhead:.1f} s",
         c1["wall"] <= 1.2 * c1["ideal"] + overhead),
        ("c16 wall ≤ 1.2 x ideal + overhead", f"{c16['wall']:.1f} ≤ {1.2 * c16['ideal'] + overhead:.1f} s",
         c16["wall"] <= 1.2 * c16["ideal"] + overhead),
        ("≥ 10x speedup at concurrency 16 (model time: wall time with a call in flight)",
         f"{llm_speedup:.1f}x ({_model_time(c1):.1f} s → {_model_time(c16):.1f} s; ideal {c1['ideal']:.1f} s → "
         f"{c16['ideal']:.1f} s); end to end {speedup:.2f}x ({c1['wall']:.1f} s → {c16['wall']:.1f} s)", llm_speedup >= 10),
        ("tokens per fetched paper ≤ 1/10 of the all-LLM screen",
         f"{per_paper['c16']:.1f} / {base:.1f} = {per_paper['c16'] / base:.3f} (whole run vs its screening)",
         per_paper["c16"] / base <= 0.1),
        # issue 19 (speed) and issue 15 (screening), as they were filed
        ("local work ≤ 15 s (issue 19)", f"{overhead:.1f} s", overhead <= 15),
        ("model-time speedup ≥ 12x at concurrency 16 (issue 19)", f"{llm_speedup:.1f}x", llm_speedup >= 12),
        ("tokens per fetched paper ≤ 1/8 of the all-LLM batch-of-5 screen (issue 15)",
         f"{per_paper['c16'] / base:.3f} (whole run; screening alone {screen_per_paper['c16'] / base:.3f})",
         per_paper["c16"] / base <= 0.125),
        ("stage 1 sends ≤ 25% of the week with true recall ≥ 0.95 (issue 15)",
         f"{c16['sent'] / fetched:.1%} sent, recall {c16['stage1_recall']:.3f}",
         c16["sent"] / fetched <= 0.25 and c16["stage1_recall"] >= 0.95),
    ]
    print("\ntargets:")
    for name, figure, met in targets:
        print(f"  [{'met' if met else 'MISSED'}] {name}: {figure}")
    return {"machine": _machine(), "latency": args.latency, "rpm": args.rpm, "runs": results,
            "overhead_s": overhead, "speedup_end_to_end": speedup, "speedup_model_time": llm_speedup,
            "tokens_per_fetched_paper": per_paper, "screen_tokens_per_fetched_paper": screen_per_paper,
            "targets": [{"target": n, "figure": f, "met": m} for n, f, m in targets]}
