"""The LLM layer's errors, as its callers see them: a call that failed after its retries, calls stopped for the run,
an answer that never validated, a server that refused the preflight; and how a caller that falls back says so."""

from __future__ import annotations

import logging


class LLMError(RuntimeError):
    """A call failed after its retries; the message names the cause (never the API key)."""


class CallsStopped(LLMError):
    """No further calls are made this run (the breaker opened, or the budget is spent). The run's partial note
    says why once, so callers fall back without a warning of their own."""


class BudgetExceeded(CallsStopped):
    """`--max-cost` was reached: no further calls are made this run."""


class InvalidAnswer(LLMError):
    """The model answered twice, and neither answer passed the schema and the caller's validation (or once,
    cut short at max_tokens: asking again would cut it again, `cut_short`)."""

    def __init__(self, message: str, cut_short: bool = False):
        super().__init__(message)
        self.cut_short = cut_short


class ServerRefused(LLMError):
    """The server refused the preflight for a reason retrying can't fix; `kind` is one of llm_limits.FATAL
    (or "unreachable"), the message names the cause and the fix."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def warn_fallback(logger: logging.Logger, exc: LLMError, message: str, *args) -> None:
    """Warn that an ask failed and its caller fell back; not once calls have stopped (CallsStopped): the run's
    partial note says that once, instead of a warning for every call left."""
    if not isinstance(exc, CallsStopped):
        logger.warning(message, *args)
