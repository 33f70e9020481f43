"""Offline agent logic that needs no embedder: extraction, clustering, citation checks, escaping."""

import numpy as np
from markdown_it import MarkdownIt

from brief.agents.citations import strip_invalid
from brief.agents.summary_roles import extract_summary
from brief.agents.synthesiser import cluster
from brief.models import Paper
from brief.ids import citations
from brief.report.markdown import md, md_prose

ABSTRACT = (
    "Robotic grasping of transparent objects remains challenging because depth sensors fail on them. "
    "We propose GlassGrasp, a diffusion policy conditioned on RGB features. "
    "Experiments on 40 objects show a 23% higher success rate than prior methods. "
    "However, the method cannot handle deformable objects."
)


def test_extractive_summary_assigns_sentences_by_role():
    s = extract_summary(Paper(id="2606.1", title="GlassGrasp", abstract=ABSTRACT))
    assert s.method.startswith("We propose GlassGrasp")
    assert s.problem.startswith("Robotic grasping")
    assert "23%" in s.results
    assert "deformable" in s.limitations
    assert s.tldr == s.method


def test_cluster_separates_two_groups():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(1, 16)) + rng.normal(scale=0.05, size=(6, 16))
    b = rng.normal(size=(1, 16)) + rng.normal(scale=0.05, size=(6, 16))
    vecs = np.vstack([a, b])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    groups = cluster(vecs)
    assert sorted(map(sorted, groups)) == [list(range(6)), list(range(6, 12))]


def test_invalid_citations_are_removed():
    text = "A [arXiv:2606.00001] and B [arXiv:9999.99999]."
    assert citations(text) == ["arXiv:2606.00001", "arXiv:9999.99999"]
    clean, removed = strip_invalid(text, {"arXiv:2606.00001"})
    assert removed == ["arXiv:9999.99999"] and "9999" not in clean


def test_untrusted_text_renders_inert_in_markdown():
    evil = "<script>alert(1)</script> [click](http://evil) **bold**"
    out = md(evil)
    rendered = MarkdownIt("commonmark", {"html": True}).render(out)
    assert "<script>" not in rendered and "<a " not in rendered and "<strong>" not in rendered, rendered
    assert "[click](http://evil) **bold**" in rendered, "shown as written, inert"
    linked = md_prose("See [arXiv:2606.00001] <b>x</b>")
    assert "(https://arxiv.org/abs/2606.00001)" in linked and "<b>" not in linked
