"""Screening answers read leniently, as real models write them (issue 14): ids with `arXiv:` prefixes,
versions, URLs, spaces or the paper's number; topics in other casing, by number or slightly misspelt. What
still can't be matched is counted and reported, never a reject, never cached, and only those papers are
re-asked."""

from __future__ import annotations

import json
import re

import pytest

from brief.agents.llm_protocol import REASON_CHARS, match_ids, norm_id
from brief.agents.llm_protocol import answer_room
from brief.agents.screen_llm import ANSWER_TOKENS, BatchScreener, match_topic
from brief.agents.screen_note import screen_note
from brief.agents.screener import Screener
from brief.config import LLMConfig, ScreeningConfig
from brief.models import Paper
from tests.scripted_llm import ScriptedLLMServer, labels_screen_handler
from tests.unit.test_screener import (
    CRITERIA,
    TOPIC,
    TOPICS,
    llm_client,
    make_papers,
    vectors_of,
)

TOPIC_NAMES = [t.name for t in CRITERIA.topics]  # "Dwarf galaxies", "Robot grasping"


@pytest.mark.parametrize("answer", ["2606.01234", "arXiv:2606.01234", "ARXIV: 2606.01234v3", " 2606.01234 ",
                                    "2606.01234v2", "https://arxiv.org/abs/2606.01234v1", "[2606.01234]",
                                    "http://arxiv.org/pdf/2606.01234.pdf"])
def test_ids_are_matched_after_normalising(answer):
    assert norm_id(answer) == "2606.01234"
    batch = [Paper(id="2606.00001", title="a", abstract="a"), Paper(id="2606.01234", title="b", abstract="b")]
    assert match_ids([answer], batch) == ["2606.01234"]


def test_ids_are_matched_by_their_number_in_the_batch_and_strays_stay_unmatched():
    batch = [Paper(id=f"2606.0000{i}", title="t", abstract="a") for i in range(1, 4)]
    assert match_ids(["2", "#3", "paper 1", "4", "2606.99999", "0"], batch) == ["2606.00002", "2606.00003", "2606.00001",
                                                                               None, None, None]


def test_one_verdict_per_paper_with_every_id_garbled_is_read_in_the_batchs_order():
    batch = [Paper(id=f"2606.0000{i}", title="t", abstract="a") for i in range(1, 4)]
    assert match_ids(["2606.1", "paper x", "2606.77777"], batch) == ["2606.00001", "2606.00002", "2606.00003"]
    assert match_ids(["2606.00002", "garbled", "2606.77777"], batch) == ["2606.00002", None, None], "one id matched"
    assert match_ids(["garbled", "2606.77777"], batch) == [None, None], "fewer verdicts than papers: no guess"
    assert match_ids(["2606.77777"], batch[:1]) == ["2606.00001"], "a batch of one: its only verdict is about it"


@pytest.mark.parametrize("answer, expected", [
    ("Dwarf galaxies", "Dwarf galaxies"), ("DWARF GALAXIES", "Dwarf galaxies"), ("  dwarf   galaxies ", "Dwarf galaxies"),
    ("2", "Robot grasping"), ("2. Robot grasping", "Robot grasping"), ("Topic 1", "Dwarf galaxies"),
    ("Dwarf galaxy", "Dwarf galaxies"), ("robot-grasping", "Robot grasping"),
    ("Galaxies", None), ("3", None), ("2. Dwarf galaxies", None), ("none", None), ("Astrophysics", None),
])
def test_topics_are_matched_by_case_number_or_a_close_name(answer, expected):
    assert match_topic(answer, TOPIC_NAMES) == expected


def test_an_unmatched_answer_is_re_asked_alone_then_reported_not_rejected_nor_cached(tmp_path):
    papers = make_papers(8)
    odd = {papers[1].id: "Astrophysics", papers[5].id: "galaxies, dwarf"}  # unmatched topics at relevance 9
    sloppy = {papers[2].id: f"arXiv:{papers[2].id}v1", papers[6].id: "paper 99"}  # one fixable id, one stray

    def handler(req):
        answer = labels_screen_handler({p.id: 9 for p in papers}, topic=TOPIC)(req)
        for verdict in answer["results"]:
            verdict["topic"] = odd.get(verdict["id"], "dwarf GALAXIES")
            verdict["id"] = sloppy.get(verdict["id"], verdict["id"])
        return answer

    def screen(srv):
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS,
                            llm_client(srv, tmp_path, batch_size=8))
        return screener.run(papers, vectors_of(papers), seed="w")

    with ScriptedLLMServer(handlers={"ScreenBatch": handler}) as srv:
        result = screen(srv)
        asked = [sorted(r.paper_ids) for r in srv.requests]
    unmatched = sorted([*odd, papers[6].id])
    assert asked == [sorted(p.id for p in papers), unmatched], "one batch, then only the unmatched papers, together"
    by_id = {d.paper_id: d for d in result.decisions}
    for pid in unmatched:
        assert by_id[pid].stage == "unscreened" and not by_id[pid].accepted, by_id[pid]
    assert "matches no topic" in by_id[papers[1].id].reason and "missing from the answer" in by_id[papers[6].id].reason
    assert all(by_id[p.id].accepted and by_id[p.id].topic == TOPIC for p in papers if p.id not in unmatched)
    assert result.stats.unmatched_topics == 4 and result.stats.hallucinated_ids == 2  # each asked twice
    assert "named no topic" in screen_note(result.stats) and "never read as rejects" in screen_note(result.stats)

    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({p.id: 9 for p in papers}, topic=TOPIC)}) as fixed:
        again = screen(fixed)
        assert [sorted(r.paper_ids) for r in fixed.requests] == [unmatched], "the rest came from the cache"
    assert all(d.accepted for d in again.decisions)


def test_a_low_relevance_verdict_with_an_odd_topic_is_a_reject(tmp_path):
    papers = make_papers(4)

    def handler(req):
        answer = labels_screen_handler({}, default=2, topic="Cosmology")(req)
        return answer

    with ScriptedLLMServer(handlers={"ScreenBatch": handler}) as srv:
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS,
                            llm_client(srv, tmp_path, batch_size=4))
        result = screener.run(papers, vectors_of(papers), seed="w")
        assert srv.calls == 1, "its topic can't change a reject: not re-asked"
    assert all(d.stage == "llm" and not d.accepted and d.topic is None for d in result.decisions)
    assert result.stats.unmatched_topics == 0


def test_context_tokens_size_screening_batches_to_the_servers_window(tmp_path):
    papers = make_papers(12)
    for p in papers:
        p.abstract = "A long abstract about dwarf galaxies and their satellites. " * 40  # ~2,400 characters
    window = 2048
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, default=7, topic=TOPIC)}) as srv:
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS,
                            llm_client(srv, tmp_path, batch_size=8, context_tokens=window))
        result = screener.run(papers, vectors_of(papers), seed="w")
        asked = list(srv.requests)
    assert all(r.prompt_chars / 4 + 80 * len(r.paper_ids) <= window for r in asked), [r.prompt_chars for r in asked]
    assert len(asked) > 12 / 8 + 1 and max(len(r.paper_ids) for r in asked) > 1, "smaller batches, still batched"
    assert all(d.stage == "llm" and d.accepted for d in result.decisions)


def test_a_server_refusing_prompt_plus_max_tokens_over_its_window_is_asked_again_with_the_room_left(tmp_path):
    """vLLM refuses a request whose prompt and max_tokens exceed --max-model-len (llama.cpp trims the answer
    instead); without `[llm] context_tokens` set, the default max_tokens.screen (4,000) is over an 8k window
    whenever a batch's prompt is over 4k tokens. Each call is asked again at once with what the window has left,
    as the refusal states it: no paper unscreened, no failure counted towards the breaker."""
    papers = make_papers(16)
    for p in papers:
        p.abstract = "A long abstract about dwarf galaxies and their satellites. " * 30  # ~1,800 characters
    window = 5000
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, default=7, topic=TOPIC)},
                           context_window=window) as srv:
        llm = llm_client(srv, tmp_path, batch_size=8, breaker_failures=1)
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS, llm)
        result = screener.run(papers, vectors_of(papers), seed="w")
        asked = [(r.prompt_chars // 4, r.body.get("max_tokens")) for r in srv.requests]
    assert len(asked) == 4 and srv.calls == 2, asked  # two batches of 8, each refused once at max_tokens 4,000
    assert sorted(limit for _, limit in asked)[-2:] == [4000, 4000]
    assert all(prompt + limit == window for prompt, limit in asked if limit != 4000), "the room the window left"
    assert all(d.stage == "llm" and d.accepted for d in result.decisions)
    assert not llm.take_partial()

    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, default=7, topic=TOPIC)},
                           context_window=window) as srv:  # told the window, brief asks for no more than is left
        llm = llm_client(srv, tmp_path / "told", batch_size=8, context_tokens=window)
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS, llm)
        result = screener.run(papers, vectors_of(papers), seed="w")
        assert srv.calls == len(srv.requests) >= 2, "no request refused"
    assert all(d.stage == "llm" and d.accepted for d in result.decisions)


def test_a_prompt_the_servers_window_cut_is_no_answer_and_three_in_a_row_stop_the_calls_naming_the_fix(tmp_path):
    """Ollama (num_ctx) and LM Studio cut a prompt longer than their window and answer what is left; only the
    usage says so. A batch whose prompt was cut is asked again paper by paper (those prompts fit); when even
    those are cut, the calls stop after three in a row, with the fix."""
    papers = make_papers(8)
    for p in papers:
        p.abstract = "A long abstract about dwarf galaxies and their satellites. " * 30  # ~1,800 characters
    handlers = {"ScreenBatch": labels_screen_handler({}, default=7, topic=TOPIC)}
    with ScriptedLLMServer(handlers=handlers, prompt_window=1500) as srv:
        llm = llm_client(srv, tmp_path, batch_size=8, concurrency=1)
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS, llm)
        result = screener.run(papers, vectors_of(papers), seed="w")
        sizes = [len(r.paper_ids) for r in srv.requests]
    assert sizes == [8] + [1] * 8, "the cut batch is asked again paper by paper"
    assert all(d.stage == "llm" and d.accepted for d in result.decisions)
    assert result.stats.retried_alone == 8 and not llm.take_partial()

    with ScriptedLLMServer(handlers=handlers, prompt_window=200) as srv:
        llm = llm_client(srv, tmp_path / "tiny", batch_size=8, concurrency=1)
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS, llm)
        result = screener.run(papers, vectors_of(papers), seed="w")
        calls = srv.calls
    assert calls == 3, "the batch and two papers alone: three cut prompts in a row stop the calls"
    assert all(d.stage == "unscreened" for d in result.decisions)
    (reason,) = llm.take_partial()
    assert "the server read 200 of the ~" in reason and "num_ctx" in reason and "[llm] context_tokens" in reason


@pytest.mark.parametrize("message, left", [
    ("This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (5000 in the messages, "
     "4000 in the completion). Please reduce the length of the messages or completion.", 3192),
    ("This model's maximum context length is 8192 tokens. However, you requested 4000 output tokens and your prompt "
     "contains at least 5001 input tokens, for a total of at least 9001 tokens.", 3191),
    ("This model's maximum context length is 2048 tokens. However, your request has 8 input tokens plus 2045 "
     "'max_tokens'. Please reduce one or the other.", 2040),
    ("This model's maximum context length is 2048 tokens. However, your request has 2100 input tokens.", None),
    ("response_format: Input should be 'text' or 'json_object'", None),
])
def test_the_room_a_window_refusal_leaves_is_read_from_each_vllm_wording(message, left):
    import httpx
    import openai

    from brief.agents.llm_limits import window_left

    response = httpx.Response(400, request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"))
    assert window_left(openai.BadRequestError(message, response=response, body={"message": message})) == left


def test_screening_batches_leave_each_verdict_room_in_the_answer(tmp_path):
    """A server stops an answer at max_tokens; a batch whose verdicts can't fit would be cut and re-asked
    paper by paper. Verdicts as long as real models write them (~70 tokens) in an answer of 400 tokens."""
    papers = make_papers(12)
    wordy = "The abstract studies dwarf galaxies and their satellites, squarely what the first topic describes. "

    def handler(req):
        answer = labels_screen_handler({}, default=8, topic=TOPIC)(req)
        for verdict in answer["results"]:
            verdict["reason"] = wordy * 2
        return answer

    with ScriptedLLMServer(handlers={"ScreenBatch": handler}) as srv:
        llm = llm_client(srv, tmp_path, batch_size=8, max_tokens={"screen": 400})
        result = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS,
                          llm).run(papers, vectors_of(papers), seed="w")
        sizes = [len(r.paper_ids) for r in srv.requests]
        assert srv.completion_tokens <= 400 * len(sizes)
    assert max(sizes) == 400 // ANSWER_TOKENS == 5 and sum(sizes) == 12, sizes
    assert result.stats.retried_alone == 0
    assert all(d.stage == "llm" and d.accepted for d in result.decisions)
    assert answer_room(LLMConfig(), "screen", ANSWER_TOKENS) >= 3 * LLMConfig().batch_size, "the default answer holds a default first-look batch"


def test_llm_facing_schemas_have_no_defaults_and_ask_the_reason_first():
    from brief.agents.planner import ReviewPlan
    from brief.agents.review_writer import ReviewFindings
    from brief.agents.review_llm import ReviewBatch, ReviewVerdict
    from brief.agents.screen_llm import PaperVerdict, ScreenBatch
    from brief.agents.synthesis_writer import Overview, ThemeDraft
    from brief.evals.judge import GroundingVerdict, SentenceVerdict

    for schema in (ScreenBatch, ReviewBatch, ThemeDraft, Overview, ReviewPlan, ReviewFindings, GroundingVerdict):
        text = json.dumps(schema.model_json_schema())
        assert '"default"' not in text, schema.__name__
    for schema, decision in ((PaperVerdict, "relevance"), (ReviewVerdict, "confirmed"), (SentenceVerdict, "supported")):
        fields = list(schema.model_fields)
        assert fields.index("reason") < fields.index(decision), schema.__name__


def test_each_batch_is_sent_a_schema_naming_its_own_ids_and_the_topics(tmp_path):
    papers = make_papers(30)
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, topic=TOPIC)}) as srv:
        Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS,
                 llm_client(srv, tmp_path, batch_size=7)).run(papers, vectors_of(papers), seed="w")
        requests = [r for r in srv.requests if r.schema_name == "ScreenBatch"]
    assert len(requests) >= 4 and sorted(pid for r in requests for pid in r.paper_ids) == sorted(p.id for p in papers)
    for r in requests:
        results = r.schema["properties"]["results"]
        verdict = results["items"]["properties"]
        assert verdict["id"]["enum"] == r.paper_ids and results["minItems"] == results["maxItems"] == len(r.paper_ids)
        assert verdict["topic"]["enum"] == [*TOPIC_NAMES, "none"]
        assert list(verdict) == ["id", "reason", "topic", "relevance", "novelty"], "the reason before the scores"
        assert verdict["reason"]["maxLength"] == REASON_CHARS, "a server decoding under the schema ends a runaway reason"
        assert "description" not in results["items"], "no docstring of ours in the request"


def test_the_screening_prompt_states_the_configured_thresholds(tmp_path):
    papers = make_papers(2)
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, topic=TOPIC)}) as srv:
        Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False, accept_relevance=8), TOPICS,
                 llm_client(srv, tmp_path)).run(papers, vectors_of(papers), seed="w")
        (request,) = srv.requests
    assert "accepted at relevance 8 or more" in request.user
    assert "4 or more" not in request.system


def test_only_a_call_carrying_a_shortened_abstract_is_told_how_to_read_one(tmp_path):
    papers = make_papers(4)
    for p in papers:
        p.abstract += " Further details of the observations and the data reduction are given in the paper." * 8
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, topic=TOPIC)}) as srv:
        screener = BatchScreener(llm_client(srv, tmp_path), {"interests": "dwarfs", "topics": TOPIC}, "k",
                                 topics=TOPIC_NAMES, accept_relevance=8)
        screener.screen(papers)
        screener.screen(papers, brief_chars=200)
        full, look = [r for r in srv.requests if r.schema_name == "ScreenBatch"]
    rules = "A shortened abstract is re-read in full at relevance 6 or more and below 10; at 10 or more"
    assert rules in " ".join(look.user.split()) and "[abstract cut short]" in look.user
    assert "cut short" not in full.user + full.system and "accepted at relevance 8 or more" in full.user
    head = [r.user.split("Papers to screen")[0] for r in (full, look)]
    assert len(head[0]) < len(head[1]) - 400, "a full read pays for no first-look rules"


def test_a_first_look_shows_the_sentence_saying_what_the_paper_does(tmp_path):
    papers = make_papers(3)
    opening = "Dwarf galaxies are the most numerous galaxies in the Universe and trace the small-scale structure. "
    papers[0].abstract = opening * 3 + "We propose a kinematic census of their globular clusters. " + "More details follow. " * 10
    papers[1].abstract = opening * 6  # no such sentence: the opening is shown
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, topic=TOPIC)}) as srv:
        screener = BatchScreener(llm_client(srv, tmp_path), {"interests": "dwarfs", "topics": TOPIC}, "k",
                                 topics=TOPIC_NAMES, accept_relevance=8)
        screener.screen(papers[:2], brief_chars=200)
    shown = dict(re.findall(r'<paper id="([^"]+)">.*?<abstract>(.*?)</abstract>', srv.requests[-1].user, re.S))
    assert shown[papers[0].id] == "We propose a kinematic census of their globular clusters. ... [abstract cut short]"
    assert shown[papers[1].id].startswith("Dwarf galaxies are the most numerous") and len(shown[papers[1].id]) <= 200 + 24


def test_a_failed_batch_is_re_asked_paper_by_paper_concurrently(tmp_path):
    import time

    papers = make_papers(8)
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, default=7, topic=TOPIC)},
                           faults=["malformed", "malformed"], latency=0.4) as srv:
        screener = Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS,
                            llm_client(srv, tmp_path, batch_size=8, concurrency=4, requests_per_minute=6000))
        started = time.perf_counter()
        result = screener.run(papers, vectors_of(papers), seed="w")
        seconds = time.perf_counter() - started
        sizes = [len(r.paper_ids) for r in srv.requests]
    assert sizes == [8, 8] + [1] * 8, "the batch twice (malformed), then each paper alone"
    assert all(d.stage == "llm" for d in result.decisions) and result.stats.retried_alone == 8
    serial = 2 * 0.4 + 8 * 0.4  # 4.0 s one after another; 4 at a time needs about 1.6 s
    assert seconds < 0.75 * serial, f"{seconds:.1f} s: the 8 re-asks ran concurrently, not one after another"


def test_screening_prompts_carry_the_work_not_its_authors(tmp_path):
    """A topic is matched on the title and abstract; the watch-list is matched locally. Names in the prompt
    would cost tokens and let a famous name earn relevance."""
    papers = make_papers(6)
    for p in papers:
        p.authors = ["Grace Hopper", "Alan Turing"]
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler({}, default=8, topic=TOPIC)}) as srv:
        Screener(CRITERIA.model_copy(update={"authors": []}), ScreeningConfig(prefilter=False), TOPICS,
                 llm_client(srv, tmp_path, batch_size=6)).run(papers, vectors_of(papers), seed="w")
        asked = [r.user for r in srv.requests]
    assert asked and all("Paper 0" in u or "Paper 5" in u for u in asked)
    assert not any("Hopper" in u or "Turing" in u or "<authors>" in u for u in asked)
