"""The link check by a reading judge: a model reads the offline links of two weeks, a blind reader judges what it kept.

    python bench/judge_link_check.py prompts B1.json B2.json --memory M --out DIR     # the model's requests
    python bench/judge_link_check.py apply B1.json B2.json --memory M --answers DIR/answers.jsonl --out DIR
    python bench/judge_link_check.py score DIR/key.json DIR/verdicts.jsonl

`prompts` runs the product's link check (agents/link_check.py: its prompt, schema, client and validation)
on the links of the offline briefings B1, B2 against a scripted server that records each request
(`prompts.jsonl`: the system and user text, the new paper's id). Whoever plays the model answers each
(`answers.jsonl`: {"new": id, "answer": {"results": [...]}}, the JSON the schema asks for). `apply` runs the
same check with those answers served back, so they pass the product's own validation, and writes a blind
sheet for a reader (`packet.md`: links the model kept, 15 a week, and 10 it dropped, shuffled, each as
paper A and B with title and abstract opening, nothing else) and its key. `score` gives the reader's
related / loose / unrelated shares of the kept and of the dropped links.
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
from brief.models import Link, Paper  # noqa: E402
from tests.scripted_llm import ScriptedLLMServer, ScriptedRequest  # noqa: E402


def _new_id(req: ScriptedRequest) -> str:
    return req.user.split("New paper:", 1)[1].split('"', 2)[1]


def check(briefing: Path, memory: Memory, handler) -> tuple[list[ScriptedRequest], dict[str, list[Link]], dict]:
    """Run the product's link check on one briefing's links: (requests, links kept, links proposed)."""
    report = json.loads(briefing.read_text())
    proposed = {p["id"]: [Link(**link) for link in p["links"]] for p in report["accepted"] if p["links"]}
    papers = []
    for pid in proposed:
        rec = memory.get(pid)
        assert rec is not None, f"{pid} is not in memory"
        papers.append(Paper(id=rec.id, title=rec.title, abstract=rec.abstract, authors=rec.authors, categories=rec.categories))
    settings = load_settings(None, env={})
    with ScriptedLLMServer(handlers={"LinkCheck": handler}) as server:
        cfg = settings.llm.model_copy(update={"base_url": server.base_url, "model": "reader", "max_retries": 0,
                                              "concurrency": 4, "use_cache": False})
        with tempfile.TemporaryDirectory() as tmp:
            result = LinkChecker(LLMClient(cfg, None, Path(tmp) / "state.json"), memory.get).check(papers, proposed)
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


def apply(args) -> None:
    memory = Memory(Path(args.memory) / "chroma", "any", read_only=True)
    answers = {a["new"]: a["answer"] for a in map(json.loads, Path(args.answers).read_text().splitlines())}
    rng = random.Random(args.seed)
    items, counts = [], {}
    for briefing in args.briefings:
        _, kept, proposed = check(Path(briefing), memory, lambda req: answers[_new_id(req)])
        kept_pairs = [(new, link) for new, links in kept.items() for link in links]
        kept_ids = {(new, link.id) for new, link in kept_pairs}
        dropped = [(new, link) for new, links in proposed.items() for link in links if (new, link.id) not in kept_ids]
        week = json.loads(Path(briefing).read_text())["week"]
        counts[week] = {"proposed": sum(map(len, proposed.values())), "kept": len(kept_pairs), "dropped": len(dropped)}
        items += [(week, "kept", new, link) for new, link in rng.sample(kept_pairs, min(15, len(kept_pairs)))]
        items += [(week, "dropped", new, link) for new, link in rng.sample(dropped, min(5, len(dropped)))]
    rng.shuffle(items)
    sheet, key = ["# Links to judge (blind)", ""], []
    for i, (week, fate, new, link) in enumerate(items, 1):
        a, b = memory.get(new), memory.get(link.id)
        assert a is not None and b is not None
        sheet += [f"## Link {i}", "", f"**A:** {a.title}", "", a.abstract[:600], "", f"**B:** {b.title}", "",
                  b.abstract[:600], ""]
        key.append({"item": i, "week": week, "fate": fate, "new": new, "earlier": link.id, "tie": link.tie,
                    "reason": link.reason})
    Path(args.out, "packet.md").write_text("\n".join(sheet))
    Path(args.out, "key.json").write_text(json.dumps({"counts": counts, "items": key}, indent=1))
    print(json.dumps(counts))


def score(args) -> None:
    key = {k["item"]: k for k in json.loads(Path(args.key).read_text())["items"]}
    verdicts = [json.loads(line) for line in Path(args.verdicts).read_text().splitlines() if line.strip()]
    by_fate: dict[str, Counter[str]] = {}
    for v in verdicts:
        by_fate.setdefault(key[v["item"]]["fate"], Counter())[v["verdict"]] += 1
    for fate, c in sorted(by_fate.items()):
        n = sum(c.values())
        print(f"{fate}: {n} links: " + ", ".join(f"{k} {c[k]} ({c[k] / n:.0%})" for k in ("related", "loose", "unrelated")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("prompts", "apply"):
        p = sub.add_parser(name)
        p.add_argument("briefings", nargs=2)
        p.add_argument("--memory", required=True)
        p.add_argument("--out", required=True)
        if name == "apply":
            p.add_argument("--answers", required=True)
            p.add_argument("--seed", type=int, default=16)
    p = sub.add_parser("score")
    p.add_argument("key")
    p.add_argument("verdicts")
    args = ap.parse_args()
    {"prompts": prompts, "apply": apply, "score": score}[args.command](args)


if __name__ == "__main__":
    main()
