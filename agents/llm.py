"""The one LLM layer: builds the chat model from config, caches answers, limits rate, counts usage and cost.

Every agent goes through `LLMClient.ask`; nothing else imports langchain_openai. The cache key is the
model, the prompt's name and version, and the agent's own key (e.g. paper ids and versions), never the
server URL, so re-running a week costs no calls and moving servers keeps the cache.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable
from typing import TypeVar

from langchain_core.callbacks import UsageMetadataCallbackHandler
from pydantic import BaseModel, ValidationError

from brief.config import LLMConfig
from brief.models import Paper, StageUsage, Usage
from brief.prompts import Prompt
from brief.untrusted import for_prompt

T = TypeVar("T", bound=BaseModel)


class LLMError(RuntimeError):
    """A call failed after its retries; the message names the cause (never the API key)."""


class InvalidAnswer(LLMError):
    """The answer failed its caller's validation twice; it was not cached."""


class BudgetExceeded(LLMError):
    """`--max-cost` was reached: no further calls are made this run."""


def paper_block(paper: Paper, max_chars: int = 2500) -> str:
    """A paper as delimited, escaped data: its text cannot close the element it sits in."""
    abstract = paper.abstract if len(paper.abstract) <= max_chars else paper.abstract[:max_chars] + " …"
    return (
        f'<paper id="{for_prompt(paper.id, quote=True)}">\n'
        f"<title>{for_prompt(paper.title)}</title>\n"
        f"<authors>{for_prompt(', '.join(paper.authors[:8]))}</authors>\n"
        f"<categories>{for_prompt(' '.join(paper.categories))}</categories>\n"
        f"<abstract>{for_prompt(abstract)}</abstract>\n"
        "</paper>"
    )


class AnswerCache:
    """SQLite cache of parsed structured answers, shared by threads."""

    def __init__(self, path: Path | None):
        self._lock = threading.Lock()
        self._db = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A cache: a commit need not wait for the disk (WAL keeps it consistent if the process dies).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.commit()

    def get(self, key: str) -> str | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?)", (key, value))
            self._db.commit()


class UsageMeter:
    """Thread-safe per-stage counts of calls, tokens and dollars."""

    def __init__(self, model: str, prices: dict[str, tuple[float, float]]):
        self.model = model
        self._price = prices.get(model, (0.0, 0.0))
        self._lock = threading.Lock()
        self._stages: dict[str, StageUsage] = {}
        self._in_flight: dict[str, tuple[int, float]] = {}  # stage → (calls in flight, since when)
        self._spent_before = 0.0  # dollars already handed over by take(), for --max-cost

    def add(self, stage: str, input_tokens: int, output_tokens: int, cached: bool = False) -> None:
        cost = 0.0 if cached else (input_tokens * self._price[0] + output_tokens * self._price[1]) / 1e6
        delta = StageUsage(
            calls=0 if cached else 1,
            cached_calls=1 if cached else 0,
            input_tokens=0 if cached else input_tokens,
            output_tokens=0 if cached else output_tokens,
            cost_usd=round(cost, 6),
        )
        with self._lock:
            self._stages[stage] = self._stages.get(stage, StageUsage()) + delta

    @contextmanager
    def in_flight(self, stage: str):
        """Counts the wall time a stage has calls in flight: with 16 concurrent calls, 16 calls of 1 s in one
        second count 1 s. The model's share of a run's wall time, comparable across concurrency levels."""
        with self._lock:
            n, since = self._in_flight.get(stage, (0, time.perf_counter()))
            self._in_flight[stage] = (n + 1, since)
        try:
            yield
        finally:
            with self._lock:
                n, since = self._in_flight[stage]
                if n > 1:
                    self._in_flight[stage] = (n - 1, since)
                else:
                    del self._in_flight[stage]
                    busy = StageUsage(seconds=round(time.perf_counter() - since, 3))
                    self._stages[stage] = self._stages.get(stage, StageUsage()) + busy

    @property
    def cost(self) -> float:
        with self._lock:
            return self._spent_before + sum(s.cost_usd for s in self._stages.values())

    def take(self) -> Usage:
        """Usage since the last take: each graph node returns its own share, so resumed runs add up."""
        with self._lock:
            usage = Usage(model=self.model, stages=self._stages)
            self._stages = {}
            self._spent_before += sum(s.cost_usd for s in usage.stages.values())
            return usage


class LLMClient:
    def __init__(self, cfg: LLMConfig, cache_path: Path | None):
        from langchain_core.rate_limiters import InMemoryRateLimiter
        from langchain_openai import ChatOpenAI

        self.cfg = cfg
        self.model_name = cfg.model
        self.meter = UsageMeter(cfg.model, cfg.prices)
        self.cache = AnswerCache(cache_path)
        limiter = InMemoryRateLimiter(
            requests_per_second=cfg.requests_per_minute / 60.0,
            check_every_n_seconds=0.05,
            max_bucket_size=max(1, cfg.concurrency),
        )
        self._runnables: dict[type, object] = {}
        self._runnables_lock = threading.Lock()
        self.chat = ChatOpenAI(
            model=cfg.model,
            base_url=cfg.base_url,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else "not-needed",
            timeout=cfg.timeout_seconds,
            max_retries=cfg.max_retries,
            temperature=0,
            rate_limiter=limiter,
        )

    def _structured(self, schema: type[T]):
        """The chat model bound to `schema`, built once per schema (building it converts the schema each time)."""
        with self._runnables_lock:
            if schema not in self._runnables:
                # Not include_raw=True: that wraps the call in RunnableParallels, which start and join threads on
                # every call; the usage comes from a callback instead.
                self._runnables[schema] = self.chat.with_structured_output(schema, method=self.cfg.method)
            return self._runnables[schema]

    def cache_key(self, prompt: Prompt, key: str) -> str:
        return hashlib.sha256(f"{self.model_name}\x00{prompt.tag}\x00{key}".encode()).hexdigest()

    def ask(self, schema: type[T], prompt: Prompt, values: dict, *, stage: str, key: str,
            validate: Callable[[T], str | None] | None = None) -> T:
        """One structured call: from cache when this model answered this prompt version for this key.

        Malformed output is retried once; HTTP errors (429 with Retry-After, 5xx, timeouts) are retried by
        the client with backoff, `max_retries` times. Raises LLMError when it still fails.
        """
        cache_key = self.cache_key(prompt, key)
        cached = self.cache.get(cache_key)
        if cached is not None:
            self.meter.add(stage, 0, 0, cached=True)
            return schema.model_validate_json(cached)
        if self.cfg.max_cost_usd is not None and self.meter.cost >= self.cfg.max_cost_usd:
            raise BudgetExceeded(f"--max-cost {self.cfg.max_cost_usd} USD reached")
        messages = [("system", prompt.system), ("human", prompt.render_user(**values))]
        runnable = self._structured(schema)
        last_problem, error = "no answer", LLMError
        for _attempt in range(2):
            spent = UsageMetadataCallbackHandler()  # the response's usage, also when its parsing fails
            try:
                with self.meter.in_flight(stage):
                    parsed = runnable.invoke(messages, config={"callbacks": [spent]})
            except (ValidationError, ValueError) as exc:  # OutputParserException is a ValueError
                # json_schema mode: the openai client parses the reply itself and raises on bad JSON.
                self.meter.add(stage, *_tokens(spent))
                last_problem = f"malformed output ({type(exc).__name__})"
                continue
            except Exception as exc:  # the openai client's errors after its own retries
                raise LLMError(f"{stage}: {type(exc).__name__}: {_redact(str(exc), self.cfg)}") from None
            self.meter.add(stage, *_tokens(spent))
            problem = "malformed output (no structured answer)" if parsed is None else validate and validate(parsed)
            if not problem:  # only a valid answer is cached
                self.cache.put(cache_key, parsed.model_dump_json())
                return parsed
            last_problem, error = problem, (LLMError if parsed is None else InvalidAnswer)
        raise error(f"{stage}: {last_problem} twice")


def _tokens(spent) -> tuple[int, int]:
    """(input, output) tokens a UsageMetadataCallbackHandler saw, over whatever model names answered."""
    usage = spent.usage_metadata.values()
    return sum(u.get("input_tokens", 0) for u in usage), sum(u.get("output_tokens", 0) for u in usage)


def _redact(text: str, cfg: LLMConfig) -> str:
    if cfg.api_key:
        secret = cfg.api_key.get_secret_value()
        if secret:
            text = text.replace(secret, "***")
    return text[:300]

