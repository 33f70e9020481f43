"""Topic evidence: every part of a topic's criteria as its own prototype, for and against.

A topic is not one centroid. Its description, each clause or listed item of its "Relevant" note and of
its description are positive prototypes; each clause of its "Not relevant" note is a negative one. A
paper's support for a topic is its best positive match (blended with the whole topic text, so one short
item can't carry a paper alone); what counts against it is being closer to the topic's "not relevant"
notes, or to another topic, than to the topic itself. The matched topic is the one whose net evidence
wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from brief.config import Topic

AGAINST_NOT_RELEVANT = 1.0  # weight of the margin by which a "not relevant" note beats the topic's support
AGAINST_OTHER_TOPIC = 0.5  # weight of the margin by which another topic beats it
_CLAUSES = re.compile(r"(?<=[.;!?])\s+|;\s*|\n+")
_MIN_ITEM_WORDS = 2
# what a note says about weighting or scope rather than about a subject ("is also relevant", "but should be
# weighted lower", "Both theoretical and observational work"): no evidence of what a paper is about
_META = re.compile(r"\s*\b(?:(?:but |and )?(?:should|may|must|can) (?:still )?be\b.*|(?:is|are) (?:also |still |not |particularly "
                   r"|especially )?(?:relevant|of interest|in scope)\b.*)$", re.IGNORECASE)
# a clause that lowers a subject's weight ("Work on galaxies more massive than the LMC should be weighted lower") is
# neither for nor against a topic: as a prototype it would count for what the user ranks down
_DOWNWEIGHT = re.compile(r"\b(weighted (lower|less)|lower weight|less weight|weight(ed)? down|deprioriti[sz]e)", re.IGNORECASE)
_GENERIC = frozenset("""a an the and or but of on in for to with by from that which this these those is are be been also
    still may should must can both either any all some new work works paper papers study studies article articles
    theoretical theory observational observations empirical relevant particularly especially focus focusing focused
    presenting present presents weighted weight lower higher given increased more less like such as e g i
    etc""".split())
_PAREN = re.compile(r"\(([^()]*)\)")


def _top_level_split(text: str) -> list[str]:
    """`text` split at commas, " and " and " or " outside parentheses ("galaxies (e.g., the accreted halo),
    dwarfs" is two items)."""
    masked, depth = [], 0
    for ch in text:  # parentheses' content hidden from the split, then put back by position
        depth += ch == "("
        masked.append("\0" if depth and ch in ", " else ch)
        depth -= ch == ")" and depth > 0
    out, at = [], 0
    for m in re.finditer(r",\s*|\s+or\s+|\s+and\s+", "".join(masked)):
        out.append(text[at:m.start()])
        at = m.end()
    return out + [text[at:]]


def _item(text: str) -> str:
    """An item as evidence: markup, a leading conjunction or "like"/"such as", and meta wording dropped."""
    text = re.sub(r"[*_`]+", "", text).strip(" .")
    text = re.sub(r"^(?:and|or|but|like|such as|e\.g\.|i\.e\.|including)\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^(?:increased|more|higher|extra|additional) (?:weight|priority|emphasis) (?:should|will|may|is to) be "
                  r"(?:given|placed) (?:to|on)\s+", "", text, flags=re.IGNORECASE)  # what is weighted up is the subject
    return _META.sub("", text).strip(" .,")


def _says_something(item: str) -> bool:
    return any(w not in _GENERIC for w in re.findall(r"[a-z0-9][a-z0-9\-]*", item.lower()))


def clauses(text: str) -> list[str]:
    """A note's clauses and listed items: split at sentence ends and semicolons, then a clause with a list
    ('head: a, b, c', 'a or b') into one item per entry (nothing inside parentheses splits), each carrying its
    head ('head: a') for context, and a parenthesised example ('(e.g., the accreted stellar halo)') as an item
    of its own. Wording about scope or weight ('is also relevant', 'should be weighted lower') is no evidence
    and is dropped, as is a clause that ranks a subject down."""
    out: list[str] = []
    for raw in (c.strip(" .;") for c in _CLAUSES.split(text or "")):
        clause = _item(raw)
        if not clause or not _says_something(clause) or _DOWNWEIGHT.search(raw):
            continue
        out.append(clause)
        head, sep, tail = clause.partition(":")
        items = [_item(i) for i in _top_level_split(tail if sep else clause)]
        items = [i for i in items if i and _says_something(i)]
        examples = [_item(e) for i in items for m in _PAREN.findall(i) for e in re.split(r",\s*", _strip_abbrev(m))]
        for i in (items if len(items) > 1 else []) + [e for e in examples if e and _says_something(e)]:
            if sep:
                out.append(f"{head.strip()}: {i}")
            elif len(i.split()) >= _MIN_ITEM_WORDS:
                out.append(i)
    return list(dict.fromkeys(out))


def _strip_abbrev(text: str) -> str:
    return re.sub(r"^\s*(?:e\.g\.|i\.e\.|eg|ie)\s*,?\s*", "", text, flags=re.IGNORECASE)


class Prototypes(BaseModel):
    """The texts a topic's evidence is embedded from (kept for the reviewer and the tests)."""

    topic: str
    positive: list[str]
    negative: list[str]


def prototypes(topic: Topic) -> Prototypes:
    positive = [topic.text(), f"{topic.name}. {topic.description}"]
    positive += [f"{topic.name}: {c}" for c in clauses(topic.description) + clauses(topic.relevant)]
    positive += [f"{topic.name}: {k}" for k in topic.keywords]
    return Prototypes(topic=topic.name, positive=list(dict.fromkeys(positive)), negative=clauses(topic.not_relevant))


class Evidence(BaseModel, arbitrary_types_allowed=True):
    """Per paper × topic: `support` (best positive item blended with the whole topic), `best_item` (the best
    positive item alone), `against_notes` (best "not relevant" match), `net` (support minus what counts
    against it), and the winning topic's index per paper."""

    support: np.ndarray
    best_item: np.ndarray
    against_notes: np.ndarray
    net: np.ndarray
    best: np.ndarray


class TopicEvidence:
    """Embeds each topic's prototypes once; scores a week's paper vectors against them."""

    def __init__(self, topics: list[Topic], embed: Callable[[list[str]], np.ndarray] | None,
                 topic_vectors: np.ndarray):
        self.topics = topics
        self.topic_vectors = np.asarray(topic_vectors, dtype=np.float32)
        self.positive: list[np.ndarray] = []
        self.negative: list[np.ndarray] = []
        for n, topic in enumerate(topics):
            if embed is None:  # no embedder given: the topic's one vector, nothing against it
                self.positive.append(self.topic_vectors[n:n + 1])
                self.negative.append(np.zeros((0, self.topic_vectors.shape[1]), np.float32))
                continue
            proto = prototypes(topic)
            self.positive.append(np.asarray(embed(proto.positive), dtype=np.float32))
            self.negative.append(np.asarray(embed(proto.negative), dtype=np.float32) if proto.negative
                                 else np.zeros((0, self.topic_vectors.shape[1]), np.float32))

    def score(self, vectors: np.ndarray) -> Evidence:
        vectors = np.asarray(vectors, dtype=np.float32)
        n, k = len(vectors), len(self.topics)
        support, items, against = np.zeros((n, k)), np.zeros((n, k)), np.full((n, k), -1.0)
        whole = vectors @ self.topic_vectors.T if n else np.zeros((0, k))
        for t in range(k):
            if n == 0:
                break
            items[:, t] = (vectors @ self.positive[t].T).max(axis=1)
            support[:, t] = 0.5 * (items[:, t] + whole[:, t])
            if len(self.negative[t]):
                against[:, t] = (vectors @ self.negative[t].T).max(axis=1)
        # a note counts against a paper only when it fits better than the topic's best item: short notes
        # ("text-only language models") sit near many papers the topic wants
        net = support - AGAINST_NOT_RELEVANT * np.maximum(0.0, against - items)
        if k > 1 and n:
            for t in range(k):
                rival = np.delete(support, t, axis=1).max(axis=1)
                net[:, t] -= AGAINST_OTHER_TOPIC * np.maximum(0.0, rival - support[:, t])
        best = net.argmax(axis=1) if n else np.zeros(0, dtype=int)
        return Evidence(support=support, best_item=items, against_notes=against, net=net, best=best)
