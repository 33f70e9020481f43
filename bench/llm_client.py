"""The client's own work per LLM call: CPU milliseconds this process spends on one screening call (building the
prompt and the schema, langchain and the OpenAI SDK, parsing and validating the answer), the server running in
another process. Within a round of concurrent calls this work is serialised by the GIL, so it is what spreads
a round's calls out (see `bench/weekly.py --timeline`).

Usage: python bench/llm_client.py [--calls 200] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SERVER = """
import sys, time
sys.path[:0] = [{repo!r}, {tests!r}]
from tests.scripted_llm import ScriptedLLMServer
from bench.weekly import handlers
with ScriptedLLMServer(handlers=handlers({{}})) as srv:
    print(srv.base_url, flush=True)
    sys.stdin.read()
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()

    from pydantic import SecretStr

    from bench.weekly import CORPUS
    from brief.agents.llm import LLMClient
    from brief.agents.screen_llm import BatchScreener
    from brief.agents.screen_pool import brief_copy
    from brief.agents.screener import topics_text
    from brief.config_file import load_settings
    from brief.models import Paper

    settings = load_settings(None, env={})
    papers = []
    for path in sorted((args.shared / CORPUS).glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            rec = json.loads(line)
            papers.append(Paper(id=rec["id"], title=rec["title"], abstract=rec.get("summary") or rec.get("abstract", ""),
                                authors=rec.get("authors") or [], categories=rec.get("categories") or []))
        if len(papers) >= 24 * args.calls:
            break
    server = subprocess.Popen([sys.executable, "-c", SERVER.format(repo=str(REPO), tests=str(REPO / "tests"))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().strip()
        cfg = settings.llm.model_copy(update={"base_url": base_url, "api_key": SecretStr("bench-key"), "model": "gpt-4o-mini",
                                              "max_retries": 0, "use_cache": False, "structured_output": "json_schema"})
        llm = LLMClient(cfg, None, state_path=None)
        topics = [t.name for t in settings.criteria.topics]
        batcher = BatchScreener(llm, {"interests": settings.criteria.interests, "topics": topics_text(settings.criteria.topics)},
                                "bench", topics=topics)
        for label, size, shorten in (("first look, 24 papers of 400 chars", 24, True), ("full read, 8 papers", 8, False)):
            batches = [[brief_copy(p, 400) if shorten else p for p in papers[i:i + size]]
                       for i in range(0, min(len(papers), size * args.calls), size)]
            for batch in batches:
                batcher.prepare(batch)  # as the screening pool does when papers are added
            batcher._ask(batches[0])  # warm: imports, the connection, the schema template
            cpu = time.process_time()
            for batch in batches[1:]:
                batcher._ask(batch)
            n = len(batches) - 1
            print(f"{label}: {(time.process_time() - cpu) / n * 1000:.2f} ms client CPU a call, {n} calls")
    finally:
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
