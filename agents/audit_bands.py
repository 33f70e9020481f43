"""Stage 1's audit and the bands below its cut it calls for, each sent as soon as the verdicts in hand settle it.

The audit (a random sample of the papers stage 1 cut) estimates stage 1's recall; while that estimate is under
`[screening] recall_target`, the next band below the cut is screened too (at most `extend_rounds` bands). The
estimate only rises with each accept found above the cut and only falls with each accept the audit finds, so
before every verdict is in, its lowest and highest values are known: once both are on the same side of the
target, the answer is the one the finished screen would give, and the band joins the screening pool then,
not a model latency after the last verdict.
"""

from __future__ import annotations

import math

from brief.agents.prefilter import recall_interval
from brief.models import Decision, Score


class AuditBands:
    """Which papers sit above the cut, below it, and in the audit, as bands are added; `next_band` decides."""

    def __init__(self, above: list[str], below: list[str], audit: list[str], scores: dict[str, Score],
                 rounds: int, target: float, week_size: int):
        """`below`: the papers cut and not audited, best first; `week_size`: the papers screened this week."""
        self.above, self.below, self.audit = list(above), list(below), list(audit)
        self.scores = scores
        self.rounds_left = rounds
        self.target = target
        self.band_size = max(10, math.ceil(0.05 * week_size))
        self.bands: list[str] = []  # the papers the bands added
        self.cut: float | None = None  # the cut after the last band, when there was one

    def next_band(self, decisions: dict[str, Decision]) -> list[str]:
        """The band to screen now, or [] while the verdicts in hand leave it open or no band is needed.
        `decisions`: the papers whose verdict is final (the rest are in flight)."""
        if self.rounds_left <= 0:
            return []
        needed = self._needed(decisions)
        if needed is None:
            return []
        if not needed:
            self.rounds_left = 0
            return []
        self.rounds_left -= 1
        band, self.below = self.below[:self.band_size], self.below[self.band_size:]
        self.cut = self.scores[band[-1]].score
        moved = [pid for pid in self.audit if self.scores[pid].score >= self.cut]  # the new cut passes them
        self.audit = [pid for pid in self.audit if pid not in moved]
        self.above += band + moved
        self.bands += band
        return band

    @property
    def extended(self) -> int:
        return len(self.bands)

    def recall(self, decisions: dict[str, Decision]) -> tuple[float | None, tuple[float, float] | None]:
        """The audit's estimate of stage 1's recall and its 95% interval, once every verdict is in."""
        screened = [p for p in self.audit if decisions[p].stage == "llm"]
        found = sum(decisions[p].accepted for p in self.above if decisions[p].stage == "llm")
        return recall_interval(found, len(self.below) + len(self.audit), len(screened),
                               sum(decisions[p].accepted for p in screened))

    def _needed(self, decisions: dict[str, Decision]) -> bool | None:
        """Whether the estimate is under the target whatever the papers in flight turn out to be; None: it
        depends on them. A paper in flight may end accepted, rejected or unscreened (then not in the audit's count)."""
        if not self.below:
            return False
        found = sum(decisions[p].accepted for p in self.above if p in decisions and decisions[p].stage == "llm")
        open_above = sum(p not in decisions for p in self.above)
        screened = [p for p in self.audit if p in decisions and decisions[p].stage == "llm"]
        n, k = len(screened), sum(decisions[p].accepted for p in screened)
        open_audit = sum(p not in decisions for p in self.audit)
        below = len(self.below) + len(self.audit)
        lowest = recall_interval(found, below, n + open_audit, k + open_audit)[0]
        highest = recall_interval(found + open_above, below, n + open_audit, k)[0]
        if lowest is None or lowest >= self.target:
            return False  # no audit screened at all gives no estimate: no band either
        if n and highest is not None and highest < self.target:
            return True
        return None
