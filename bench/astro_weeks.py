"""Offline weekly runs outside cs: seven astro-ph weeks scored against an LLM's labels, no judge needed.

Usage: python bench/astro_weeks.py [--shared ../shared/data] [--out DIR] [--threshold 7] [--weeks 2026-W02 ...]

../shared's cgarling astro-ph set holds every scored candidate of Jan-Feb 2026 (gpt-4.1 RELEVANCE 1-10 against
the user's seven topics). This writes them as daily snapshot files (`YYYY-MM-DD_astro.jsonl`: id, title,
abstract, authors; the listing gave no categories), imports the user's criteria with `brief init --from-topics`,
runs `brief weekly --offline` week by week into one fresh memory (as a user would from their first week), and
prints per week: accepted, the labelled positives (RELEVANCE >= --threshold), precision and recall of the
accepts, the themes, the links, and how many TL;DRs only repeat the title. Everything lands in --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SET = "screening/cgarling_astro-ph"


def build_corpus(shared: Path, out: Path) -> dict[str, int]:
    """Daily snapshot files from the scored outputs; returns id → RELEVANCE."""
    out.mkdir(parents=True, exist_ok=True)
    labels = {}
    for f in sorted((shared / SET / "daily_output_json").glob("*-output.json")):
        rows = []
        for rec in json.loads(f.read_text()).values():
            labels[rec["ARXIVID"]] = int(rec["RELEVANCE"])
            rows.append(json.dumps({"id": rec["ARXIVID"], "title": rec["title"], "summary": rec["abstract"],
                                    "authors": rec["authors"]}))
        (out / f"{f.name[:10]}_astro.jsonl").write_text("\n".join(rows) + "\n")
    return labels


def brief(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief.cli", *args], capture_output=True, text=True, cwd=cwd)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--threshold", type=int, default=7, help="RELEVANCE that counts as relevant")
    ap.add_argument("--weeks", nargs="*", default=[f"2026-W{w:02d}" for w in range(2, 9)])
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="astro-weeks-"))
    labels = build_corpus(args.shared, out / "corpus")
    init = brief("init", str(out / "brief.toml"), "--force", "--from-topics",
                 str(args.shared / SET / "configs_and_prompts" / "paper_topics.txt"), cwd=out)
    if init.returncode:
        sys.exit(init.stderr)
    print(f"{len(labels)} scored papers; relevant = RELEVANCE >= {args.threshold}; runs in {out}\n")
    print(f"{'week':9} {'fetched':>7} {'acc':>4} {'pos':>4} {'prec':>5} {'recall':>6} {'themes':>6} {'links':>5} "
          f"{'tldr=title':>10}")
    total = [0, 0, 0]
    for week in args.weeks:
        run = brief("weekly", "--config", "brief.toml", "--source", f"snapshot:{out / 'corpus'}", "--week", week,
                    "--offline", "--memory-dir", "M", "--out", "O", "-q", "--json", cwd=out)
        if run.returncode:
            sys.exit(f"{week}: exit {run.returncode}: {run.stderr.strip()[-300:]}")
        b = json.loads((out / "O" / f"{week}.json").read_text())
        accepted = [p["id"] for p in b["accepted"]]
        seen = accepted + [r["id"] for r in b["rejected"]]
        pos = {i for i in seen if labels.get(i, 0) >= args.threshold}
        tp = sum(i in pos for i in accepted)
        links = sum(len(p.get("links") or []) for p in b["accepted"])
        echo = sum((p.get("summary") or {}).get("tldr", "").rstrip(".") == p["title"].rstrip(".") for p in b["accepted"])
        total = [total[0] + len(accepted), total[1] + len(pos), total[2] + tp]
        print(f"{week:9} {b['counts']['fetched']:7d} {len(accepted):4d} {len(pos):4d} {tp / max(1, len(accepted)):5.2f} "
              f"{tp / max(1, len(pos)):6.2f} {len(b['themes']):6d} {links:5d} {echo:10d}")
    print(f"{'all':9} {'':7} {total[0]:4d} {total[1]:4d} {total[2] / max(1, total[0]):5.2f} {total[2] / max(1, total[1]):6.2f}")
    print(f"\n(run on {date.today()}; briefings in {out / 'O'})")


if __name__ == "__main__":
    main()
