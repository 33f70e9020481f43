"""Counts LLM usage per stage (calls, tokens, dollars, model time) for the run's report and `--max-cost`.

Each response's cost also goes to the spend ledger (agents/llm_protocol.ClientState) under the run's id, so a
resumed run counts what its killed processes paid, including calls whose node never finished."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from brief.agents.llm_limits import price_of
from brief.models import StageUsage, Usage


class UsageMeter:
    """Thread-safe per-stage counts of calls, tokens and dollars."""

    def __init__(self, model: str, prices: dict[str, tuple[float, float]], ledger=None):
        self.model = model
        self.price = price_of(model, prices)  # None: unknown, the report says "cost unknown"
        self.method: str | None = None  # the structured-output method, for the report
        self._ledger = ledger
        self._run: str | None = None
        self._unbound: list[tuple[int, int, float]] = []  # spends before the run id is known (the preflight)
        self._lock = threading.Lock()
        self._stages: dict[str, StageUsage] = {}
        self._in_flight: dict[str, tuple[int, float]] = {}  # stage → (calls in flight, since when)
        self._spent_before = 0.0  # dollars already handed over by take() or paid by earlier processes
        self._timed_out_tokens = 0  # prompt tokens of calls given up at their timeout, estimated
        self._held = 0.0  # dollars held for calls in flight under --max-cost
        self.budget_spent: str | None = None  # why --max-cost stopped the calls

    def add(self, stage: str, input_tokens: int, output_tokens: int, cached: bool = False) -> None:
        price = self.price or (0.0, 0.0)
        cost = 0.0 if cached else (input_tokens * price[0] + output_tokens * price[1]) / 1e6
        delta = StageUsage(
            calls=0 if cached else 1,
            cached_calls=1 if cached else 0,
            input_tokens=0 if cached else input_tokens,
            output_tokens=0 if cached else output_tokens,
            cost_usd=round(cost, 6),
        )
        with self._lock:
            self._stages[stage] = self._stages.get(stage, StageUsage()) + delta
            if not cached:
                if self._run is None:
                    self._unbound.append((input_tokens, output_tokens, cost))
                elif self._ledger is not None:
                    self._ledger.record_spend(self._run, input_tokens, output_tokens, cost)

    def time_out(self, stage: str, estimated_input_tokens: int) -> None:
        """A call given up at its timeout: no usage came back, but the server may have run it to the end."""
        with self._lock:
            self._stages[stage] = self._stages.get(stage, StageUsage()) + StageUsage(
                timed_out=1, timed_out_input_tokens=estimated_input_tokens)
            self._timed_out_tokens += estimated_input_tokens

    @property
    def timed_out_cost(self) -> float:
        """What this process's timed-out calls' prompts may have cost (their answers' length is unknown)."""
        with self._lock:
            return self._timed_out_locked()

    def _timed_out_locked(self) -> float:
        return self._timed_out_tokens * (self.price or (0.0, 0.0))[0] / 1e6

    def bind_run(self, run: str, recorded: StageUsage | None) -> None:
        """Charge this run's spend to the ledger under `run`. `recorded`: the usage the run's checkpoint holds
        when resuming (None for a fresh run, which starts the ledger afresh). What earlier processes paid beyond
        the checkpoint (calls of a node that was killed) is added as the stage "interrupted"."""
        ledger = self._ledger
        with self._lock:
            self._run = run
            if ledger is None:
                return
            if recorded is None:
                ledger.forget_run(run)
            else:
                calls, tin, tout, cost = ledger.spent(run)
                self._spent_before = recorded.cost_usd
                if calls > recorded.calls:
                    lost = StageUsage(calls=calls - recorded.calls, input_tokens=max(0, tin - recorded.input_tokens),
                                      output_tokens=max(0, tout - recorded.output_tokens),
                                      cost_usd=round(max(0.0, cost - recorded.cost_usd), 6))
                    self._stages["interrupted"] = self._stages.get("interrupted", StageUsage()) + lost
            for tin, tout, cost in self._unbound:
                ledger.record_spend(run, tin, tout, cost)
            self._unbound.clear()

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

    def hold(self, chars: int, room: int, cap: float | None) -> tuple[float, str | None]:
        """Under a cap (--max-cost), hold what a call can cost at most (its prompt at 3 characters a token, its
        answer at its whole `max_tokens`) until `release`, after its usage is counted: calls in flight together
        can then never pass the cap, however many run at once. Returns the dollars held, or 0 and why the call
        must not be made when what is spent, timed out or held leaves no room for it."""
        if cap is None:
            return 0.0, None
        price_in, price_out = self.price or (0.0, 0.0)
        most = ((chars // 3 + 100) * price_in + room * price_out) / 1e6
        with self._lock:
            spent = self._cost_locked() + self._timed_out_locked()  # read under the lock the holds take
            if spent + self._held + most > cap:
                why = f"--max-cost {cap:g} USD reached: ${spent:.4f} spent, and the next call could cost up to ${most:.4f}"
                self.budget_spent = self.budget_spent or why
                return 0.0, why
            self._held += most
        return most, None

    def release(self, held: float) -> None:
        with self._lock:
            self._held -= held

    @property
    def cost(self) -> float:
        with self._lock:
            return self._cost_locked()

    def _cost_locked(self) -> float:
        return self._spent_before + sum(s.cost_usd for s in self._stages.values())

    def take(self) -> Usage:
        """Usage since the last take: each graph node returns its own share, so resumed runs add up."""
        with self._lock:
            usage = Usage(model=self.model, stages=self._stages, method=self.method, price_known=self.price is not None)
            self._stages = {}
            self._spent_before += sum(s.cost_usd for s in usage.stages.values())
            return usage
