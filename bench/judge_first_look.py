"""Scores the first-look reading judge (evals/data/judge/first-look/README.md): would a first look rated 8 or
more, accepted without a full read, have been accepted on the whole abstract?

    python bench/judge_first_look.py [--looks DIR]            # score: first looks from DIR (default: the judge's)
    python bench/judge_first_look.py --write-looks DIR [CHARS]  # DIR/look-X.md: today's first look of each packet

Prints, for the first looks at 8 or more, what each full reader gave (accepted = 6 or more), and the same for
one full reader's 8-or-more against the other full reader: the disagreement readers have anyway; and how many
papers both full readers accept a first look would reject outright (below 4: never read again).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DIR = Path(__file__).resolve().parents[1] / "evals" / "data" / "judge" / "first-look"
REREAD, ACCEPT, SURE = 4, 6, 8
_PAPER = re.compile(r"<paper id=\"([^\"]+)\">\n<title>(.*?)</title>.*?<abstract>(.*?)</abstract>\n</paper>", re.S)


def ratings(path: Path) -> dict[str, int]:
    return {v["id"]: int(v["relevance"]) for v in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if v}


def agreement(sure: dict[str, int], readers: list[dict[str, int]]) -> tuple[int, int, list[str]]:
    """(sure papers x readers, how many of those a reader accepted, the ids a reader rejected)."""
    pairs = [(pid, r[pid]) for pid, rel in sure.items() if rel >= SURE for r in readers]
    return len(pairs), sum(rel >= ACCEPT for _, rel in pairs), sorted({pid for pid, rel in pairs if rel < ACCEPT})


def write_looks(out: Path, chars: int) -> None:
    """Each packet's papers as the screener's first look shows them today (`brief_copy`), the rest verbatim."""
    from brief.agents.screen_pool import brief_copy
    from brief.models import Paper

    def look(m: re.Match) -> str:
        paper = brief_copy(Paper(id=m[1], title=m[2], abstract=m[3], authors=[], source="judge"), chars)
        block = re.sub(r"<authors>.*?</authors>", "<authors></authors>", m[0], flags=re.S)
        return block.replace(f"<abstract>{m[3]}</abstract>", f"<abstract>{paper.abstract}</abstract>")

    out.mkdir(parents=True, exist_ok=True)
    for full in sorted(DIR.glob("full-*.md")):
        (out / full.name.replace("full-", "look-")).write_text(_PAPER.sub(look, full.read_text(encoding="utf-8")),
                                                              encoding="utf-8")
        print(f"wrote {out / full.name.replace('full-', 'look-')}")


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--write-looks"]:
        return write_looks(Path(args[1]), int(args[2]) if len(args) > 2 else 300)
    looks = Path(args[1]) if args[:1] == ["--looks"] else DIR
    look: dict[str, int] = {}
    full: dict[str, list[dict[str, int]]] = {}
    for half in sorted(p.stem.rsplit("-", 1)[1] for p in looks.glob("verdicts-look-*.jsonl")):
        look.update(ratings(looks / f"verdicts-look-{half}.jsonl"))
        full[half] = [ratings(p) for p in sorted(DIR.glob(f"verdicts-full-{half}-*.jsonl"))]
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
          f"{REREAD}-{ACCEPT - 1}: {sum(REREAD <= look[p] < ACCEPT for p in both)}, "
          f"below {REREAD} (rejected unread): {sorted(p for p in both if look[p] < REREAD)}")


if __name__ == "__main__":
    main()
