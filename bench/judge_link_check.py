"""The link check by a reading judge: a model reads the offline links of two weeks, a blind reader reads a sample.

    python bench/judge_link_check.py prompts B1.json B2.json --memory M --out DIR     # the model's requests
    python bench/judge_link_check.py packet B1.json B2.json --memory M --out DIR      # the reader's blind sheet
    python bench/judge_link_check.py apply B1.json B2.json --memory M --answers DIR/answers.jsonl --out DIR
    python bench/judge_link_check.py score DIR/key.json DIR/fates.json DIR/verdicts.jsonl

`prompts` runs the product's link check (agents/link_check.py: its prompt, schema, client and validation)
on the links of the offline briefings B1, B2 against a scripted server that records each request
(`prompts.jsonl`: the system and user text, the new paper's id). Whoever plays the model answers each
(`answers.jsonl`: {"new": id, "answer": {"results": [...]}}, the JSON the schema asks for). `packet` draws
`--n` proposed links a week (seeded) into a blind sheet for a reader (`packet.md`: paper A and B, title and
the first 600 characters of each abstract, nothing else) and its key; it is drawn from the proposed links,
so neither the reader nor the draw knows what the model did. `apply` runs the same check with the answers
served back, so they pass the product's own validation, and writes every link's fate (`fates.json`: kept
with its tie, or dropped). `score` gives the reader's related / loose / unrelated shares of the links the
model kept, of those it dropped, and of all proposed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from brief.agents.link_check import LinkChecker  # noqa: E402
from brief.agents.llm import LLMClient  # noqa: E402
from brief.config_file import load_settings  # noqa: E402
from brief.memory.store import Memory  # noqa: E402
from brief.agents.review_pool import paper_of  # noqa: E402
from brief.models import Link  # noqa: E402
from tests.scripted_llm import ScriptedLLMServer, ScriptedRequest  # noqa: E402


def _new_id(req: ScriptedRequest) -> str:
    return req.user.split("New paper:", 1)[1].split('"', 2)[1]


def check(briefing: Path, memory: Memory, handler) -> tuple[list[ScriptedRequest], dict[str, list[Link]], dict]:
    """Run the product's link check on one briefing's links: (requests, links kept, links proposed)."""
    report = json.loads(briefing.read_text())
    proposed = {p["id"]: [Link(**link) for link in p["links"]] for p in report["accepted"] if p["links"]}
    records = {pid: memory.get(pid) for pid in proposed}
    assert all(records.values()), "every accepted paper is in memory"
    papers = [paper_of(rec) for rec in records.values() if rec]
    settings = load_settings(None, env={})
    with ScriptedLLMServer(handlers={"LinkCheck": handler}) as server:
        cfg = settings.llm.model_copy(update={"base_url": server.base_url, "model": "reader", "max_retries": 0,
                                              "concurrency": 4, "use_cache": False})
        with tempfile.TemporaryDirectory() as tmp:
            result = LinkChecker(LLMClient(cfg, None, Path(tmp) / "state.json"), memory.get_many).check(papers, proposed)
        requests = [r for r in server.requests if r.schema_name == "LinkCheck"]
    assert not result.unchecked, f"{result.unchecked} answers failed the product's validation"
    return requests, result.links, proposed


def prompts(args) -> None:
    memory = Memory(Path(args.memory) / "chroma", "any", read_only=True)
    with (Path(args.out) / "prompts.jsonl").open("w") as out:
        for briefing in args.briefings:
            unread = lambda req: {"results": [{"id": i, "reason": "not read yet", "tie": "unrelated"}  # noqa: E731
                                              for i in req.schema["properties"]["results"]["items"]["properties"]["id"]["enum"]]}
            requests, _, _ = check(Path(briefing), memory, unread)
            for req in sorted(requests, key=_new_id):
                out.write(json.dumps({"new": _new_id(req), "system": req.system, "user": req.user}) + "\n")


def packet(args) -> None:
    """A blind sheet of proposed links (n a week, seeded), drawn before the model's answers are known."""
    memory = Memory(Path(args.memory) / "chroma", "any", read_only=True)
    rng = random.Random(args.seed)
    items = []
    for briefing in args.briefings:
        report = json.loads(Path(briefing).read_text())
        pairs = [(p["id"], link["id"]) for p in report["accepted"] for link in p["links"]]
        items += [(report["week"], new, old) for new, old in rng.sample(pairs, min(args.n, len(pairs)))]
    rng.shuffle(items)
    sheet, key = ["# Links to judge (blind)", ""], []
    for i, (week, new, old) in enumerate(items, 1):
        a, b = memory.get(new), memory.get(old)
        assert a is not None and b is not None
        sheet += [f"## Link {i}", "", f"**A:** {a.title}", "", a.abstract[:600], "", f"**B:** {b.title}", "",
                  b.abstract[:600], ""]
        key.append({"item": i, "week": week, "new": new, "earlier": old})
    Path(args.out, "packet.md").write_text("\n".join(sheet))
    Path(args.out, "key.json").write_text(json.dumps(key, indent=1))


def apply(args) -> None:
    """The model's answers through the product's check: every proposed link's fate (kept with its tie, or dropped)."""
    memory = Memory(Path(args.memory) / "chroma", "any", read_only=True)
    answers = {a["new"]: a["answer"] for a in map(json.loads, Path(args.answers).read_text().splitlines())}
    fates = []
    for briefing in args.briefings:
        _, kept, proposed = check(Path(briefing), memory, lambda req: answers[_new_id(req)])
        shown = {(new, link.id): link for new, links in kept.items() for link in links}
        for new, links in proposed.items():
            for link in links:
                got = shown.get((new, link.id))
                fates.append({"new": new, "earlier": link.id, "fate": "kept" if got else "dropped",
                              "tie": got.tie if got else None, "reason": got.reason if got else None})
    Path(args.out, "fates.json").write_text(json.dumps(fates, indent=1))
    print(json.dumps(Counter(f["fate"] for f in fates)))


def score(args) -> None:
    """The reader's verdicts on the sheet, split by what the model did to each link."""
    fate = {(f["new"], f["earlier"]): f["fate"] for f in json.loads(Path(args.fates).read_text())}
    key = {k["item"]: k for k in json.loads(Path(args.key).read_text())}
    by_fate: dict[str, Counter[str]] = {}
    for v in (json.loads(line) for line in Path(args.verdicts).read_text().splitlines() if line.strip()):
        k = key[v["item"]]
        by_fate.setdefault(fate[(k["new"], k["earlier"])], Counter())[v["verdict"]] += 1
        by_fate.setdefault("all proposed", Counter())[v["verdict"]] += 1
    for name, c in sorted(by_fate.items()):
        n = sum(c.values())
        print(f"{name}: {n} links: " + ", ".join(f"{k} {c[k]} ({c[k] / n:.0%})" for k in ("related", "loose", "unrelated")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("prompts", "packet", "apply"):
        p = sub.add_parser(name)
        p.add_argument("briefings", nargs=2)
        p.add_argument("--memory", required=True)
        p.add_argument("--out", required=True)
        if name == "packet":
            p.add_argument("--n", type=int, default=30, help="links drawn from each week")
            p.add_argument("--seed", type=int, default=16)
        if name == "apply":
            p.add_argument("--answers", required=True)
    p = sub.add_parser("score")
    p.add_argument("key")
    p.add_argument("fates")
    p.add_argument("verdicts")
    args = ap.parse_args()
    {"prompts": prompts, "packet": packet, "apply": apply, "score": score}[args.command](args)


if __name__ == "__main__":
    main()
