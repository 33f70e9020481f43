"""What a run's live objects offer the graph nodes and agents, as Protocols: the embedder, memory and the LLM
client. RunContext (graphs/state.py) is typed with them, so the graphs and agents name no concrete class of
another layer; brief.memory.RunEmbedder, brief.memory.store.Memory and brief.agents.llm.LLMClient implement
them (mypy checks that wherever a context is built).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel

if TYPE_CHECKING:
    from brief.config import LLMConfig
    from brief.memory.records import Record
    from brief.models import Paper, StageUsage, Usage
    from brief.prompts import Prompt

T = TypeVar("T", bound=BaseModel)


class Embedder(Protocol):
    """Vectors for texts (unit length, one row a text), and what was embedded since the last count.
    `stage1`: the embedder stage 1 ranks with (the static table, or this one), whose vectors never go into memory."""

    name: str
    stage1: Any

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def take_counts(self) -> tuple[int, int]: ...


class RunMemory(Protocol):
    """What a run reads from and writes to memory (brief.memory.store.Memory)."""

    @property
    def path(self) -> Path | None: ...

    @property
    def location(self) -> str: ...

    @property
    def disk_identity(self) -> object: ...

    @property
    def papers(self) -> Any: ...  # the Chroma collections: accepted and imported papers

    @property
    def seen(self) -> Any: ...  # rejected and cut ones

    def remember(self, papers: list[Paper], embeddings: np.ndarray, week: str, status: str = "accepted",
                 topics: dict[str, str] | None = None, tldrs: dict[str, str] | None = None, run_id: str = "",
                 extra: dict[str, Any] | None = None, abstracts: bool = True,
                 marks: dict[str, dict[str, Any]] | None = None) -> int: ...

    def known(self, ids: Iterable[str]) -> dict[str, str]: ...

    def first_seen(self, ids: Iterable[str]) -> dict[str, str]: ...

    def get(self, paper_id: str) -> Record | None: ...

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]: ...

    def neighbours(self, embeddings: np.ndarray, before_week: str | None, k: int) -> list[list[Record]]: ...

    def search(self, vector: np.ndarray, limit: int = 10, since_week: str | None = None,
               include_seen: bool = False) -> list[Record]: ...

    def weekly_counts_near(self, vectors: np.ndarray, weeks: list[str],
                           thresholds: float | Iterable[float]) -> tuple[dict[str, int], list[dict[str, int]]]: ...

    def labelled_history(self, limit: int = 8000, before_week: str | None = None, feedback_weight: float = 5.0,
                         cut_weight: float = 0.05, embeddings: bool = True,
                         ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]: ...

    def count(self) -> int: ...


class Meter(Protocol):
    """The LLM client's usage meter (brief.agents.llm_meter.UsageMeter)."""

    def add(self, stage: str, input_tokens: int, output_tokens: int, cached: bool = False) -> None: ...

    def take(self) -> Usage: ...

    def bind_run(self, run: str, recorded: StageUsage | None) -> None: ...


class LLM(Protocol):
    """What the agents ask of the LLM client (brief.agents.llm.LLMClient): validated structured answers,
    cached by prompt and key; its config, meter, and why the run is partial."""

    @property
    def cfg(self) -> LLMConfig: ...

    @property
    def meter(self) -> Meter: ...

    @property
    def model_name(self) -> str: ...

    def ask(self, schema: type[T], prompt: Prompt, values: dict[str, Any], *, stage: str, key: str,
            validate: Callable[[T], str | None] | None = None, wire: dict | None = None) -> T: ...

    def cache_key(self, prompt: Prompt, key: str) -> str: ...

    def cached(self, schema: type[T], cache_key: str, validate: Callable[[T], str | None] | None = None) -> T | None: ...

    def remember(self, cache_key: str, answer: BaseModel) -> None: ...

    def take_partial(self) -> list[str]: ...
