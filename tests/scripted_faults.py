"""Injected failures for the scripted OpenAI-compatible server (tests/scripted_llm.py): kinds and a seeded picker."""
from __future__ import annotations

import random
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

MALFORMED = '{"results": ['
FAULT_KINDS = ("429", "500", "malformed", "slow", "drop")


@dataclass
class Fault:
    """One injected failure. kind: "429" | "500" | "malformed" | "slow" | "drop".

    retry_after is sent as both ``retry-after`` (float seconds) and ``retry-after-ms``, which the
    openai client honours, so retry tests stay fast; ``seconds`` is the delay of a "slow" answer."""
    kind: str
    retry_after: float = 1.0
    seconds: float = 2.0
    body: str = MALFORMED

    def __post_init__(self) -> None:  # a typo'd kind would silently answer normally
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")


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
