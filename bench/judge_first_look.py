"""Scores the first-look reading judge (evals/data/judge/first-look/README.md): would a first look rated 8 or
more, accepted without a full read, have been accepted on the whole abstract?

    python bench/judge_first_look.py [DIR]

Prints, for the first looks at 8 or more, what each full reader gave (accepted = 6 or more), and the same for
one full reader's 8-or-more against the other full reader: the disagreement readers have anyway.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DIR = Path(__file__).resolve().parents[1] / "evals" / "data" / "judge" / "first-look"
ACCEPT, SURE = 6, 8


def ratings(path: Path) -> dict[str, int]:
    return {v["id"]: int(v["relevance"]) for v in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if v}


def agreement(sure: dict[str, int], readers: list[dict[str, int]]) -> tuple[int, int, list[str]]:
    """(sure papers x readers, how many of those a reader accepted, the ids a reader rejected)."""
    pairs = [(pid, r[pid]) for pid, rel in sure.items() if rel >= SURE for r in readers]
    return len(pairs), sum(rel >= ACCEPT for _, rel in pairs), sorted({pid for pid, rel in pairs if rel < ACCEPT})


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DIR
    look: dict[str, int] = {}
    full: dict[str, list[dict[str, int]]] = {}
    for half in sorted(p.stem.rsplit("-", 1)[1] for p in root.glob("verdicts-look-*.jsonl")):
        look.update(ratings(root / f"verdicts-look-{half}.jsonl"))
        full[half] = [ratings(p) for p in sorted(root.glob(f"verdicts-full-{half}-*.jsonl"))]
    readers = [{pid: r for half in full.values() for pid, r in half[i].items()} for i in range(2)]
    n, kept, lost = agreement(look, readers)
    print(f"first looks: {len(look)}, rated {SURE}+: {sum(r >= SURE for r in look.values())}, "
          f"rated {ACCEPT}+: {sum(r >= ACCEPT for r in look.values())}")
    print(f"first look {SURE}+ → full reader accepts: {kept} of {n} (paper x reader); rejected by a full reader: {lost}")
    for a, b in ((0, 1), (1, 0)):
        n2, kept2, lost2 = agreement(readers[a], [readers[b]])
        print(f"full reader {a + 1} {SURE}+ → full reader {b + 1} accepts: {kept2} of {n2}; rejected: {lost2}")
    both = [pid for pid in look if all(r[pid] >= ACCEPT for r in readers)]
    print(f"accepted by both full readers: {len(both)}; of them a first look rated {SURE}+: "
          f"{sum(look[p] >= SURE for p in both)}, {ACCEPT}-{SURE - 1}: {sum(ACCEPT <= look[p] < SURE for p in both)}, "
          f"below {ACCEPT}: {sum(look[p] < ACCEPT for p in both)}")


if __name__ == "__main__":
    main()
