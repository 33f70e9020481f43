"""Extractive summaries that don't lie: a sentence gets a role only on evidence, else the field says
"not stated in the abstract"; the TL;DR is never background; "Results" always holds a result-like sentence."""

from __future__ import annotations

import json

from brief.agents.summary_roles import extract_summary, ground_summary, is_result_like
from brief.models import NOT_STATED
from brief.models import Paper, Summary
from brief.sources.snapshot import paper_from_daily, sample_path
from brief.text import sentences


def demo_papers(n: int = 50) -> list[Paper]:
    """The first `n` papers of the bundled sample, W24's days first (what the quick start briefs)."""
    files = sorted(sample_path().glob("2026-06-1*.jsonl")) + sorted(sample_path().glob("2026-06-0*.jsonl"))
    papers = [paper_from_daily(json.loads(line), None, "sample") for f in files for line in f.read_text().splitlines()]
    return papers[:n]


def verbatim(value: str, paper: Paper) -> bool:
    """A sentence of the abstract (a long one clipped with "…"), or one without an opening clause."""
    value = value.removesuffix("…")
    for sent in sentences(paper.abstract):
        tails = [sent] + [sent[i + 2:] for i in range(len(sent)) if sent.startswith(", ", i)]
        if any(t.startswith(value) or (t[:1].upper() + t[1:]).startswith(value) for t in tails):
            return True
    return False


def test_on_50_demo_papers_results_are_results_and_tldrs_are_not_background():
    """Rule: a Results field is a sentence with a measured figure (%, ×, points, "by 12", "30 of 32", 0.80)
    or an explicit comparison (outperforms, better than, improves … over, experiments show …)."""
    papers = demo_papers()
    assert len(papers) == 50
    stated = 0
    for paper in papers:
        s = extract_summary(paper)
        if s.results != NOT_STATED:
            stated += 1
            assert is_result_like(s.results), (paper.id, s.results)
            assert verbatim(s.results, paper), "verbatim from the abstract"
        first = sentences(paper.abstract)[0]
        assert s.tldr != first or s.tldr == s.method or is_result_like(first), (paper.id, "background as TL;DR")
        for field in ("problem", "method", "limitations"):
            value = getattr(s, field)
            assert value == NOT_STATED or verbatim(value, paper), (paper.id, field)
    assert 20 <= stated < 50, f"{stated} of 50 state results: the rule should neither find none nor find all"


def test_roles_need_evidence():
    background = Paper(id="2606.1", title="Grasping Glass", abstract=(
        "Robotic grasping is a core skill for household robots. "
        "Transparent objects appear in many kitchens and offices. "
        "We present a benchmark of 40 glass objects that does not require depth sensing."))
    s = extract_summary(background)
    assert s.problem == NOT_STATED, "background is not a problem statement"
    assert s.results == NOT_STATED, "'40 glass objects' is a count, not a result"
    assert s.limitations == NOT_STATED, "'does not require' describes the method, not a limitation"
    assert s.tldr.startswith("We present a benchmark")
    no_method = Paper(id="2606.2", title="A Study of Sloshing", abstract="Liquids slosh in moving containers. They are hard to model.")
    assert extract_summary(no_method).tldr == "A Study of Sloshing", "without a method or result, the title, not background"


def test_result_rule_examples():
    for yes in ("Our method improves success by 23%.", "It outperforms all baselines on LIBERO.",
                "Rotate2Think improves accuracy in 30 of 32 configurations.", "Experiments show that X reduces sloshing.",
                "It reaches an AUROC of 0.804.", "A 10x speedup over first-order solvers."):
        assert is_result_like(yes), yes
    for no in ("We evaluate on 3 benchmarks and compare with state-of-the-art methods.",
               "ABot-Earth 0.5 is a generative model.", "We use a 7B model with 2.5D features."):
        assert not is_result_like(no), no


def test_latex_percentages_are_figures_and_a_bare_by_n_is_not():
    # abstracts write "\\%" (82 of 8,857 corpus abstracts had their only result sentence missed for it), and "by N"
    # names a count as often as a gain ("supervised by 1 hr of video", "validated by 902 annotators")
    for yes in (r"Our method improves Pass@1 accuracy by up to 4.63\% over strong backbones.",
                "It improves OCR-F1 over the strongest baseline by 85.3 percent on TextScenesHQ.",
                "RiVER exceeds mesh-based and Gaussian-splatting baselines at novel views by 3+dB PSNR.",
                "It lowers median time-to-first-token by about 20-33 percent.",
                r"EquiVLA achieves $92.6\%$ average success on LIBERO."):
        assert is_result_like(yes), yes
    for no in ("We evaluate LUCID on five tasks: push-T and cable routing supervised by 1 hr each of smartphone video.",
               "The dataset holds 2,111 videos from 203 performers, validated by 902 annotators.",
               "The hand integrates 20 joints driven by 16 independent actuators."):
        assert not is_result_like(no), no


def test_an_llm_results_field_without_an_outcome_is_replaced():
    paper = Paper(id="2606.3", title="GlassGrasp", abstract=(
        "We propose GlassGrasp, a diffusion policy for transparent objects. "
        "Experiments on 40 objects show a 23% higher success rate than prior methods."))
    llm = Summary(tldr="GlassGrasp grasps glass.", method="A diffusion policy.", results="We test it on glass objects.")
    fixed, replaced = ground_summary(llm, paper)
    assert replaced == ["results"] and "23%" in fixed.results and fixed.method == "A diffusion policy."


def test_a_field_shown_alone_drops_an_opening_that_points_back_at_unseen_sentences():
    paper = Paper(id="2606.00001", title="Foo", abstract=(
        "Video generators drift over long horizons. However, existing distillation methods struggle to keep "
        "motion coherent beyond a few seconds. To this end, in this paper, we propose Foo, a copula-aware "
        "regulariser for few-step students. Foo improves VBench by 2.1 points over DMD."))
    summary = extract_summary(paper)
    assert summary.tldr == "We propose Foo, a copula-aware regulariser for few-step students."
    assert summary.method == summary.tldr
    assert summary.problem == "Existing distillation methods struggle to keep motion coherent beyond a few seconds."
    exploit = Paper(id="2606.00005", title="Quux", abstract=(
        "Deep layers of VLA models are redundant. To exploit this, we introduce a training-free pipeline that "
        "removes twin layers. To do so, we compare layer features by kernel alignment."))
    assert extract_summary(exploit).tldr == "We introduce a training-free pipeline that removes twin layers."
    for opening in ("To address both gaps, ", "To dismantle this, ", "Under this formulation, ", "However,",
                    "To quantify and mitigate these hallucinations, "):
        s = extract_summary(Paper(id="2606.00006", title="Fox", abstract=opening + "we propose Fox, a decoder for LVLMs."))
        assert s.tldr == "We propose Fox, a decoder for LVLMs.", opening
    cased = Paper(id="2606.00002", title="Bar", abstract="In this paper, iPhone photos are denoised by a network we propose.")
    assert extract_summary(cased).tldr == "iPhone photos are denoised by a network we propose."
    kept = Paper(id="2606.00003", title="Baz", abstract="Thus, it works. Based on CLIP, we build Baz for retrieval.")
    assert extract_summary(kept).tldr == "Based on CLIP, we build Baz for retrieval.", "an opening naming its own subject stays"
    assert extract_summary(Paper(id="2606.00004", title="Qux", abstract="Thus, we propose Qux.")).tldr == "Thus, we propose Qux.", \
        "too little left without the opening: the sentence stays whole"


def test_a_models_not_stated_results_field_is_kept_in_any_wording():
    # "Not mentioned." was counted as a Results field with no outcome and replaced; the exact NOT_STATED was kept
    paper = Paper(id="2606.4", title="GlassGrasp", abstract="We propose GlassGrasp. It grasps glass with a suction cup.")
    for said in ("Not mentioned.", "N/A", NOT_STATED):
        llm = Summary(tldr="We propose GlassGrasp.", problem=NOT_STATED, method="We propose GlassGrasp.",
                      results=said, limitations=NOT_STATED)
        fixed, replaced = ground_summary(llm, paper)
        assert "results" not in replaced and fixed.results == said, (said, replaced)


def test_what_a_paper_did_is_found_in_the_words_other_fields_write():
    """Physics and astronomy write "we compare", "we review", "here, I proved" and the passive; those are read
    when nothing else says what the paper does, so its TL;DR is not its title again."""
    for abstract, method in [
        ("Dwarf galaxies are sensitive probes of dark matter. We compare the growth in stellar mass of galaxies "
         "in six simulations with JWST data.", "We compare the growth in stellar mass"),
        ("A comparative analysis of the orbits of 45 globular clusters in the central Galaxy is carried out. "
         "The potential is static.", "A comparative analysis of the orbits"),
        ("Interactions shape outer discs. Here, I proved that the outer regions of NGC 1 are disturbed.",
         "Here, I proved that the outer regions"),
        ("Lithium is a diagnostic of stellar physics. In this paper, we review the Li observations in stars.",
         "We review the Li observations"),  # the opening that points at the paper is dropped
    ]:
        s = extract_summary(Paper(id="2601.00001", title="A title", abstract=abstract))
        assert s.method.startswith(method) and s.tldr.startswith(method), abstract


def test_a_sentence_saying_what_the_paper_does_wins_over_one_that_names_the_problem():
    """Where both are written, the diagnosis ("we identify", "when X is performed") is not the method."""
    for abstract in [
        "We identify encoder drift as a key driver of this failure. We propose NSVQ, a training strategy.",
        "When decoding is performed after a few steps, images remain noisy. We propose VeriLatent, a verifier.",
    ]:
        s = extract_summary(Paper(id="2601.00001", title="A title", abstract=abstract))
        assert s.method.startswith("We propose"), abstract



def test_an_abbreviation_ends_no_sentence():
    abstract = ("We release NEST, a dataset of 1005 full-length movies (avg. 104 min) with dense labels. Models trail "
                "humans, e.g. GPT-5 by 20 points, as Smith et al. (2020) found for shorter clips. It runs in under 5 min. "
                "The code and the labels are public.")
    assert sentences(abstract) == [
        "We release NEST, a dataset of 1005 full-length movies (avg. 104 min) with dense labels.",
        "Models trail humans, e.g. GPT-5 by 20 points, as Smith et al. (2020) found for shorter clips.",
        "It runs in under 5 min.", "The code and the labels are public.",
    ]


def test_what_a_paper_makes_is_its_method_and_others_limitations_are_not_its_own():
    fade = Paper(id="2606.29431", title="FADE", abstract=(
        "Large vision-language models hallucinate objects that are not in the image. We investigate the information "
        "flow inside LVLMs and find that language priors dominate the late layers. Based on this insight, we propose "
        "FADE, a training-free decoding strategy that damps the prior. Evaluations on POPE, CHAIR, and MME show that "
        "FADE effectively mitigates hallucinations. We systematically analyze the limitations of contrastive decoding."))
    s = extract_summary(fade)
    assert s.tldr == s.method == "We propose FADE, a training-free decoding strategy that damps the prior."
    assert s.results.startswith("Evaluations on POPE, CHAIR, and MME show that"), "commas in the run of words"
    assert s.limitations == NOT_STATED, "the limitations of other work are not this paper's"
    own = Paper(id="2606.2", title="Glass", abstract=(
        "We propose GlassGrasp, a suction gripper policy. It grasps 9 of 10 glasses. It cannot handle wet surfaces."))
    assert extract_summary(own).limitations == "It cannot handle wet surfaces."
    analysis = Paper(id="2606.3", title="Probe", abstract="We investigate how LLMs store facts. Probes recover 80% of them.")
    assert extract_summary(analysis).method == "We investigate how LLMs store facts.", "no contribution verb: the study is the method"


def paper_of(abstract: str) -> Paper:
    return Paper(id="2601.00001", title="A study", abstract=abstract)


def test_a_sentence_that_sets_up_the_study_is_not_its_result():
    """Astro-ph abstracts state their sample's ranges with decimals ("spans z<0.83"); those describe the data.
    (Rule: a figure in a sentence that spans, covers, uses, assumes or names the sample/grid, and says nothing
    was found, is setup.)"""
    setup = "This sample spans $z<0.83$, $10^{40}<L<10^{43}$ erg/s, and radio powers up to 0.25 of the maximum."
    finding = "We find that 90 per cent of the AGN detected on both scales have an [O III] outflow."
    s = extract_summary(paper_of(f"We study ionised outflows in 42 AGN. {setup} {finding}"))
    assert s.results == finding
    grid = ("We compute a grid of 90 N-body cluster models spanning metallicities between 0.0002-0.02. "
            "The clusters evolve under tides.")
    assert extract_summary(paper_of(grid)).results == NOT_STATED
    # a figure the sentence says was measured stays a result, "using" or not
    measured = "Using the post-eruption light curve, we have calculated the orbital period to be 0.153 days."
    assert extract_summary(paper_of(f"We present photometry of the nova V1674 Her. {measured}")).results == measured
    assert not is_result_like(setup) and is_result_like(measured)
