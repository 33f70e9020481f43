"""Topic evidence, per-topic calibration and the shared weekly cap (agents/topic_evidence.py, agents/budget.py).

Evidence is measured with the real local embedder: what a "not relevant" note means is a question of text.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from brief.agents import budget
from brief.agents.topic_evidence import TopicEvidence, clauses, prototypes
from brief.config import Topic
from brief.memory import open_embedder

MULTI = Topic(name="Multi-agent LLM systems",
              description="Systems of several LLM-based agents that communicate, debate or cooperate to solve tasks.",
              relevant="Multi-agent LLM frameworks; agent communication protocols.",
              not_relevant="Multi-agent reinforcement learning without language models; game theory without LLMs.")
SPEECH = Topic(name="Speech recognition", description="Automatic speech recognition and spoken language models.")
MARL = ("Decentralised multi-agent reinforcement learning for cooperative navigation. We train independent Q-learning "
        "agents with a centralised critic on StarCraft micromanagement and predator-prey benchmarks.")
LLM_TEAM = ("A team of large language model agents that debate and critique each other's answers. Several GPT-4 "
            "agents communicate in natural language and reach consensus, improving reasoning accuracy.")
ASR = "We propose a streaming speech recognition model for spoken dialogue that lowers word error rate on noisy audio."


@pytest.fixture(scope="module")
def embed(tmp_path_factory):
    from brief.config_file import load_settings

    base = load_settings(None, env={})
    settings = base.model_copy(update={"memory": base.memory.model_copy(update={"cache_dir": tmp_path_factory.mktemp("c")})})
    return open_embedder(settings).embed


def test_notes_become_clauses_and_items():
    got = clauses("Learning robot manipulation policies: imitation learning, diffusion or flow policies. Sim-to-real; datasets")
    assert "Learning robot manipulation policies: imitation learning" in got
    assert "Learning robot manipulation policies: flow policies" in got
    assert "Sim-to-real" in got and "datasets" in got
    proto = prototypes(MULTI)
    assert "Multi-agent reinforcement learning without language models" in proto.negative
    assert len(proto.positive) >= 4 and not any("reinforcement" in p for p in proto.positive)


def test_a_note_in_prose_becomes_items_without_its_asides():
    """A real user's astro-ph note (cgarling): a parenthesised example is an item of its own and nothing inside
    the parentheses splits; wording about scope or weight is no evidence; a subject the user ranks down is not
    evidence for the topic; what the user weights up is."""
    got = clauses("Astrophysics work focusing on dwarf satellite galaxies of the Milky Way, abundances of dwarf galaxies, "
                  "signs of historic interactions between the Milky Way and other galaxies (e.g., the accreted stellar "
                  "halo). Both theoretical and observational work is relevant.")
    assert "the accreted stellar halo" in got and "abundances of dwarf galaxies" in got
    assert "other galaxies (e.g., the accreted stellar halo)" in got
    assert not any(g.endswith("(e.g") or g.endswith(")") and "(" not in g for g in got), got
    assert not any("relevant" in g or g.startswith("Both") for g in got), got
    weighted = clauses("Measurements of mass-loading factors are particularly relevant. Work on galaxies more massive "
                       "than the LMC should be weighted lower. Increased weight should be given to work that connects "
                       "the CGM to ISM outflows.")
    assert weighted == ["Measurements of mass-loading factors", "work that connects the CGM to ISM outflows"], weighted


def test_not_relevant_note_counts_against_only_the_papers_it_fits(embed):
    topics = [MULTI, SPEECH]
    evidence = TopicEvidence(topics, embed, embed([t.text() for t in topics]))
    found = evidence.score(embed([MARL, LLM_TEAM, ASR]))
    marl, team, asr = 0, 1, 2
    assert found.against_notes[marl, 0] > found.best_item[marl, 0]  # the note fits the MARL paper best...
    assert found.net[marl, 0] < found.support[marl, 0]  # ...so it counts against it
    assert found.net[team, 0] == pytest.approx(found.support[team, 0])  # and not against an LLM team
    assert found.net[team, 0] > found.net[marl, 0] + 0.05
    assert list(found.best) == [0, 0, 1]
    assert found.net[asr, 0] < found.support[asr, 0]  # closer to another topic: counts against this one


def test_calibration_puts_topics_on_one_scale():
    rng = np.random.default_rng(0)
    broad = rng.normal(0.40, 0.10, 500)  # a broad topic sits near every paper
    narrow = rng.normal(0.10, 0.03, 500)
    z = budget.calibrate(np.column_stack([broad, narrow]))
    assert abs(np.median(z[:, 0])) < 0.05 and abs(np.median(z[:, 1])) < 0.05
    assert 0.8 < z[:, 0].std() / z[:, 1].std() < 1.25  # one threshold, the same share of each topic's week
    small = budget.calibrate(np.array([[0.16, 0.40]]))  # too few papers for a background: the prior one
    assert small[0, 0] == pytest.approx(0.0) and small[0, 1] > 2


def test_relevance_spreads_with_the_evidence():
    values = [budget.relevance(z) for z in (-1, 1, 2, 3, 4, 5, 7)]
    assert values == sorted(values) and values[0] == 1 and values[-1] >= 9 and len(set(values)) >= 5


def test_the_cap_gives_each_qualifying_topic_a_floor_then_goes_by_merit():
    strong = [budget.Candidate(paper_id=f"a{i}", topic="A", merit=10 - i * 0.1) for i in range(50)]
    weak = [budget.Candidate(paper_id=f"b{i}", topic="B", merit=2 + i * 0.01) for i in range(5)]
    topics = [Topic(name="A", description="a"), Topic(name="B", description="b"), Topic(name="C", description="c")]
    taken, table = budget.allocate(strong + weak, 10, topics)
    rows = {t.topic: (t.qualifying, t.accepted, t.cut) for t in table}
    assert rows == {"A": (50, 7, 43), "B": (5, 3, 2), "C": (0, 0, 0)}  # floor ceil(10 / (2 × 2)) = 3
    assert {"b4", "b3", "b2"} <= taken and "a0" in taken and len(taken) == 10
    capped = [t.model_copy(update={"max_papers": 2}) if t.name == "A" else t for t in topics]
    taken, table = budget.allocate(strong + weak, 10, capped)
    assert {t.topic: t.accepted for t in table} == {"A": 2, "B": 5, "C": 0}


def test_offline_reviewer_rejects_accepts_its_topic_excludes_or_from_another_field(embed):
    from brief.agents.reviewer import Reviewer
    from brief.config import Criteria
    from brief.models import Decision, Paper

    texts = {"marl": MARL, "team": LLM_TEAM,
             "astro": "We measure the stellar mass function of dwarf satellite galaxies around the Milky Way with deep "
                      "photometry and compare it with cold dark matter simulations."}
    papers = [Paper(id=k, title=k, abstract=v) for k, v in texts.items()]
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="offline", relevance=6, novelty=0,
                                topic=MULTI.name, reason="test") for p in papers}
    reviews = Reviewer(Criteria(topics=[MULTI, SPEECH]), None, embed=embed).review_all(papers, decisions)
    assert reviews["team"].confirmed
    assert not reviews["marl"].confirmed and "not relevant" in reviews["marl"].reason
    assert not reviews["astro"].confirmed and "another field" in reviews["astro"].reason


def test_the_chance_cut_keeps_a_narrow_topics_standouts_and_a_broad_topics_many():
    rng = np.random.default_rng(5)
    background = rng.standard_normal(1200)  # the week's papers on the calibrated scale: a standard normal
    near_misses = [float(m) for m in background if m >= 1.5]
    narrow = near_misses + [4.2, 4.5, 4.8, 5.0, 5.3, 5.6]
    cut = budget.chance_excess(narrow, len(background), 0.3)
    kept = [m for m in narrow if m >= cut]
    assert {4.2, 4.5, 4.8, 5.0, 5.3, 5.6} <= set(kept), "the papers that stand out stay"
    assert len(kept) - 6 <= math.ceil(0.3 * len(kept)), f"chance matches within the bound, kept {len(kept)}"
    assert len(background) * 0.5 * math.erfc(cut / math.sqrt(2)) <= 0.3 * len(kept)

    broad = near_misses + [float(m) for m in rng.uniform(2.0, 4.0, 150)]
    kept_broad = [m for m in broad if m >= budget.chance_excess(broad, len(background), 0.3)]
    assert len(kept_broad) >= 150, "a topic with many matches keeps them"
    assert budget.chance_excess(near_misses, len(background), 0.3) == math.inf, "chance alone: nothing stands out"
