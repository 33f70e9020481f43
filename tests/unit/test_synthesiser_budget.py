"""Fitting prompts into a budget: details trim evenly, heads stay whole, chunks fit, citations never split."""

import pytest

from brief.agents.context_budget import Item, chunk_items, clip, clip_sentences, fit_texts, render_items
from brief.ids import citations


def items(n: int, detail: int = 400) -> list[Item]:
    return [Item(head=f"- [arXiv:2606.{i:05d}] Title number {i} (cs.RO)", detail="word " * (detail // 5)) for i in range(n)]


def test_render_items_fits_the_room_and_trims_details_evenly():
    batch = items(20) + [Item(head="- [arXiv:2606.99999] Short one (cs.CV)", detail="tiny detail that is kept whole")]
    room = 3000
    lines = render_items(batch, room)
    assert lines is not None and sum(len(line) + 1 for line in lines) <= room
    assert lines[-1].endswith("tiny detail that is kept whole"), "short details keep their full text"
    trimmed = {len(line) - len(item.head) for line, item in zip(lines[:-1], batch)}
    assert max(trimmed) - min(trimmed) <= 2, "long details share the room evenly"
    assert all(line.startswith(item.head) for line, item in zip(lines, batch))


def test_render_items_drops_details_before_failing_and_fails_when_heads_alone_overflow():
    batch = items(30)
    heads = sum(len(i.head) + 1 for i in batch)
    assert render_items(batch, heads) == [i.head for i in batch]
    assert render_items(batch, heads - 1) is None


@pytest.mark.parametrize("room", [600, 1500, 4000])
def test_chunks_each_fit(room):
    batch = items(120)
    chunks = chunk_items(batch, room)
    assert [i for chunk in chunks for i in chunk] == batch
    assert len(chunks) > 1
    for chunk in chunks:
        lines = render_items(chunk, room)
        assert lines is not None and sum(len(line) + 1 for line in lines) <= room


def test_clip_never_cuts_inside_a_citation():
    text = "Strong results [arXiv:2606.01234] on grasping [arXiv:2606.05678] everywhere."
    for n in range(5, len(text)):
        out = clip(text, n)
        assert len(out) <= n
        assert out.count("[") == out.count("]")
        assert set(citations(out)) <= {"arXiv:2606.01234", "arXiv:2606.05678"}


def test_fit_texts_keeps_whole_sentences_within_the_share():
    drafts = ["First sentence [arXiv:2606.00001]. " * 30, "Short draft.", "Another [arXiv:2606.00002] one. " * 40]
    fitted = fit_texts(drafts, 900)
    assert sum(len(t) + 2 for t in fitted) <= 900
    assert fitted[1] == "Short draft."
    assert all(t.endswith(".") for t in fitted), "cut at sentence ends"
    assert clip_sentences("One. Two.", 100) == "One. Two."
