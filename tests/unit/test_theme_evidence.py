"""How an offline review reads a theme's words in a paper: stems, acronyms, compound names, and weights
measured from a neighbourhood (agents/theme_evidence.py)."""

from __future__ import annotations

from brief.agents.theme_evidence import has, measure, stemmed, theme_words


def unit(theme: str, form: str) -> str:
    return dict(theme_words(theme))[form]


def test_theme_words_keep_acronyms_and_compounds_and_drop_generic_words():
    forms = [form for form, _ in theme_words("KV cache compression for long-context LLM inference")]
    assert forms == ["kv", "cache", "compression", "long-context", "llm", "inference"]
    assert [form for form, _ in theme_words("vision-language-action models for robot manipulation")] == [
        "vision-language-action", "robot", "manipulation"]
    assert theme_words("机器人操作") == [], "a theme in another script has no words: similarity alone judges it"


def test_a_paper_names_a_theme_word_in_its_inflections_compounds_and_acronym():
    kv, cache = unit("KV cache", "kv"), unit("KV cache", "cache")
    assert has(stemmed("CompressKV: semantic retrieval"), kv) and has(stemmed("4-bit KV-Caching for agents"), cache)
    vla = unit("vision-language-action models", "vision-language-action")
    assert has(stemmed("EquiVLA: equivariant policies"), vla) and has(stemmed("Vision-Language-Action Models"), vla)
    assert not has(stemmed("Vision and language for action recognition"), vla), "the compound's words must be in a row"
    long_context = unit("long-context LLM inference", "long-context")
    assert has(stemmed("Long context windows"), long_context) and not has(stemmed("long and short context"), long_context)


def test_a_theme_noun_matches_the_verb_a_title_uses():
    mitigation, quantization = unit("hallucination mitigation", "mitigation"), unit("KV quantization", "quantization")
    assert has(stemmed("Mitigating Hallucinations in Large Vision-Language Models"), mitigation)
    assert has(stemmed("hallucinations are mitigated by ..."), unit("hallucination mitigation", "hallucination"))
    assert has(stemmed("Quantizing the KV cache to 2 bits"), quantization) and has(stemmed("a quantized cache"), quantization)
    compression = unit("KV cache compression", "compression")
    assert has(stemmed("We compress the KV cache"), compression) and has(stemmed("CompressKV"), compression)
    assert not has(stemmed("Compositional reasoning"), compression) and not has(stemmed("a loss"), compression)


def test_words_that_concentrate_near_the_theme_outweigh_the_ones_everywhere_near_it():
    near = [f"Speculative decoding for LLM inference, paper {i}" for i in range(10)]
    rest = [f"Quantization for LLM inference, paper {i}" for i in range(90)]
    background = measure("speculative decoding for LLM inference", near + rest, [0.8] * 10 + [0.5] * 90)
    weight = {w.form: w.weight for w in background.words}
    assert weight["speculative"] > 1.5 and weight["llm"] == weight["inference"] == 0.0
    assert background.form(background.anchor) == "speculative" and background.center == 0.5
    assert measure("speculative decoding", near[:5], [0.8] * 5).specific == [], "too few papers to measure"
