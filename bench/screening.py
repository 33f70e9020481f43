"""Tokens and recall of two-stage screening against `--no-prefilter`, on real 300-paper weeks.

Usage: python bench/screening.py [--shared ../shared/data] [--weeks 2026-W22 2026-W23 2026-W24] [--n 300]

The scripted OpenAI-compatible server (tests/scripted_llm.py) plays the LLM, answering from labels
(tests/integration/screening_weeks.py: relevance 8 for papers about robots, 2 otherwise), so the
all-LLM accepted set is known. The weeks run in order with stage 1 learning from the earlier ones; the
last week is also screened with every paper sent to the LLM. Prints screening tokens, the ratio, the
recall against the all-LLM accepted set (with the papers missed), and the audit's recall estimate.
The same scenario is asserted in tests/integration/test_screening_tokens.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from brief.app.runner import run_weekly  # noqa: E402
from brief.sources.window import parse_week  # noqa: E402
from tests.handlers import brief_handlers  # noqa: E402
from tests.integration.screening_weeks import TOPIC, llm_accepted, screen_tokens, screening_settings, write_weeks  # noqa: E402
from tests.scripted_llm import ScriptedLLMServer  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--weeks", nargs="+", default=["2026-W22", "2026-W23"])
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="brief-bench-screening-") as tmp:
        root = Path(tmp)
        labels = write_weeks(args.shared, root / "snapshot", args.weeks, args.n)
        everything = {pid: rel for week in labels.values() for pid, rel in week.items()}
        source = [f"snapshot:{root / 'snapshot'}"]
        with ScriptedLLMServer(handlers=brief_handlers(everything, TOPIC)) as srv:
            learned = screening_settings(root / "learned", root / "cache", srv.base_url)
            for week in args.weeks:
                state = run_weekly(learned, parse_week(week), source).state
                s = state.screen_stats
                ci = f"{s.recall_ci[0]:.2f}-{s.recall_ci[1]:.2f}" if s.recall_ci else "-"
                print(f"{week}: {s.ranker:16s} trained on {s.trained_on:4d}, sent {s.sent}/{s.candidates} "
                      f"({s.share_sent:.0%}; audit {s.audit_drawn}, found {s.audit_drawn_positives}; extended {s.extended}, "
                      f"{s.extended_positives} accepted there), "
                      f"audit's recall estimate {s.recall_estimate} [{ci}], screen tokens {screen_tokens(state)}")
            everyone = screening_settings(root / "all", root / "cache", srv.base_url, prefilter=False)
            baseline = run_weekly(everyone, parse_week(args.weeks[-1]), source).state
        spent, spent_all = screen_tokens(state), screen_tokens(baseline)
        wanted = llm_accepted(baseline)
        authors = {pid for pid, d in state.decisions.items() if d.stage == "author"}
        missed = sorted(wanted - llm_accepted(state) - authors)
        print(f"{args.weeks[-1]} --no-prefilter: screen tokens {spent_all}, {len(wanted)} accepted by the LLM")
        print(f"tokens with stage 1 / without: {spent}/{spent_all} = {spent / spent_all:.3f}")
        print(f"recall against the all-LLM accepted set: {1 - len(missed) / max(1, len(wanted)):.3f}"
              f" (missed: {', '.join(missed) or 'none'})")


if __name__ == "__main__":
    main()
