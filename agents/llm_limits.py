"""What keeps the LLM client inside its bounds: request and token rates, the circuit breaker, stage deadlines,
the kind of each failure, and prices.

Every attempt (retries included) takes a request from `RequestRate` and its tokens from `TokenRate` before it
is sent, so a 429 storm can never push the client over the configured rate.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import openai

# What a failure means for the run: retry it, stop calling, or (while negotiating) try another method.
TRANSIENT, AUTH, QUOTA, MODEL, UNSUPPORTED, TIMEOUT = "transient", "auth", "quota", "model", "unsupported", "timeout"
UNREACHABLE = "unreachable"  # no connection: retried like a transient failure, and a call that never got through counts
PROMPT_CUT = "prompt cut"  # the server read less of the prompt than was sent: its window cut it (Ollama, LM Studio)
FATAL = (AUTH, QUOTA, MODEL, UNSUPPORTED)
# A prompt the server says it read less than this share of (by 4 characters a token) was cut, not tokenised
# thriftily: SmolLM2's tokeniser reads a screening prompt of 1-16 papers at 0.87-0.96 of that estimate, and a
# share under 0.65 would take over 6 characters a token, which no tokeniser reads English at. A cut that keeps
# more than that (a 4k window under a 5k prompt) goes unseen.
PROMPT_READ_SHARE = 0.65

FIXES = {
    AUTH: "the server refused the API key (401/403): set OPENAI_API_KEY (or [llm] api_key) to a valid key",
    QUOTA: "the account has no quota left (429 insufficient_quota): add credit or use another key",
    MODEL: "the server does not serve model {model!r} (404): set [llm] model (or BRIEF_MODEL) to a model it lists at /v1/models",
    UNSUPPORTED: "the server rejected the request (400): check [llm] structured_output and model",
}


def missing_api_path(endpoint: str, fetch: Callable[[str], int] | None = None) -> str | None:
    """For a 404 on `endpoint`: the address the API answers at when the base URL only lacks its `/v1`
    ("http://127.0.0.1:8080" for a server at "http://127.0.0.1:8080/v1"), else None. `fetch(url)` → HTTP
    status (default: a GET with a 5 s timeout; any failure counts as no answer)."""
    base = endpoint.rstrip("/")
    if base.endswith("/v1"):
        return None
    candidate = base + "/v1"
    return candidate if (fetch or _status)(candidate + "/models") == 200 else None


def _status(url: str) -> int:
    import requests

    from brief.sources._http import get_with_deadline

    try:
        with requests.Session() as session:
            return get_with_deadline(session, url, 5.0)[0]
    except (requests.RequestException, ValueError):
        return 0


class TokenRate:
    """A token bucket: `per_minute` capacity, refilled continuously. Shared by every call of one client."""

    def __init__(self, per_minute: float):
        self.rate = per_minute / 60.0
        self.capacity = per_minute
        self.level = per_minute
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.last) * self.rate)
        self.last = now

    def take(self, amount: float) -> float:
        """Wait until `amount` fits (an amount above capacity waits for a full bucket); returns seconds waited."""
        waited, need = 0.0, min(amount, self.capacity)
        while True:
            with self.lock:
                self._refill()
                if self.level >= need:
                    self.level -= amount  # may go below 0 for an oversized amount: the next ones wait it off
                    return waited
                pause = min(1.0, (need - self.level) / self.rate)
            time.sleep(pause)
            waited += pause

    def charge(self, amount: float) -> None:
        """Take `amount` without waiting (tokens an answer used beyond the estimate): later calls pay it off."""
        with self.lock:
            self._refill()
            self.level -= amount


class RequestRate(TokenRate):
    """Requests per minute as a bucket of `burst` requests (the client's concurrency) refilled at the rate."""

    def __init__(self, per_minute: float, burst: int):
        super().__init__(per_minute)
        self.capacity = self.level = float(max(1, burst))


class Breaker:
    """Opens after `threshold` consecutive failures that retrying can't fix (a bad key, no quota, an unknown
    model, a rejected request, a prompt the server's window cut) or that say the server has stopped answering (timeouts, calls that could not
    connect through all their retries); a success resets it. Once open, every call fails at once: the run
    finishes without the LLM and is labelled partial."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.reason: str | None = None
        self._streak = 0
        self._lock = threading.Lock()

    def success(self) -> None:
        with self._lock:
            self._streak = 0

    def failure(self, kind: str, detail: str) -> None:
        if kind not in (*FATAL, TIMEOUT, UNREACHABLE, PROMPT_CUT):
            return
        with self._lock:
            self._streak += 1
            if self._streak >= self.threshold and self.reason is None:
                self.reason = f"LLM calls stopped after {self._streak} failures in a row ({detail})"

    def trip(self, reason: str) -> None:
        with self._lock:
            self.reason = self.reason or reason


class Deadlines:
    """Each stage's clock starts at its first call; past `seconds`, the stage makes no new calls."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._started: dict[str, float] = {}
        self.hit: set[str] = set()
        self._lock = threading.Lock()

    def remaining(self, stage: str) -> float:
        with self._lock:
            started = self._started.setdefault(stage, time.monotonic())
            left = self.seconds - (time.monotonic() - started)
            if left <= 0:
                self.hit.add(stage)
            return left


# vLLM's refusal of a prompt plus max_tokens over its window, in its versions' words: "maximum context length is
# 8192 tokens. However, you requested 9000 tokens (5000 in the messages, 4000 in the completion)", "… your prompt
# contains at least 5000 input tokens", "… your request has 5000 input tokens plus 4000 'max_tokens'"
_WINDOW = re.compile(r"maximum context length is (\d+) tokens", re.IGNORECASE)
_PROMPT_TOKENS = re.compile(r"(\d+) in the messages|contains at least (\d+) input tokens|has (\d+) input tokens",
                            re.IGNORECASE)


def prompt_cut(sent_chars: int, read_tokens: int) -> str | None:
    """Why an answered call's prompt was cut by the server (which then answered a question brief did not ask),
    from the prompt tokens its usage says it read; None when it read the prompt whole, or said nothing."""
    sent = sent_chars // 4
    if not read_tokens or sent < 400 or read_tokens >= PROMPT_READ_SHARE * sent:
        return None
    return (f"the server read {read_tokens:,} of the ~{sent:,} prompt tokens sent: its context window cut the prompt "
            "(Ollama: PARAMETER num_ctx 16384 in a Modelfile, or OLLAMA_CONTEXT_LENGTH=16384; any server: a larger "
            "window, or [llm] context_tokens set to the window so batches fit it)")


def window_left(exc: BaseException) -> int | None:
    """The answer tokens a request refused for its prompt and max_tokens exceeding the server's window would
    fit in, by the server's own count; None when the refusal is not that, or the prompt alone fills the window."""
    if not isinstance(exc, openai.BadRequestError):
        return None
    text = _body_text(exc)
    window, prompt = _WINDOW.search(text), _PROMPT_TOKENS.search(text)
    if not (window and prompt):
        return None
    left = int(window.group(1)) - int(next(g for g in prompt.groups() if g))
    return left if left > 0 else None


def classify(exc: BaseException) -> str:
    """The kind of an openai client error (see the constants above)."""
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return AUTH
    if isinstance(exc, openai.RateLimitError):
        return QUOTA if "insufficient_quota" in _body_text(exc) else TRANSIENT
    if isinstance(exc, openai.NotFoundError):
        return MODEL
    if isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
        return UNSUPPORTED
    if isinstance(exc, openai.APITimeoutError):
        return TIMEOUT
    if isinstance(exc, openai.APIConnectionError):
        return UNREACHABLE
    if isinstance(exc, openai.InternalServerError):
        return TRANSIENT
    if isinstance(exc, openai.APIStatusError) and exc.status_code in (408, 409) or (
            isinstance(exc, openai.APIStatusError) and exc.status_code >= 500):
        return TRANSIENT
    return UNSUPPORTED if isinstance(exc, openai.APIStatusError) else TRANSIENT


def _body_text(exc: openai.APIStatusError) -> str:
    return f"{exc.body} {exc.message} {getattr(exc, 'code', '')}"


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), if it said."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after"):
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


def price_of(model: str, prices: dict[str, tuple[float, float]]) -> tuple[float, float] | None:
    """USD per million (input, output) tokens: the model's own price, else its family's for a dated
    snapshot (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`); None when unknown (the report says "cost unknown")."""
    if model in prices:
        return prices[model]
    family = _DATED.sub("", model)
    return prices.get(family)
