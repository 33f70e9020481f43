"""Query one Chroma collection in a child process: `python -m brief.memory.probe CHROMA_DIR COLLECTION`.

Why a child: a damaged vector index makes Chroma's native code segfault, which no `try` catches; in a child,
the parent (`brief memory check`) sees the signal and turns it into a message naming the file. The child
reads a spread sample of the collection's vectors and queries each one: an intact index finds the paper
itself at distance ~0. Prints one JSON line: {"count": N, "problem": null | "what went wrong"}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SAMPLE = 24


def probe(chroma_dir: Path, name: str) -> dict[str, Any]:
    from brief.memory.chroma import open_client

    client, _ = open_client(chroma_dir, None, 0)
    collection = client.get_collection(name)
    count = collection.count()
    if count == 0:
        return {"count": 0, "problem": None}
    ids = collection.get(include=[])["ids"]
    sample = ids[:: max(1, len(ids) // SAMPLE)][:SAMPLE]
    vectors = collection.get(ids=sample, include=["embeddings"])
    found = collection.query(query_embeddings=vectors["embeddings"], n_results=min(3, count), include=["distances"])
    lost = [pid for pid, row, dists in zip(vectors["ids"], found["ids"], found["distances"])
            if not any(hit == pid and dist < 1e-3 for hit, dist in zip(row, dists))]
    if lost:
        return {"count": count, "problem": f"searching for {len(lost)} of {len(sample)} sampled papers by their own "
                                           f"vector does not find them (e.g. {lost[0]}): the index answers wrongly"}
    return {"count": count, "problem": None}


def main(argv: list[str]) -> int:
    chroma_dir, name = Path(argv[0]), argv[1]
    try:
        result = probe(chroma_dir, name)
    except Exception as exc:  # Chroma's errors come in many kinds; each means "this collection can't be read"
        result = {"count": None, "problem": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
