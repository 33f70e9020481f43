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


def clauses(text: str) -> list[str]:
    """A note's clauses and listed items: split at sentence ends and semicolons, then a clause with a
    'head: a, b, c' list into one item per entry, each carrying its head ('head: a') for context."""
    out: list[str] = []
    for clause in (c.strip(" .;") for c in _CLAUSES.split(text or "")):
        if not clause:
            continue
        out.append(clause)
        head, sep, tail = clause.partition(":")
        items = [i.strip(" .") for i in re.split(r",\s*|\s+or\s+|\s+and\s+", tail if sep else clause)]
        items = [i for i in items if i]
        if len(items) > 1:
            out += [f"{head.strip()}: {i}" if sep else i for i in items if len(i.split()) >= _MIN_ITEM_WORDS or sep]
    return list(dict.fromkeys(out))


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
