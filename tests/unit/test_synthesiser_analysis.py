"""Facts per theme from data: earlier papers, cross-field bridges, and trends read from a real Chroma memory."""

import numpy as np
import pytest

from brief.agents.synthesiser import Synthesiser, offline_prose
from brief.agents.theme_analysis import direction, previous_weeks, trends
from brief.config import SynthesisConfig
from brief.memory.store import Memory
from brief.models import Decision, Link, Paper, Review, Summary, ThemeBrief


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def near(base, rng, n, scale=0.15):
    return unit(base + rng.normal(scale=scale, size=(n, len(base))))


@pytest.mark.parametrize("counts,totals,expected", [
    ([0, 0, 0, 0, 5], [0, 0, 0, 0, 100], "no history"),
    ([2, 3, 2, 3, 12], [100, 100, 100, 100, 100], "growing"),
    ([10, 12, 11, 9, 2], [100, 100, 100, 100, 100], "shrinking"),
    ([10, 12, 11, 9, 11], [100, 100, 100, 100, 100], "steady"),
    ([0, 0, 0, 0, 6], [100, 100, 100, 100, 100], "new"),
    ([10, 0, 0, 0, 10], [100, 0, 0, 0, 200], "shrinking"),  # shares, not counts: this week was twice as busy
])
def test_trend_direction_compares_shares(counts, totals, expected):
    assert direction(counts, totals) == expected


def test_previous_weeks_cross_the_year():
    assert previous_weeks("2026-W02", 4) == ["2025-W50", "2025-W51", "2025-W52", "2026-W01"]


def test_counts_near_read_every_week_of_both_collections(tmp_path):
    rng = np.random.default_rng(1)
    topic, other = rng.normal(size=16), rng.normal(size=16)
    memory = Memory(tmp_path / "chroma", "test")
    for week, n_near, n_far in (("2026-W20", 1, 9), ("2026-W21", 2, 8), ("2026-W22", 6, 4)):
        vecs = np.vstack([near(topic, rng, n_near), near(other, rng, n_far)])
        papers = [Paper(id=f"{week[-2:]}06.{i:05d}", title=f"p{i}") for i in range(len(vecs))]
        memory.remember(papers[:1], vecs[:1], week, status="accepted")
        memory.remember(papers[1:], vecs[1:], week, status="rejected")
    totals, counts = memory.weekly_counts_near(unit(topic)[None, :], ["2026-W19", "2026-W20", "2026-W21", "2026-W22"], 0.8)
    assert totals == {"2026-W19": 0, "2026-W20": 10, "2026-W21": 10, "2026-W22": 10}
    assert counts == [{"2026-W19": 0, "2026-W20": 1, "2026-W21": 2, "2026-W22": 6}]


def week_of_two_fields(rng):
    """Six robotics grasping papers (two filed under eess.SY) and six unrelated vision papers."""
    grasp, vision = rng.normal(size=32), rng.normal(size=32)
    papers, vectors = [], []
    for i, v in enumerate(near(grasp, rng, 6, 0.1)):
        cat = "eess.SY" if i in (1, 4) else "cs.RO"
        papers.append(Paper(id=f"2606.{i:05d}", title=f"Diffusion policy grasping study {i}", categories=[cat],
                            abstract=f"We train a diffusion policy for dexterous grasping of cluttered objects, variant {i}."))
        vectors.append(v)
    for i, v in enumerate(near(vision, rng, 6, 0.1), start=6):
        papers.append(Paper(id=f"2606.{i:05d}", title=f"Gaussian splatting scenes {i}", categories=["cs.CV"],
                            abstract=f"Gaussian splatting reconstructs large outdoor scenes from video, variant {i}."))
        vectors.append(v)
    return papers, np.stack(vectors), grasp


def test_offline_synthesis_reports_earlier_papers_bridges_and_trend(tmp_path):
    rng = np.random.default_rng(7)
    papers, vectors, grasp = week_of_two_fields(rng)
    memory = Memory(tmp_path / "chroma", "test")
    earlier = [Paper(id=f"2605.{i:05d}", title=f"Earlier grasping policy {i}", categories=["cs.RO"]) for i in range(3)]
    memory.remember(earlier, near(grasp, rng, 3, 0.1), "2026-W23", status="accepted")
    memory.remember(papers, vectors, "2026-W24", status="accepted")
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="offline", relevance=8 if "grasp" in p.title else 6,
                                novelty=5, reason="r") for p in papers}
    reviews = {p.id: Review(paper_id=p.id, confirmed=True, reason="ok", summary=Summary(tldr=f"TLDR {p.id}")) for p in papers}
    links = {"2606.00000": [Link(id="2605.00001", title="Earlier grasping policy 1", week="2026-W23", similarity=0.9,
                                 shared_terms=["diffusion policy"])]}
    result = Synthesiser(None, SynthesisConfig(), memory=memory).synthesise(
        "2026-W24", papers, vectors, decisions, reviews, links, [p.text_for_embedding() for p in papers])
    grasping, splatting = result.themes
    assert set(grasping.paper_ids) == {p.id for p in papers[:6]}, "heaviest theme first"
    assert [e.id for e in grasping.earlier] == ["2605.00001"] and grasping.earlier[0].categories == ["cs.RO"]
    assert grasping.earlier[0].linked_from == ["2606.00000"]
    assert len(grasping.new_ids) == 5
    assert grasping.bridges and all(b.across == "archives" for b in grasping.bridges[:1])
    assert {grasping.bridges[0].a_category, grasping.bridges[0].b_category} == {"cs.RO", "eess.SY"}
    assert not splatting.bridges, "one category: no bridge"
    assert grasping.trend.weeks[-2:] == ["2026-W23", "2026-W24"]
    assert grasping.trend.counts[-2] == 3 and grasping.trend.totals[-2] == 3
    assert grasping.trend.counts[-1] >= 4, "this week's own papers count leave-one-out, most of them near"
    assert splatting.trend.direction == "new", "nothing near it in W23"
    assert "[arXiv:2605.00001]" in grasping.prose and "2026-W23" in grasping.prose
    assert "Across fields" in grasping.prose
    assert set(grasping.citations) <= {f"arXiv:{p.id}" for p in papers} | {"arXiv:2605.00001"}
    assert offline_prose(grasping, {p.id: p for p in papers}, reviews) == grasping.prose


def test_a_theme_of_two_papers_has_no_trend(tmp_path):
    """A two-paper theme has no spread of its own to say what "near" is: a fixed floor counted the field's whole
    bulk as near it (a third of a week, "steady"). Larger themes keep theirs."""
    rng = np.random.default_rng(3)
    big, small = rng.normal(size=32), rng.normal(size=32)
    memory = Memory(tmp_path / "chroma", "test")
    # W23: 3 papers on each theme's subject and 30 of the same field, only loosely like the small one (cosine ~0.45)
    loose = unit(0.45 * unit(small) + 0.9 * unit(rng.normal(size=(30, 32))))
    earlier = np.vstack([near(big, rng, 3), near(small, rng, 3), loose])
    memory.remember([Paper(id=f"2605.{i:05d}", title=f"p{i}") for i in range(len(earlier))], earlier, "2026-W23",
                    status="seen")
    members = {**{f"2606.0000{i}": v for i, v in enumerate(near(big, rng, 4))},
               **{f"2606.0001{i}": v for i, v in enumerate(near(small, rng, 2))}}
    memory.remember([Paper(id=pid, title=pid) for pid in members], np.stack(list(members.values())), "2026-W24",
                    status="accepted")
    large = ThemeBrief(name="Large", paper_ids=[f"2606.0000{i}" for i in range(4)])
    pair = ThemeBrief(name="Pair", paper_ids=["2606.00010", "2606.00011"])
    assert float(np.mean(loose @ unit(small))) > 0.35, "the old floor counted every loose paper as near"
    large_trend, pair_trend = trends([large, pair], members, "2026-W24", 2, memory.weekly_counts_near)
    assert pair_trend is None
    assert large_trend.counts == [0, 3, 4] and large_trend.totals == [0, 36, 6]


def test_a_bridge_needs_a_shared_phrase_or_technical_term_not_a_common_word():
    from brief.agents.theme_analysis import bridges
    from brief.models import Theme
    from brief.phrases import text_frequencies

    papers = [  # two cross-field pairs: one shares only words ("swarms", "until"), the other a method's name
        Paper(id="2606.00001", title="Swarms of agents", categories=["cs.AI"],
              abstract="Language agents form swarms that negotiate until consensus."),
        Paper(id="2606.00002", title="Drone swarms", categories=["cs.RO"],
              abstract="Quadrotor swarms hover until the battery runs low."),
        Paper(id="2606.00003", title="Diffusion policy for grasping", categories=["cs.LG"],
              abstract="A diffusion policy learns dexterous grasping from demonstrations."),
        Paper(id="2606.00004", title="Dexterous grasping with a diffusion policy", categories=["cs.RO"],
              abstract="We deploy a diffusion policy for dexterous grasping on a real hand."),
    ]
    vectors = {p.id: unit(np.ones(4)) for p in papers}
    background = text_frequencies([p.text_for_embedding() for p in papers]
                                  + [f"Galaxy rotation curves, sample {i}." for i in range(40)])
    found = bridges(Theme(name="t", paper_ids=[p.id for p in papers]), {p.id: p for p in papers}, vectors, [], background)
    assert {frozenset((b.a_id, b.b_id)) for b in found} == {frozenset(("2606.00003", "2606.00004"))}, found
    assert "diffusion policy" in found[0].shared_terms or "dexterous grasping" in found[0].shared_terms
