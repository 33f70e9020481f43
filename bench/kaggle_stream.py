"""Peak memory while streaming a Kaggle-format arXiv snapshot through `iter_kaggle_snapshot`.

Usage: python bench/kaggle_stream.py [--lines 100000] [--corpus DIR] [--keep FILE]

Writes a JSON-lines file in the Kaggle snapshot's format (real abstracts and titles recycled from the daily
corpora in ../shared/data/corpus, ids and dates synthetic), then streams it in a fresh child process so the
reported peak RSS (resource.getrusage maxrss) is the reader's alone, not the generator's. Target: < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "corpus"


def load_texts(corpus: Path, limit: int = 5000) -> list[tuple[str, str, list[str], str]]:
    """(title, abstract, authors, categories) from the corpus, or a synthetic stand-in without one."""
    texts = []
    for path in sorted(corpus.rglob("*.jsonl"))[:40] if corpus.is_dir() else []:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                texts.append((rec["title"], rec["summary"], rec.get("authors") or ["A. Author"], " ".join(rec["categories"])))
                if len(texts) >= limit:
                    return texts
    if not texts:
        abstract = "We study a problem and propose a method that improves results on benchmarks. " * 15
        texts = [(f"Synthetic paper {i}", abstract, ["A. Author", "B. Author"], "cs.LG") for i in range(100)]
    return texts


def generate(path: Path, lines: int, corpus: Path, unique_texts: bool = False, limit: int = 5000) -> None:
    """`unique_texts`: a recycled title gets its copy number, so no two papers embed the same text (an
    embedding cache would otherwise make an import look faster than it is)."""
    texts = load_texts(corpus, limit)
    if unique_texts:  # the daily files repeat papers: keep each text once
        texts = list({(title, abstract): (title, abstract, authors, cats) for title, abstract, authors, cats in texts}.values())
    start = date(2024, 1, 1)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(lines):
            title, abstract, authors, cats = texts[i % len(texts)]
            if unique_texts and i >= len(texts):
                title = f"{title} (copy {i // len(texts)})"
            day = start + timedelta(days=i % 900)
            created = f"{day:%a}, {day.day} {day:%b %Y} 12:00:00 GMT"
            record = {
                "id": f"{day:%y%m}.{i % 100000:05d}",
                "submitter": authors[0],
                "authors": ", ".join(authors),
                "title": title,
                "comments": "12 pages",
                "journal-ref": None,
                "doi": None,
                "report-no": None,
                "categories": cats,
                "license": None,
                "abstract": abstract,
                "versions": [{"version": "v1", "created": created}, {"version": "v2", "created": created}],
                "update_date": (day + timedelta(days=30)).isoformat(),
                "authors_parsed": [[a.split()[-1], " ".join(a.split()[:-1]), ""] for a in authors],
            }
            fh.write(json.dumps(record) + "\n")


def stream(path: Path) -> dict:
    """Run in the child: stream every paper (plus a windowed, filtered pass) and report peak RSS."""
    sys.path.insert(0, str(REPO.parent))  # the repo root is the package `brief`
    from brief.sources.kaggle import KaggleStats, iter_kaggle_snapshot

    started = time.perf_counter()
    stats = KaggleStats()
    chars = sum(len(p.abstract) for p in iter_kaggle_snapshot(path, stats=stats))
    full_s = time.perf_counter() - started
    started = time.perf_counter()
    week = list(iter_kaggle_snapshot(path, since=date(2024, 6, 3), until=date(2024, 6, 9), categories=["cs"]))
    week_s = time.perf_counter() - started
    return {
        "papers": stats.yielded,
        "bad": stats.bad,
        "abstract_chars": chars,
        "full_pass_s": round(full_s, 2),
        "papers_per_s": round(stats.yielded / full_s),
        "week_pass_s": round(week_s, 2),
        "week_papers": len(week),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--keep", type=Path, help="write the generated file here and keep it")
    parser.add_argument("--stream", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.stream:
        print(json.dumps(stream(args.stream)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "arxiv-metadata-oai-snapshot.json"
        generate(path, args.lines, args.corpus)
        size_mb = path.stat().st_size / 1e6
        child = subprocess.run(
            [sys.executable, __file__, "--stream", str(path)], capture_output=True, text=True, check=True
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
    result = {"lines": args.lines, "file_mb": round(size_mb, 1), **result, "target_mb": 300}
    print(json.dumps(result, indent=2))
    if result["peak_rss_mb"] >= 300:
        sys.exit(1)


if __name__ == "__main__":
    main()
