"""Fitting synthesis prompts into a per-call context budget: trim first, split only when trimming can't.

Tokens are estimated as characters / 4 (no tokenizer download offline; the scripted test server counts
the same way). A prompt is a fixed part (system text, instructions, small context) plus a list of items
(one line per paper or draft). Items shrink evenly (their details are clipped, then dropped) until they
fit; when even the bare heads don't fit, the caller splits the items into chunks (map) and merges the
partial drafts (reduce).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from brief.prompts import Prompt

CHARS_PER_TOKEN = 4
MIN_DETAIL = 40  # a detail clipped below this says nothing: drop it instead
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def prompt_tokens(prompt: Prompt, values: dict) -> int:
    """The estimate for one call: system and user messages, as the server will count them."""
    return estimate_tokens(prompt.system) + estimate_tokens(prompt.render_user(**values))


def clip(text: str, max_chars: int) -> str:
    """Shorten at a word boundary, never inside a `[citation]`, marking the cut with an ellipsis."""
    if len(text) <= max_chars:
        return text
    if max_chars < 2:
        return ""
    cut = text[: max_chars - 1]
    opened = cut.rfind("[")
    if opened > cut.rfind("]"):
        cut = cut[:opened]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def clip_sentences(text: str, max_chars: int) -> str:
    """Keep whole sentences (so citations stay whole) up to `max_chars`; clip the first if it alone is longer."""
    if len(text) <= max_chars:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text.strip()):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > max_chars:
            break
        kept = candidate
    return kept or clip(text, max_chars)


class Item(BaseModel):
    """One line of a prompt: a head that is kept whole (citation key, title) and a detail that is trimmed."""

    head: str
    detail: str = ""

    def line(self, detail_chars: int) -> str:
        if not self.detail or detail_chars < MIN_DETAIL:
            return self.head
        return f"{self.head}: {clip(self.detail, detail_chars)}"


def render_items(items: list[Item], room: int) -> list[str] | None:
    """Lines for every item within `room` characters (newlines counted), details trimmed to an even share.

    Water-filling: short details keep their full length and hand their unused share to longer ones.
    Returns None when even the heads alone do not fit: the caller must split the items.
    """
    if not items:
        return []
    heads = sum(len(i.head) + 1 for i in items)
    if heads > room:
        return None
    spare = room - heads
    wants = sorted(len(i.detail) + 2 for i in items if i.detail)  # ": " joins head and detail
    cap = None
    for index, want in enumerate(wants):
        share = spare // (len(wants) - index)
        if want > share:
            cap = share
            break
        spare -= want
    lines = [i.line(len(i.detail) if cap is None else cap - 2) for i in items]
    assert sum(len(line) + 1 for line in lines) <= room
    return lines


def chunk_items(items: list[Item], room: int, min_detail: int = 120) -> list[list[Item]]:
    """Split items into the fewest even chunks that each fit `room` with about `min_detail` chars of detail."""
    if not items:
        return []
    need = sum(len(i.head) + 1 + (min(len(i.detail) + 2, min_detail) if i.detail else 0) for i in items)
    parts = max(1, -(-need // max(room, 1)))
    while parts < len(items):
        size = -(-len(items) // parts)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        if all(render_items(chunk, room) is not None for chunk in chunks):
            return chunks
        parts += 1
    return [[item] for item in items]


def fit_texts(texts: list[str], room: int, joiner_chars: int = 2) -> list[str]:
    """Trim several texts (drafts) to an even share of `room`, at sentence boundaries where possible."""
    if not texts:
        return []
    spare = room - joiner_chars * len(texts)
    wants = sorted(len(t) for t in texts)
    cap = None
    for index, want in enumerate(wants):
        share = spare // (len(wants) - index)
        if want > share:
            cap = max(share, 0)
            break
        spare -= want
    return [t if cap is None else clip_sentences(t, cap) for t in texts]
