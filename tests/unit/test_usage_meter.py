"""UsageMeter: model time counts the wall time a stage has calls in flight, not the sum of the calls."""

from __future__ import annotations

import pytest
from brief.agents import llm
from brief.agents.llm import UsageMeter


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_overlapping_calls_count_their_union(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(llm.time, "perf_counter", clock)
    meter = UsageMeter("gpt-4o-mini", {"gpt-4o-mini": (0.15, 0.60)})
    first, second = meter.in_flight("screen"), meter.in_flight("screen")
    first.__enter__()              # t=100: one call in flight
    clock.now = 101.0
    second.__enter__()             # t=101: two
    clock.now = 102.0
    first.__exit__(None, None, None)
    clock.now = 103.0
    second.__exit__(None, None, None)  # t=103: none; busy 100..103
    clock.now = 110.0
    with meter.in_flight("screen"):    # a later call alone: 110..111
        clock.now = 111.0
    with meter.in_flight("review"):
        clock.now = 113.0
    usage = meter.take()
    assert usage.stages["screen"].seconds == 4.0  # 3 s overlapped + 1 s alone, not 2 + 2 + 1
    assert usage.stages["review"].seconds == 2.0
    assert usage.total.seconds == 6.0
    assert meter.take().stages == {}, "take() hands each second over once"


def test_a_failing_call_still_ends_its_interval(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(llm.time, "perf_counter", clock)
    meter = UsageMeter("m", {})
    try:
        with meter.in_flight("screen"):
            clock.now = 100.5
            raise TimeoutError("model timed out")
    except TimeoutError:
        pass
    with meter.in_flight("screen"):
        clock.now = 101.5
    assert meter.take().stages["screen"].seconds == 1.5


def test_a_resumed_meter_counts_what_killed_processes_paid(tmp_path):
    """The ledger keeps each response's cost by run: a resumed process starts --max-cost from what every earlier
    process paid, and calls its checkpoint never recorded (a node killed mid-way) appear as "interrupted"."""
    from brief.agents.llm_meter import UsageMeter
    from brief.agents.llm_protocol import ClientState

    prices = {"m": (1.0, 2.0)}
    ledger = ClientState(tmp_path / "llm-state.sqlite")
    first = UsageMeter("m", prices, ledger)
    first.add("preflight", 10, 1)  # before the run id is known: flushed to the ledger on bind
    first.bind_run("weekly:W:abc", None)
    first.add("screen", 1_000_000, 0)
    checkpointed = first.take().total  # what the screen node's checkpoint holds: $1.000012, 2 calls
    first.add("review", 0, 1_000_000)  # paid, then the process is killed before the review node ends
    assert ledger.spent("weekly:W:abc")[0] == 3

    resumed = UsageMeter("m", prices, ledger)
    resumed.bind_run("weekly:W:abc", checkpointed)
    assert resumed.cost == pytest.approx(3.000012)
    lost = resumed.take().stages["interrupted"]
    assert (lost.calls, lost.output_tokens, lost.cost_usd) == (1, 1_000_000, 2.0)

    fresh = UsageMeter("m", prices, ledger)
    fresh.bind_run("weekly:W:abc", None)  # a fresh run of the same thread starts the ledger afresh
    assert fresh.cost == 0 and ledger.spent("weekly:W:abc")[0] == 0
