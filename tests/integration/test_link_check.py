"""With a model, the weekly graph has it read every proposed link: only specific ties stay, with its reason."""

from __future__ import annotations

import json

import pytest

from brief.agents.fetcher import build_sources, fetch
from brief.agents.link_check import TIES
from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import EARLIER_PAPER, brief_handlers
from tests.integration.test_weekly_llm import llm_settings
from tests.scripted_llm import ScriptedLLMServer

TOPIC = "Robot manipulation learning"
WEEKS = ("2026-W23", "2026-W24")


def labels(settings) -> dict[str, int]:
    """Relevance 8 for the sample's robot papers of both weeks (enough accepts to link), 2 for the rest."""
    out = {}
    for week in WEEKS:
        for p in fetch(build_sources(["sample"], settings), parse_week(week)).papers:
            out[p.id] = 8 if any(w in p.title.lower() for w in ("robot", "manipulat", "grasp", "policy", "locomot")) else 2
    return out


def odd(pid: str) -> bool:
    return int(pid[-1]) % 2 == 1 if pid[-1].isdigit() else False


def ties(req) -> dict:
    """Earlier papers with an odd last digit are "same area only", the others "same method"."""
    earlier = EARLIER_PAPER.findall(req.user.split("Earlier papers", 1)[-1])
    return {"results": [{"id": pid, "reason": "scripted: the same grasp planner",
                         "tie": "Same area only" if odd(pid) else "same_method"} for pid, _ in earlier]}


def test_the_model_reads_each_proposed_link_and_only_specific_ties_are_shown(settings):
    handlers = {**brief_handlers(labels(settings), TOPIC), "LinkCheck": ties}
    with ScriptedLLMServer(handlers=handlers) as srv:
        s = llm_settings(settings, srv.base_url)
        for week in WEEKS:
            state = run_weekly(s, parse_week(week), ["sample"]).state
        asked = [r for r in srv.requests if r.schema_name == "LinkCheck"]
    report = json.loads((s.out_dir / "2026-W24.json").read_text())
    page = (s.out_dir / "2026-W24.md").read_text()

    read = [(r.user.split("New paper:", 1)[1].split('"', 2)[1], pid)
            for r in asked for pid, _ in EARLIER_PAPER.findall(r.user.split("Earlier papers", 1)[-1])]
    dropped = [(new, old) for new, old in read if odd(old)]
    kept = {(p["id"], link["id"]) for p in report["accepted"] for link in p["links"]}
    assert dropped and len(dropped) < len(read), "the sample week's links include both kinds"
    assert kept == {pair for pair in read if not odd(pair[1])}, "what the model called specific, and only that"
    assert all(link["tie"] == "same method" and link["reason"] == "same method: scripted: the same grasp planner"
               for p in report["accepted"] for link in p["links"])
    assert "same method: scripted: the same grasp planner" in page
    assert any(f"the model read {len(read)} proposed links and kept the {len(kept)}" in n and
               f"{len(dropped)} same area only" in n for n in state.notes), state.notes
    assert all(r.user.count("<paper id=") == 1 + len(EARLIER_PAPER.findall(r.user.split("Earlier papers", 1)[-1]))
               for r in asked), "the new paper and each earlier one sit in their own element"
    for r in asked:  # the schema sent asks one verdict for each earlier paper of this call, and only known ties
        earlier = [pid for pid, _ in EARLIER_PAPER.findall(r.user.split("Earlier papers", 1)[-1])]
        results = r.schema["properties"]["results"]
        assert results["items"]["properties"]["id"]["enum"] == earlier
        assert results["items"]["properties"]["tie"]["enum"] == list(TIES)
        assert results["minItems"] == results["maxItems"] == len(earlier)
    assert not state.partial


def test_a_failed_link_check_keeps_the_links_unchecked_and_says_so(settings):
    junk = {**brief_handlers(labels(settings), TOPIC),
            "LinkCheck": lambda req: {"results": [{"id": "2601.00000", "reason": "", "tie": "cousins"}]}}
    with ScriptedLLMServer(handlers=junk) as srv:
        s = llm_settings(settings, srv.base_url)
        for week in WEEKS:
            state = run_weekly(s, parse_week(week), ["sample"]).state
        asked = sum(r.schema_name == "LinkCheck" for r in srv.requests)
    linked = [p for p in state.accepted if state.links.get(p.id)]
    assert linked and asked == 2 * len(linked), "each paper asked twice (one retry), then left unchecked"
    assert all(link.tie is None for p in linked for link in state.links[p.id])
    unchecked = sum(len(state.links[p.id]) for p in linked)
    assert any(f"{unchecked} link(s) stay unchecked" in n for n in state.notes), state.notes
    assert any(r.startswith("link: ") and "failed" in r for r in state.partial), state.partial


@pytest.mark.parametrize("answers_alone", [True, False])
def test_an_answer_that_leaves_links_out_keeps_its_verdicts_and_asks_about_the_rest(settings, answers_alone):
    """A weak model's habit: of several earlier papers it answers for all but the last. Its verdicts stand; the
    one left out is asked about on its own; if that fails too, only that link stays unchecked (and the run is
    partial)."""
    def leave_out_last(req) -> dict:
        earlier = EARLIER_PAPER.findall(req.user.split("Earlier papers", 1)[-1])
        answered = earlier[:-1] if len(earlier) > 1 else earlier if answers_alone else []
        return {"results": [{"id": pid, "reason": "scripted: the same grasp planner", "tie": "same method"}
                            for pid, _ in answered]}

    with ScriptedLLMServer(handlers={**brief_handlers(labels(settings), TOPIC), "LinkCheck": leave_out_last}) as srv:
        s = llm_settings(settings, srv.base_url)
        for week in WEEKS:
            state = run_weekly(s, parse_week(week), ["sample"]).state
        asked = [(r.user.split("New paper:", 1)[1].split('"', 2)[1],
                  [pid for pid, _ in EARLIER_PAPER.findall(r.user.split("Earlier papers", 1)[-1])])
                 for r in srv.requests if r.schema_name == "LinkCheck"]
    linked = [p for p in state.accepted if state.links.get(p.id)]
    several = [p for p in linked if len(state.links[p.id]) > 1]
    assert several, "some new papers have more than one proposed link"
    for p in several:  # all its links, then the last alone (twice when that fails: one retry)
        proposed = [link.id for link in state.links[p.id]]
        assert [ids for new, ids in asked if new == p.id] == [proposed] + [proposed[-1:]] * (1 if answers_alone else 2)
    assert len(asked) == (len(linked) + len(several) if answers_alone else 2 * len(linked) + len(several))
    for p in linked:
        shown = state.links[p.id]
        assert all(link.tie == "same method" for link in shown[:-1]), "the verdicts given stand"
        assert shown[-1].tie == ("same method" if answers_alone else None)
    if answers_alone:
        assert not state.partial and not any("unchecked" in n for n in state.notes), state.notes
    else:
        assert any(f"{len(linked)} link(s) stay unchecked" in n for n in state.notes), state.notes
        assert any(r.startswith("link: ") and "failed" in r for r in state.partial), state.partial


def test_an_earlier_version_of_the_paper_is_not_asked_about_and_stays_first(tmp_path):
    from pydantic import SecretStr

    from brief.agents.link_check import LinkChecker
    from brief.agents.llm import LLMClient
    from brief.config import LLMConfig
    from brief.models import Link, Paper

    new = Paper(id="doi:10.1038/s1", title="Gaussian splatting for robot manipulation at scale", abstract="Splats.")
    version = Link(id="2603.00001", title=new.title, week="2026-W10", similarity=0.7, same_work=True,
                   reason="the same paper: an earlier version")
    others = [Link(id="2604.00002", title="A grasp planner", week="2026-W14", similarity=0.8),
              Link(id="2604.00003", title="Robot learning at large", week="2026-W14", similarity=0.75)]
    with ScriptedLLMServer(handlers={"LinkCheck": ties}) as srv:
        cfg = LLMConfig(base_url=srv.base_url, model="scripted", max_retries=0, timeout_seconds=10, api_key=SecretStr("k"))
        result = LinkChecker(LLMClient(cfg, tmp_path / "llm-cache.sqlite"), lambda ids: {}).check(
            [new], {new.id: [version, *others]})
        asked = [pid for r in srv.requests if r.schema_name == "LinkCheck"
                 for pid, _ in EARLIER_PAPER.findall(r.user.split("Earlier papers", 1)[-1])]
    assert asked == ["2604.00002", "2604.00003"], "the earlier version is no tie to read"
    assert [link.id for link in result.links[new.id]] == ["2603.00001", "2604.00002"], "kept first; the odd one dropped"
    assert result.links[new.id][0].same_work and result.read == 2
