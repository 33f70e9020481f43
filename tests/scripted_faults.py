"""Injected failures for the scripted OpenAI-compatible server (tests/scripted_llm.py): kinds and a seeded picker."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MALFORMED = '{"results": ['
FAULT_KINDS = ("429", "500", "malformed", "slow", "drop", "401", "quota", "404", "reject", "hang", "decline", "filtered")
# Answered with an error status and the body real servers send (see Fault.error).
ERROR_KINDS = ("401", "quota", "404", "reject")


@dataclass
class Fault:
    """One injected failure. kind: "429" | "500" | "malformed" | "slow" | "drop", or a refusal: "401" (bad key),
    "quota" (429 insufficient_quota), "404" (unknown model), "reject" (`status`: the request's structured-output
    mode refused, 400 as vLLM/OpenAI or 500 as llama-cpp-python), "hang" (never answers until the server stops),
    "decline" (a 200 whose message is the model's refusal, as OpenAI's structured outputs send one), or
    "filtered" (a 200 with no content, finish_reason "content_filter").

    retry_after is sent as both ``retry-after`` (float seconds) and ``retry-after-ms``, which the
    openai client honours, so retry tests stay fast; ``seconds`` is the delay of a "slow" answer."""
    kind: str
    retry_after: float = 1.0
    seconds: float = 2.0
    body: str = MALFORMED
    status: int = 400

    def __post_init__(self) -> None:  # a typo'd kind would silently answer normally
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")


    def error(self, mode: str = "") -> tuple[int, dict]:
        """(status, body) of a refusal, worded as OpenAI / llama-cpp-python word it."""
        if self.kind == "401":
            return 401, {"error": {"message": "Incorrect API key provided: sk-wr***ng.", "type": "invalid_request_error",
                                   "code": "invalid_api_key"}}
        if self.kind == "quota":
            return 429, {"error": {"message": "You exceeded your current quota, please check your plan and billing "
                                   "details.", "type": "insufficient_quota", "code": "insufficient_quota"}}
        if self.kind == "404":
            return 404, {"error": {"message": "The model `no-such-model` does not exist", "type": "invalid_request_error",
                                   "code": "model_not_found"}}
        return self.status, {"error": {"message": f"response_format: Input should be 'text' or 'json_object' ({mode} "
                                       "not supported)", "type": "invalid_request_error" if self.status < 500 else "server_error"}}


def reject_modes(modes: set[str], status: int = 400) -> Callable[[int, Any], Fault | None]:
    """Faults refusing requests in these modes ("json_schema", "tools", "json_object", "text") and answering the rest."""
    def pick(_attempt: int, req: Any) -> Fault | None:
        return Fault("reject", status=status) if req.mode in modes else None
    return pick


def random_faults(seed: int, p429: float = 0.2, p500: float = 0.1, pmalformed: float = 0.1,
                  ptimeout: float = 0.0, pdrop: float = 0.0, slow_seconds: float = 5.0,
                  retry_after: float = 0.1) -> Callable[[int, Any], Fault | None]:
    """Seeded fault injector. Each attempt's fate depends only on (seed, attempt index), so a run is
    reproducible whatever the thread interleaving. "timeout" faults are "slow" answers of slow_seconds."""
    table = [("429", p429), ("500", p500), ("malformed", pmalformed), ("slow", ptimeout), ("drop", pdrop)]

    def pick(attempt: int, _req: Any) -> Fault | None:
        r = random.Random(f"{seed}:{attempt}").random()
        for kind, p in table:
            if r < p:
                return Fault(kind, retry_after=retry_after, seconds=slow_seconds)
            r -= p
        return None
    return pick
