"""Citation grammar and validation: loose forms normalise, unknown keys are found, memory is asked once."""

from brief.agents.citations import CitationChecker, normalise, strip_invalid
from brief.ids import citations


def test_loose_citation_forms_normalise_to_one_key_per_bracket():
    text = ("A [2606.01234v2] and [arXiv: 2606.01235, arXiv:2606.01236; 2606.01237]; "
            "bare arXiv:2606.01238v3 and (arXiv:2606.01239) and [arxiv:astro-ph/0601001v1].")
    assert citations(normalise(text)) == [
        "arXiv:2606.01234", "arXiv:2606.01235", "arXiv:2606.01236", "arXiv:2606.01237",
        "arXiv:2606.01238", "arXiv:2606.01239", "arXiv:astro-ph/0601001",
    ]


def test_brackets_that_are_not_citations_are_left_alone():
    text = "See [1], [Fig. 2] and [doi:10.1000/xyz] and [title:0123abcd]."
    out = normalise(text)
    assert "[1]" in out and "[Fig. 2]" in out
    assert citations(out) == ["doi:10.1000/xyz", "title:0123abcd"]


def test_strip_invalid_tidies_the_sentence():
    clean, removed = strip_invalid("Shown in [arXiv:9999.99999], and by [arXiv:2606.00001] [arXiv:9999.99999].",
                                   {"arXiv:2606.00001"})
    assert removed == ["arXiv:9999.99999"]
    assert clean == "Shown in, and by [arXiv:2606.00001]."


def test_checker_resolves_memory_lazily_and_remembers_answers():
    asked: list[list[str]] = []

    def resolve(ids):
        asked.append(list(ids))
        return {i for i in ids if i.startswith("2605.")}

    checker = CitationChecker({"arXiv:2606.00001"}, resolve)
    text = "[arXiv:2606.00001] [arXiv:2605.00002] [arXiv:9999.00003]"
    assert checker.invalid(text) == ["arXiv:9999.00003"]
    assert asked == [["2605.00002", "9999.00003"]]
    assert checker.invalid(text) == ["arXiv:9999.00003"]
    assert len(asked) == 1, "known answers are not asked again"
    clean, removed = checker.clean(text)
    assert removed == ["arXiv:9999.00003"] and citations(clean) == ["arXiv:2606.00001", "arXiv:2605.00002"]
