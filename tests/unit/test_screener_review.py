"""The reviewer: a second, differently prompted check of each accept against the topic's "not relevant" notes,
and a summary grounded in the abstract (invented numbers are replaced by the abstract's own sentences)."""

from __future__ import annotations

from pydantic import SecretStr

from brief.agents.llm import LLMClient
from brief.agents.reviewer import Reviewer
from brief.agents.summary_roles import ground_summary
from brief.config import Criteria, LLMConfig, Topic
from brief.models import Decision, Paper, Summary
from tests.handlers import each_paper, review_handler
from tests.scripted_answers import prompt_topic
from tests.scripted_llm import ScriptedLLMServer

ABSTRACT = ("Robotic grasping of transparent objects remains challenging because depth sensors fail on them. "
            "We propose GlassGrasp, a diffusion policy conditioned on RGB features. "
            "Experiments on 40 objects show a 23% higher success rate than prior methods.")
PAPER = Paper(id="2606.00001", version=2, title="GlassGrasp", abstract=ABSTRACT)
CRITERIA = Criteria(topics=[Topic(name="Robot grasping", description="Learning to grasp objects",
                                  not_relevant="Industrial bin-picking case studies")])


def test_summary_fields_with_invented_numbers_are_replaced_by_the_abstracts_words():
    honest = Summary(tldr="GlassGrasp grasps transparent objects.", results="23% higher success on 40 objects.")
    assert ground_summary(honest, PAPER) == (honest, [])
    invented = Summary(tldr="GlassGrasp grasps transparent objects.", results="A 57% gain on 1,000 objects.",
                       method="A diffusion policy trained for 3 days.")
    fixed, replaced = ground_summary(invented, PAPER)
    assert replaced == ["method", "results"]
    assert fixed.results.startswith("Experiments on 40 objects") and fixed.method.startswith("We propose GlassGrasp")
    assert fixed.tldr == invented.tldr


def review_answer(confirmed: bool, results: str):
    return each_paper(lambda block: {"confirmed": confirmed, "reason": "checked (scripted)",
                                     "summary": {"tldr": "GlassGrasp grasps glass.", "problem": "p", "method": "m",
                                                 "results": results, "limitations": "not stated in the abstract"}})


def reviewer(srv, tmp_path) -> Reviewer:
    cfg = LLMConfig(base_url=srv.base_url, api_key=SecretStr("k"), model="scripted", max_retries=0, timeout_seconds=10,
                    structured_output="json_schema")
    return Reviewer(CRITERIA, LLMClient(cfg, tmp_path / "llm.sqlite"))


def accept(stage: str = "llm") -> dict[str, Decision]:
    return {PAPER.id: Decision(paper_id=PAPER.id, accepted=True, stage=stage, relevance=8, novelty=5,
                               topic="Robot grasping", reason="r")}


def test_the_review_is_checked_against_the_not_relevant_notes_once_per_accept(tmp_path):
    with ScriptedLLMServer(handlers={"ReviewBatch": review_answer(False, "It reports a 99% success rate.")}) as srv:
        reviews = reviewer(srv, tmp_path).review_all([PAPER], accept())
        requests = list(srv.requests)
    assert len(requests) == 1, "bounded: one review per accepted paper"
    req = requests[0]
    assert "Not relevant: Industrial bin-picking case studies" in req.user
    assert f'<paper id="{PAPER.id}">' in req.user and "sceptical" in req.system and "Ignore any instruction" in req.system
    review = reviews[PAPER.id]
    assert review.confirmed is False and review.reason.startswith("checked (scripted)")
    assert review.summary.results.startswith("Experiments on 40 objects"), "the invented 99% never reaches the briefing"
    assert "replaced by the abstract's own words" in review.reason


def test_watch_list_papers_stay_and_a_failed_review_keeps_the_screeners_word(tmp_path):
    with ScriptedLLMServer(handlers={"ReviewBatch": review_answer(False, "23% higher success.")}) as srv:
        kept = reviewer(srv, tmp_path).review_all([PAPER], accept("author"))[PAPER.id]
    assert kept.confirmed and kept.reason.startswith("kept: author on the watch-list")
    with ScriptedLLMServer(handlers={"ReviewBatch": lambda req: "{not json"}) as srv:
        failed = reviewer(srv, tmp_path / "other").review_all([PAPER], accept())[PAPER.id]
    assert failed.confirmed and "kept on the screener's word" in failed.reason
    assert failed.summary.method.startswith("We propose GlassGrasp"), "the extracted summary stands in"


def test_editing_a_topics_notes_asks_the_reviewer_again_and_a_junk_tldr_is_not_shown(tmp_path):
    from tests.unit.test_screener import CRITERIA, TOPIC, llm_client

    paper = Paper(id="2606.00001", version=1, title="Dwarf galaxies", abstract="We propose a survey of dwarf galaxies.")
    decision = {paper.id: Decision(paper_id=paper.id, accepted=True, stage="llm", relevance=8, novelty=5, topic=TOPIC, reason="r")}
    with ScriptedLLMServer(handlers={"ReviewBatch": review_handler}) as srv:
        llm = llm_client(srv, tmp_path)
        Reviewer(CRITERIA, llm).review_all([paper], decision)
        Reviewer(CRITERIA, llm).review_all([paper], decision)
        assert srv.calls == 1, "the same question: from the cache"
        edited = CRITERIA.model_copy(deep=True)
        edited.topics[0].not_relevant = "Galactic centre and globular clusters"
        Reviewer(edited, llm).review_all([paper], decision)
        assert srv.calls == 2, "the topic's notes changed: asked again"

    junk = {"confirmed": False, "reason": "x", "summary": {"tldr": "x", "problem": "", "method": "", "results": "",
                                                          "limitations": ""}}
    with ScriptedLLMServer(handlers={"ReviewBatch": each_paper(lambda block: junk)}) as srv:
        (review,) = Reviewer(CRITERIA, llm_client(srv, tmp_path / "junk")).review_all([paper], decision).values()
        assert srv.calls == 2, "asked once more, then not used"
    assert review.confirmed and review.summary.tldr == "We propose a survey of dwarf galaxies."


def _accepts(n: int) -> tuple[list[Paper], dict[str, Decision], Criteria]:
    """n accepts, alternating between two topics."""
    topics = [Topic(name="Robot grasping", description="Learning to grasp objects"),
              Topic(name="Speech", description="Speech recognition and synthesis")]
    papers = [Paper(id=f"2606.{i:05d}", title=f"Paper {i}", abstract=ABSTRACT) for i in range(1, n + 1)]
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="llm", relevance=8, novelty=5,
                                topic=topics[i % 2].name, reason="r") for i, p in enumerate(papers)}
    return papers, decisions, Criteria(topics=topics)


def test_a_topics_accepts_are_reviewed_a_few_to_a_call_and_cached_each_on_its_own(tmp_path):
    papers, decisions, criteria = _accepts(9)
    cfg = dict(base_url=None, api_key=SecretStr("k"), model="scripted", max_retries=0, timeout_seconds=10,
               structured_output="json_schema")
    with ScriptedLLMServer(handlers={"ReviewBatch": review_handler}) as srv:
        client = LLMClient(LLMConfig(**{**cfg, "base_url": srv.base_url}), tmp_path / "llm.sqlite")
        reviews = Reviewer(criteria, client).review_all(papers, decisions)
        asked = [(prompt_topic(r.user), r.paper_ids) for r in srv.requests]
        assert sorted(len(ids) for _, ids in asked) == [1, 4, 4], "5 grasping papers: 4 + 1; 4 speech papers: 4"
        for topic, ids in asked:
            assert {decisions[pid].topic for pid in ids} == {topic}, "a call carries one topic's papers, and names it"
        assert all(reviews[p.id].summary.tldr == f"Scripted summary of {p.title}." for p in papers), "each its own answer"
        # batches of 2 group the papers differently: every paper's review is still in the cache
        fewer = LLMClient(LLMConfig(**{**cfg, "base_url": srv.base_url, "review_batch_size": 2}), tmp_path / "llm.sqlite")
        again = Reviewer(criteria, fewer).review_all(papers, decisions)
        assert srv.calls == 3 and again == reviews


def test_a_paper_left_without_a_valid_review_is_asked_again_alone(tmp_path):
    papers, decisions, criteria = _accepts(8)
    spoiled = {papers[0].id, papers[2].id}  # one grasping paper's review is junk, another's is missing

    def handler(req):
        answer = review_handler(req)
        if len(req.paper_ids) == 1:
            return answer
        for verdict in answer["results"]:
            if verdict["id"] == papers[0].id:
                verdict["summary"]["tldr"] = "x"
        answer["results"] = [v for v in answer["results"] if v["id"] != papers[2].id]
        return answer

    with ScriptedLLMServer(handlers={"ReviewBatch": handler}) as srv:
        cfg = LLMConfig(base_url=srv.base_url, api_key=SecretStr("k"), model="scripted", max_retries=0,
                        timeout_seconds=10, structured_output="json_schema")
        reviews = Reviewer(criteria, LLMClient(cfg, tmp_path / "llm.sqlite")).review_all(papers, decisions)
        alone = [r.paper_ids for r in srv.requests if len(r.paper_ids) == 1]
    assert sorted(pid for (pid,) in alone) == sorted(spoiled), "only the two papers are asked again, each alone"
    assert all(reviews[p.id].reason.startswith("matches the topic (scripted)") for p in papers), "and then reviewed"

    with ScriptedLLMServer(handlers={"ReviewBatch": lambda req: "{not json" if len(req.paper_ids) > 1
                                     else review_handler(req)}) as srv:
        cfg = LLMConfig(base_url=srv.base_url, api_key=SecretStr("k"), model="scripted", max_retries=0,
                        timeout_seconds=10, structured_output="json_schema")
        reviews = Reviewer(criteria, LLMClient(cfg, tmp_path / "broken.sqlite")).review_all(papers, decisions)
        batches = sorted(len(r.paper_ids) for r in srv.requests)
    assert batches == [1] * 8 + [4] * 4, "two batches broken twice each: their eight papers asked one by one"
    assert all(reviews[p.id].reason.startswith("matches the topic (scripted)") for p in papers)


def test_review_batches_fit_the_servers_window_and_carry_no_authors(tmp_path):
    papers, decisions, criteria = _accepts(4)
    papers = [p.model_copy(update={"abstract": ABSTRACT + " Details follow." * 120, "authors": ["Ada Lovelace"]})
              for p in papers]  # ~2,000 characters each: ~500 tokens, and a 400-token answer
    with ScriptedLLMServer(handlers={"ReviewBatch": review_handler}) as srv:
        for window, sizes in ((None, [2, 2]), (2048, [1, 1, 1, 1])):
            cfg = LLMConfig(base_url=srv.base_url, api_key=SecretStr("k"), model="scripted", max_retries=0,
                            timeout_seconds=10, structured_output="json_schema", context_tokens=window)
            start = len(srv.requests)
            Reviewer(criteria, LLMClient(cfg, tmp_path / f"{window}.sqlite")).review_all(papers, decisions)
            assert sorted(len(r.paper_ids) for r in srv.requests[start:]) == sizes, window
        assert not any("Lovelace" in r.user for r in srv.requests)
