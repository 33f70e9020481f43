"""A blind reading judge of the offline "Results" line: the sentence two versions of the extractor pick.

    python bench/judge_results_sentences.py dump OUT.json      # every corpus abstract's Results line, this code
    python bench/judge_results_sentences.py packet OLD.json NEW.json [DIR [SAMPLE]]  # the packet and key
    python bench/judge_results_sentences.py score [DIR]         # reads the judge's verdicts

`dump` runs agents/reviewer.extract_summary (as `brief weekly` does offline) over every abstract of the corpora
in ../shared/data/corpus. `packet` takes the papers whose line differs between two dumps (one made on each
commit; SAMPLE: a seeded random sample of them), shows each paper's title and abstract with the two lines as A and B in a seeded random order, and keeps
which is which in key.json, which the judge never opens. The judge writes one JSON line per item to
verdicts.jsonl: {"item", "a_result", "b_result", "better"}: whether each line states a result of the paper (an
outcome or a measured finding, not its setup, data or method) and which serves better as its Results line
("A", "B" or "same"; "not stated in the abstract" is the right line when the abstract states no result).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.judge_screening import corpus  # noqa: E402

JUDGE = Path(__file__).resolve().parent.parent / "evals" / "data" / "judge"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpus"


def _papers() -> dict[str, dict]:
    papers: dict[str, dict] = {}
    for source in sorted(CORPUS.iterdir()):
        for pid, paper in corpus(source).items():
            if paper["abstract"]:
                papers.setdefault(pid, paper)
    return papers


def dump(out: str) -> None:
    from brief.agents.summary_roles import extract_summary
    from brief.models import Paper

    lines = {pid: extract_summary(Paper(id=pid, title=p["title"], abstract=p["abstract"])).results
             for pid, p in _papers().items()}
    Path(out).write_text(json.dumps(lines, indent=0, sort_keys=True))
    print(f"{len(lines)} Results lines → {out}")


def packet(old_path: str, new_path: str, name: str = "results-sentences", sample: int = 0) -> None:
    old, new = json.loads(Path(old_path).read_text()), json.loads(Path(new_path).read_text())
    papers = _papers()
    changed = sorted(pid for pid in old if pid in new and old[pid] != new[pid] and pid in papers)
    rng = random.Random(20261206)
    if sample and sample < len(changed):
        changed = sorted(rng.sample(changed, sample))
    key, sheet = [], ["# Which line states the paper's result?", "",
                      "For each paper: its title and abstract, then two candidate Results lines, A and B. Say for "
                      "each whether it states a result of the paper (an outcome or a measured finding, not its "
                      "setup, data or method), and which serves better as the paper's Results line (A, B or same). "
                      "'not stated in the abstract' is the right line when the abstract states no result.", ""]
    for n, pid in enumerate(changed, 1):
        flip = rng.random() < 0.5
        a, b = (new[pid], old[pid]) if flip else (old[pid], new[pid])
        key.append({"item": n, "paper": pid, "A": "new" if flip else "old", "B": "old" if flip else "new"})
        sheet += [f"## Item {n}", f"**{papers[pid]['title']}**", "", papers[pid]["abstract"], "", f"- A: {a}",
                  f"- B: {b}", ""]
    out = JUDGE / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "packet.md").write_text("\n".join(sheet))
    (out / "key.json").write_text(json.dumps(key, indent=1))
    print(f"{len(changed)} items → {out / 'packet.md'}")


def score(name: str = "results-sentences") -> None:
    out = JUDGE / name
    key = {k["item"]: k for k in json.loads((out / "key.json").read_text())}
    verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines() if line.strip()]
    tally = {"old": 0, "new": 0, "same": 0}
    result = {"old": 0, "new": 0}
    for v in verdicts:
        k = key[v["item"]]
        tally[k[v["better"]] if v["better"] in ("A", "B") else "same"] += 1
        result[k["A"]] += bool(v["a_result"])
        result[k["B"]] += bool(v["b_result"])
    print(f"{len(verdicts)} items judged: new line better {tally['new']}, old better {tally['old']}, same {tally['same']}; "
          f"states a result: new {result['new']}, old {result['old']}")


if __name__ == "__main__":
    args = sys.argv[2:]
    {"dump": lambda: dump(args[0]), "score": lambda: score(*args[:1]),
     "packet": lambda: packet(args[0], args[1], *args[2:3], *[int(n) for n in args[3:4]])}[sys.argv[1]]()
