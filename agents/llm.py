"""The one LLM layer: builds the chat model from config, negotiates structured output, caches validated answers,
limits rate (every attempt, retries included), bounds time, counts usage and cost.

Every agent goes through `LLMClient.ask`; nothing else imports langchain_openai. The cache key is the
model, the prompt (name, version and text) and the agent's own key (e.g. paper ids and versions, criteria),
never the server URL, so re-running a week costs no calls and moving servers keeps the cache.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import openai
from brief.agents import llm_limits as limits
from brief.agents.llm_cache import AnswerCache
from brief.agents.llm_errors import BudgetExceeded, CallsStopped, InvalidAnswer, LLMError, ServerRefused, warn_fallback
from brief.agents.llm_meter import UsageMeter
from brief.agents.llm_protocol import (
    METHODS,
    STATE_FILE,
    AnswerCutShort,
    AnswerDeclined,
    ClientState,
    bind_kwargs,
    read_reply,
    schema_instruction,
    stopped_answer,
)
from brief.config import LLMConfig
from brief.models import Paper
from brief.prompts import Prompt
from brief.text import counted
from brief.untrusted import for_prompt
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
log = logging.getLogger(__name__)

__all__ = ["AnswerCache", "BudgetExceeded", "CallsStopped", "InvalidAnswer", "LLMClient", "LLMError", "ServerRefused", "UsageMeter",
           "paper_block", "warn_fallback"]


class _CallFailed(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


class Ping(BaseModel):
    ok: bool


PING_SYSTEM = "You are a JSON API. Reply with JSON only."
PING_USER = 'Reply with this JSON: {"ok": true}'


def paper_block(paper: Paper, max_chars: int = 2500, authors: bool = True) -> str:
    """A paper as delimited, escaped data: its text cannot close the element it sits in. `authors=False`, or
    none known: no authors element."""
    abstract = paper.abstract if len(paper.abstract) <= max_chars else paper.abstract[:max_chars] + " …"
    names = f"<authors>{for_prompt(', '.join(paper.authors[:8]))}</authors>\n" if authors and paper.authors else ""
    return (
        f'<paper id="{for_prompt(paper.id, quote=True)}">\n'
        f"<title>{for_prompt(paper.title)}</title>\n"
        f"{names}"
        f"<categories>{for_prompt(' '.join(paper.categories))}</categories>\n"
        f"<abstract>{for_prompt(abstract)}</abstract>\n"
        "</paper>"
    )


class LLMClient:
    def __init__(self, cfg: LLMConfig, cache_path: Path | None, state_path: Path | None = None):
        from langchain_openai import ChatOpenAI

        self.cfg = cfg
        self.model_name = cfg.model
        self.endpoint = cfg.base_url or "https://api.openai.com/v1"
        self.state = ClientState(state_path if state_path is not None
                                 else cache_path.parent / STATE_FILE if cache_path is not None else None)
        self.meter = UsageMeter(cfg.model, cfg.prices, self.state)
        self.cache = AnswerCache(cache_path)
        self.requests = limits.RequestRate(cfg.requests_per_minute, cfg.concurrency)
        self.tokens = limits.TokenRate(cfg.tokens_per_minute) if cfg.tokens_per_minute else None
        self.breaker = limits.Breaker(cfg.breaker_failures)
        self.deadlines = limits.Deadlines(cfg.stage_deadline_seconds)
        self._method: str | None = None
        self._method_lock = threading.Lock()
        self._failed: dict[tuple[str, bool], int] = {}  # (stage, calls had stopped) → asks that raised (the caller fell back)
        self._reported: set[str] = set()
        self._lock = threading.Lock()
        self.chat = ChatOpenAI(
            model=cfg.model,
            base_url=cfg.base_url,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else "not-needed",
            timeout=cfg.timeout_seconds,
            max_retries=0,  # retries are ours, through the same limiter (see _send)
            temperature=0,
        )

    # -- structured-output negotiation ----------------------------------------------------------------------

    @property
    def method(self) -> str | None:
        """The structured-output method in use (None until negotiated)."""
        return self._method

    def negotiate(self) -> str:
        """The method this endpoint + model accepts: the configured one, or (auto) the remembered one, else the
        first of json_schema → function_calling → json_object → text that answers a tiny call with valid JSON.
        One call when it is remembered. Raises ServerRefused for a bad key, no quota, an unknown model, an
        unreachable server or a server that rejects every method. A server that doesn't answer in time trips
        the breaker instead: the run goes on without the LLM and is labelled partial."""
        with self._method_lock:
            if self._method is None:
                trusted = self._trusted_preflight()
                self._method = trusted or self._negotiate()
                # a server that never answered has no method to report
                self.meter.method = None if self.breaker.reason else self._method
                if not trusted and not self.breaker.reason:
                    self.state.remember_preflight(self.endpoint, self.model_name, self._key_print(), self._method)
            return self._method

    def _key_print(self) -> str:
        key = self.cfg.api_key.get_secret_value() if self.cfg.api_key else ""
        return hashlib.sha256(f"brief-preflight\x00{key}".encode()).hexdigest()[:16]

    def _trusted_preflight(self) -> str | None:
        """The method of a preflight that just passed for this endpoint, model and key (see
        llm_protocol.PREFLIGHT_TRUSTED_SECONDS); never with --no-cache or for a method other than the configured."""
        if not self.cfg.use_cache:
            return None
        method = self.state.trusted_preflight(self.endpoint, self.model_name, self._key_print())
        return method if self.cfg.structured_output in ("auto", method) else None

    def _negotiate(self) -> str:
        chosen = self.cfg.structured_output
        remembered = self.state.method(self.endpoint, self.model_name) if chosen == "auto" else None
        order = [chosen] if chosen != "auto" else [m for m in (remembered, *METHODS) if m][:5]
        order = list(dict.fromkeys(order))
        refused: list[str] = []
        for method in order:
            try:
                self._ask_once(Ping, method, [("system", PING_SYSTEM), ("human", PING_USER)], "preflight", retries=1)
            except _CallFailed as exc:
                if exc.kind == limits.MODEL and (api := limits.missing_api_path(self.endpoint)):
                    raise ServerRefused(exc.kind, f"{self.endpoint}: no API at this address (404); the server answers at "
                                        f"{api}: set OPENAI_BASE_URL (or [llm] base_url) to it") from None
                if exc.kind in (limits.AUTH, limits.QUOTA, limits.MODEL):
                    raise ServerRefused(exc.kind, f"{self.endpoint}: {limits.FIXES[exc.kind].format(model=self.model_name)}") from None
                if exc.kind == limits.TIMEOUT:
                    self.breaker.trip(f"the server at {self.endpoint} did not answer within {self.cfg.timeout_seconds:g} s")
                    return order[0]
                if exc.kind == limits.UNREACHABLE:
                    raise ServerRefused("unreachable", f"can't reach {self.endpoint} ({exc.detail}): start the server "
                                        "or fix [llm] base_url / OPENAI_BASE_URL") from None
                status = re.search(r"Error code: (\d+)", exc.detail)  # the status is enough; the fix is the point
                if status and status.group(1) in ("405", "501"):  # POST itself refused: a web server, not an API
                    raise ServerRefused(limits.UNSUPPORTED, f"{self.endpoint}: not an OpenAI-compatible API (it answered "
                                        f"{status.group(1)} to POST /chat/completions): set OPENAI_BASE_URL (or [llm] "
                                        "base_url) to the model server's API address, e.g. http://host:port/v1") from None
                refused.append(f"{method} {status.group(1) if status else exc.kind}")
                continue
            except (ValueError, ValidationError):
                refused.append(f"{method} unreadable")
                continue
            if chosen == "auto":
                self.state.remember_method(self.endpoint, self.model_name, method)
            return method
        fix = ("set [llm] structured_output = \"auto\"" if chosen != "auto"
               else "use a server or model that supports JSON output (see README, Using a local model)")
        raise ServerRefused(limits.UNSUPPORTED, f"the server at {self.endpoint} rejected every structured-output method "
                            f"for {self.model_name} ({', '.join(refused)}): {fix}")

    # -- asking -----------------------------------------------------------------------------------------------

    def cache_key(self, prompt: Prompt, key: str) -> str:
        parts = "\x00".join(f"{name}\x00{text}" for name, text in sorted(prompt.parts.items()))
        text = hashlib.sha256(f"{prompt.system}\x00{prompt.user}\x00{parts}".encode()).hexdigest()[:12]
        return hashlib.sha256(f"{self.model_name}\x00{prompt.tag}\x00{text}\x00{key}".encode()).hexdigest()

    def cached(self, schema: type[T], cache_key: str, validate: Callable[[T], str | None] | None = None) -> T | None:
        """A cached answer that still parses and validates; a bad row is ignored and logged, never fatal."""
        if not self.cfg.use_cache:
            return None
        raw = self.cache.get(cache_key)
        if raw is None:
            return None
        try:
            answer = schema.model_validate_json(raw)
            problem = validate(answer) if validate else None
        except (ValidationError, ValueError) as exc:
            problem = type(exc).__name__
        if problem:
            log.warning("ignored a cached %s answer that no longer validates (%s): asking again", schema.__name__, problem)
            return None
        return answer

    def _failure_key(self, cache_key: str, stage: str) -> str:
        """A failure is the server's and the room it was given as much as the model's: another endpoint, or
        more `max_tokens` for the stage (what a cut answer's message advises), is asked afresh."""
        return hashlib.sha256(f"{cache_key}\x00{self.endpoint}\x00{self._room(stage)}".encode()).hexdigest()

    def _room(self, stage: str) -> int:
        """The stage's answer tokens (`[llm] max_tokens`)."""
        return self.cfg.max_tokens.get(stage, self.cfg.max_tokens.get("default", 1000))

    def remember(self, cache_key: str, answer: BaseModel) -> None:
        """Cache an answer the caller has validated."""
        self.cache.put(cache_key, answer.model_dump_json())

    def ask(self, schema: type[T], prompt: Prompt, values: dict, *, stage: str, key: str,
            validate: Callable[[T], str | None] | None = None, wire: dict | None = None) -> T:
        """One structured answer: from cache when this model answered this prompt for this key before.

        An answer that fails the schema or `validate` (which returns a problem or None) is counted, asked once
        more, then raises InvalidAnswer; only valid answers are cached. That the ask failed is remembered (not
        the answer): the same ask raises InvalidAnswer at once for a day (AnswerCache.failure), so a repeated
        run makes no call for it. Transient HTTP errors are retried here (429 honouring Retry-After, 5xx,
        timeouts) through the rate limiter. Raises LLMError when it fails. `wire`: the function schema the request
        carries when it is narrower than `schema` (see llm_protocol.bind_kwargs); answers are validated by `schema`.
        """
        cache_key = self.cache_key(prompt, key)
        hit = self.cached(schema, cache_key, validate)
        if hit is not None:
            self.meter.add(stage, 0, 0, cached=True)
            return hit
        failure_key = self._failure_key(cache_key, stage)
        failed_before = self.cache.failure(failure_key) if self.cfg.use_cache else None
        try:
            if failed_before:
                raise InvalidAnswer(f"{failed_before} (remembered from an earlier run; --no-cache asks again)",
                                    cut_short="answer cut short" in failed_before)
            answer = self._ask_valid(schema, prompt, values, stage, validate, wire)
        except LLMError as exc:
            if isinstance(exc, InvalidAnswer) and not failed_before:
                self.cache.put_failure(failure_key, str(exc))
            with self._lock:
                fell_back = (stage, isinstance(exc, CallsStopped))
                self._failed[fell_back] = self._failed.get(fell_back, 0) + 1
            raise
        self.remember(cache_key, answer)
        return answer

    def _ask_valid(self, schema: type[T], prompt: Prompt, values: dict, stage: str,
                   validate: Callable[[T], str | None] | None, wire: dict | None = None) -> T:
        # A configured method needs no negotiating: the preflight (if any) has checked it
        method = self._method or (self.cfg.structured_output if self.cfg.structured_output != "auto" else self.negotiate())
        messages = [("system", prompt.system + schema_instruction(method, schema, wire)), ("human", prompt.render_user(**values))]
        problem: str | None = "no answer"
        for _attempt in range(2):
            try:
                answer = schema.model_validate(self._ask_once(schema, method, messages, stage, wire=wire))
                problem = validate(answer) if validate else None
            except _CallFailed as exc:
                raise LLMError(f"{stage}: {exc.detail}") from None
            except AnswerCutShort as exc:  # the same request would be cut at the same length again
                raise InvalidAnswer(f"{stage}: {exc}", cut_short=True) from None
            except AnswerDeclined as exc:
                problem = str(exc)
                continue
            except (ValidationError, ValueError) as exc:
                problem = f"malformed output ({type(exc).__name__})"
                continue
            if problem is None:
                return answer
        raise InvalidAnswer(f"{stage}: invalid answer twice ({problem})")

    def _ask_once(self, schema: type[BaseModel], method: str, messages: list, stage: str, retries: int | None = None,
                  wire: dict | None = None) -> Any:
        """One answer's plain value, read by `method`; its usage is counted before it is read."""
        kwargs = bind_kwargs(method, schema, wire)
        kwargs["max_tokens"] = self._room(stage)
        window, sent = self.cfg.context_tokens, sum(len(text) for _, text in messages) // 4
        if window and 0 < window - sent < kwargs["max_tokens"]:  # vLLM refuses a prompt plus max_tokens over it
            kwargs["max_tokens"] = window - sent
        if self.cfg.base_url:  # langchain sends max_completion_tokens, which llama-cpp-python's server ignores
            kwargs["extra_body"] = {"max_tokens": kwargs["max_tokens"]}
        message = self._send(messages, kwargs, stage, retries=self.cfg.max_retries if retries is None else retries,
                             breaker=stage != "preflight")
        return read_reply(method, message, schema, stage, kwargs["max_tokens"], kwargs["max_tokens"] < self._room(stage))

    def _send(self, messages: list, kwargs: dict, stage: str, retries: int, breaker: bool = True):
        """POST one chat completion; transient failures retried with backoff, each attempt through the limiter."""
        chars = sum(len(text) for _, text in messages)
        attempt, fitted = 0, False
        while attempt <= retries:
            timeout, held = self._gate(stage, chars, kwargs.get("max_tokens") or self._room(stage))
            try:
                message = self._attempt(messages, kwargs, stage, timeout)
            except openai.APIError as exc:
                self.meter.release(held)
                left = None if fitted else limits.window_left(exc)
                if left is not None and left < (kwargs.get("max_tokens") or left + 1):
                    # vLLM refuses a prompt plus max_tokens over its window (llama.cpp trims): ask again at once
                    # with the room the server says is left, neither a failure nor a retry
                    fitted = True
                    kwargs["max_tokens"] = left
                    if "extra_body" in kwargs:
                        kwargs["extra_body"] = {**kwargs["extra_body"], "max_tokens": left}
                    continue
                kind = limits.classify(exc)
                if kind == limits.TIMEOUT:
                    self.meter.time_out(stage, chars // 4)
                detail = f"{type(exc).__name__}: {self._redact(str(exc))}"
                if breaker and kind != limits.UNREACHABLE:
                    self.breaker.failure(kind, detail)
                # a preflight that times out is not retried: a hung server would double the wait
                retry = kind in (limits.TRANSIENT, limits.UNREACHABLE) or (kind == limits.TIMEOUT and breaker)
                if retry and attempt < retries and not self.breaker.reason:
                    self._backoff(exc, attempt, stage)
                    attempt += 1
                    continue
                if breaker and kind == limits.UNREACHABLE:  # a blip passes within the retries; this call never got through
                    self.breaker.failure(kind, f"can't reach {self.endpoint}: {detail}")
                if breaker and self.breaker.reason:  # the breaker's reason is this failure's too, said once
                    raise CallsStopped(self.breaker.reason) from None
                raise _CallFailed(kind, detail) from None
            except BaseException:
                self.meter.release(held)
                raise
            used_in, used_out = _tokens(message)
            self.meter.add(stage, used_in, used_out)
            self.meter.release(held)
            if self.tokens is not None:
                self.tokens.charge(max(0, used_in + used_out - (chars // 4 + 100)))
            if cut := limits.prompt_cut(chars, used_in):  # an answer to what was left of the prompt is no answer
                if breaker:
                    self.breaker.failure(limits.PROMPT_CUT, cut)
                    if self.breaker.reason:
                        raise CallsStopped(self.breaker.reason)
                raise _CallFailed(limits.PROMPT_CUT, cut)
            self.breaker.success()
            return message
        raise _CallFailed(limits.TRANSIENT, "no attempt made")  # pragma: no cover - the loop always returns or raises

    def _attempt(self, messages: list, kwargs: dict, stage: str, timeout: float):
        try:
            with self.meter.in_flight(stage):
                return self.chat.bind(**kwargs, timeout=timeout).invoke(messages)
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
            return stopped_answer(exc.completion)  # json_schema's parser refuses these; they are read here

    def _gate(self, stage: str, chars: int, room: int) -> tuple[float, float]:
        """Wait for the rate limits; refuse when the breaker is open, the budget can't cover the attempt or the
        stage's time is up. Returns the attempt's timeout (never past the stage deadline) and the dollars held
        for it (UsageMeter.hold), released once its usage is counted."""
        if self.breaker.reason:
            raise CallsStopped(self.breaker.reason)
        left = self.deadlines.remaining(stage)
        if left <= 0:
            raise _CallFailed("deadline", f"the {stage} stage's deadline ({self.cfg.stage_deadline_seconds:g} s) passed")
        held, refused = self.meter.hold(chars, room, self.cfg.max_cost_usd)
        if refused:
            raise BudgetExceeded(refused)
        self.requests.take(1)
        if self.tokens is not None:
            self.tokens.take(chars // 4 + 100)
        return max(1.0, min(self.cfg.timeout_seconds, left)), held

    def _backoff(self, exc: BaseException, attempt: int, stage: str) -> None:
        pause = limits.retry_after(exc)
        pause = min(30.0, pause if pause is not None else 0.5 * 2 ** attempt)
        time.sleep(max(0.0, min(pause, self.deadlines.remaining(stage))))

    def take_partial(self) -> list[str]:
        """Why the run is partial, said once each: the breaker, stage deadlines, asks that fell back."""
        reasons = [r for r in (self.breaker.reason, self.meter.budget_spent) if r]
        reasons += [f"the {s} stage hit its deadline ({self.cfg.stage_deadline_seconds:g} s): its remaining calls were not made"
                    for s in sorted(self.deadlines.hit)]
        new = [r for r in reasons if r not in self._reported]
        self._reported.update(new)
        # screening's failures show as unscreened papers, synthesis names each section that fell back
        with self._lock:
            failed, self._failed = self._failed, {}
        return new + [f"{stage}: {counted(n, 'call') + ' not made (LLM calls had stopped)' if stopped else counted(n, 'LLM answer') + ' failed'}; "
                      "offline text was used instead"
                      for (stage, stopped), n in sorted(failed.items()) if stage not in ("screen", "synthesise")]

    def _redact(self, text: str) -> str:
        if self.cfg.api_key:
            secret = self.cfg.api_key.get_secret_value()
            if secret:
                text = text.replace(secret, "***")
        return text[:300]


def _tokens(message) -> tuple[int, int]:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
