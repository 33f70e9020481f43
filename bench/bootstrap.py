"""A 100k-paper memory bootstrap through `brief memory import`: time, throughput, disk and peak RSS.

Usage: python bench/bootstrap.py [--papers 100000] [--corpus DIR] [--keep DIR] [--embedder local|static]

Writes a Kaggle-format snapshot of --papers papers (real titles and abstracts recycled from
../shared/data/corpus, each title made unique so every paper is embedded, ids and dates synthetic: see
bench/kaggle_stream.py), then times the real command a user runs, `brief memory import FILE --memory-dir DIR`,
in its own process with the default local embedder (or `--embedder static`: a memory built on the distilled
token table, which then keeps it), on an empty memory dir. Prints papers/s, the
memory dir's size on disk (Chroma + embedding cache), and the import's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.kaggle_stream import DEFAULT_CORPUS, generate  # noqa: E402


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--keep", type=Path, help="build the memory here and keep it (default: a temp dir)")
    ap.add_argument("--embedder", choices=["local", "static"], default="local", help="memory's embedder")
    args = ap.parse_args()
    brief = shutil.which("brief") or str(Path(sys.executable).with_name("brief"))
    with tempfile.TemporaryDirectory(prefix="brief-bench-bootstrap-") as tmp:
        snapshot = Path(tmp) / "arxiv-metadata-oai-snapshot.json"
        generate(snapshot, args.papers, args.corpus, unique_texts=True, limit=20000)
        memory = args.keep or Path(tmp) / "memory"
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        config: list[str] = []
        if args.embedder != "local":  # the demo config with another memory embedder
            from brief.config_file import demo_config_text

            path = Path(tmp) / "brief.toml"
            path.write_text(demo_config_text().replace('embedder = "local"', f'embedder = "{args.embedder}"', 1))
            config = ["--config", str(path)]
        started = time.perf_counter()
        proc = subprocess.run([brief, "memory", "import", str(snapshot), "--memory-dir", str(memory), "-q", "--json",
                               *config],
                              capture_output=True, text=True, env=env)
        wall = time.perf_counter() - started
        if proc.returncode:
            raise SystemExit(f"brief memory import failed ({proc.returncode}): {proc.stderr[-2000:]}")
        out = json.loads(proc.stdout)
        figures = {
            "papers": args.papers, "embedder": args.embedder, "load_avg_end": round(os.getloadavg()[0], 1),
            "snapshot_mb": round(snapshot.stat().st_size / 1e6, 1),
            "import_s": round(wall, 1), "papers_per_s": round(args.papers / wall, 1),
            "memory_dir_mb": round(disk_mb(memory), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "cpu_count": os.cpu_count(),
            "import": {k: (len(v) if isinstance(v, (list, dict)) else v) for k, v in out.items()},  # id lists, weeks: counted
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
