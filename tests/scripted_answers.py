"""Answers for the scripted OpenAI-compatible server (tests/scripted_llm.py): the labels mode, and a sloppy mode
that answers the way real models do (issue 14).

Sloppy answers keep the *meaning* of the scripted answer and change its form: topic names in other casing and
spacing, ids `arXiv:`-prefixed, versioned, padded or as URLs, JSON in a ```json fence (outside json_schema mode,
where a real server constrains the output), some answers without `usage`, some cut short (truncation), and a
400 for `response_format: json_schema` (as servers that don't support it answer). Each choice depends only on
the request's attempt index, so runs are reproducible.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PAPER_ID_RE = re.compile(r'<paper id="([^"]+)"')
# Ways a prompt may name a topic; the first match wins. The screening prompt numbers its topics under
# "Topics:" ("1. Robot manipulation learning: description"); the review prompt says "Topic: name".
TOPIC_RES = [re.compile(p) for p in (r"(?m)^Topics:\s*\n\s*1\.\s+([^:\n]+?):", r'<topic[^>]*\bname="([^"]+)"',
                                     r"<topic>\s*([^<\n]+?)\s*</topic>", r"(?mi)^\W*topic(?: name)?:\s*(\S[^\n]*?)\s*$")]


def prompt_topic(user: str, system: str = "") -> str | None:
    """The first topic the prompt names, in whichever of its formats: the user part first (where the
    criteria are), then the system part (whose rubric may describe a "topic:" field)."""
    for text in (user, system):
        for rx in TOPIC_RES:
            m = rx.search(text)
            if m:
                return m.group(1)
    return None


def labels_screen_handler(labels: dict[str, int], default: int = 2, topic: str | None = None) -> Callable:
    """Handler for the screener's "ScreenBatch" schema: relevance from a paper_id -> int labels dict.

    Papers are found as ``<paper id="ID">`` blocks in the user text; the topic is ``topic`` or the first
    topic named in the prompt (see TOPIC_RES), else "topic"."""
    def handler(req: Any) -> dict:
        found = topic or prompt_topic(req.user, req.system)
        return {"results": [{"id": pid, "reason": "scripted", "topic": found or "topic",
                             "relevance": int(labels.get(pid, default)), "novelty": 5} for pid in req.paper_ids]}
    return handler


_ID_FORMS = (lambda i: f"arXiv:{i}", lambda i: f"{i}v2", lambda i: f" {i} ", lambda i: f"https://arxiv.org/abs/{i}v1",
             lambda i: f"ARXIV: {i}", lambda i: i)
_TOPIC_FORMS = (str.upper, str.lower, str.title, lambda t: "  " + t.replace(" ", "  ") + " ", lambda t: t)


@dataclass
class Sloppy:
    """How sloppy the server's answers are. `truncate_every`/`no_usage_every`: every Nth attempt (0: never)."""
    ids: bool = True
    casing: bool = True
    fence: bool = True
    truncate_every: int = 0
    no_usage_every: int = 0
    reject_json_schema: bool = False
    _cut: set = field(default_factory=set, repr=False)  # questions already answered cut short

    def rejects(self, req: Any) -> bool:
        return self.reject_json_schema and req.mode == "json_schema"

    def drops_usage(self, req: Any) -> bool:
        return bool(self.no_usage_every) and req.attempt % self.no_usage_every == self.no_usage_every - 1

    def answer(self, req: Any, content: str) -> str:
        """The scripted answer as a sloppy model would write it."""
        try:
            data = json.loads(content)
        except ValueError:
            return content
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            for n, verdict in enumerate(data["results"]):
                if self.ids and isinstance(verdict.get("id"), str):
                    verdict["id"] = _ID_FORMS[(req.attempt + n) % len(_ID_FORMS)](verdict["id"])
                if self.casing and isinstance(verdict.get("topic"), str) and verdict["topic"] != "none":
                    verdict["topic"] = _TOPIC_FORMS[(req.attempt + n) % len(_TOPIC_FORMS)](verdict["topic"])
        text = json.dumps(data, indent=1)
        if self.fence and req.mode in ("json_object", "text"):
            text = f"```json\n{text}\n```"
        if self.truncate_every and req.attempt % self.truncate_every == self.truncate_every - 1:
            asked = json.dumps(req.body.get("messages"), sort_keys=True)
            if asked not in self._cut:  # a question asked again gets a whole answer, as a retried real call may
                self._cut.add(asked)
                text = text[: len(text) // 2]
        return text
