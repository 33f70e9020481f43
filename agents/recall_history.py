"""Stage 1's recall across weeks, from the audits memory holds.

One week's audit is a dozen papers: its interval on stage 1's recall spans most of [0, 1]. Each audit is a
uniform random draw from the papers below that week's cut, with a known inclusion probability p, so an
audit paper the judge accepts stands for 1/p accepts below the cut (inverse-probability weighting). Summed
over weeks, the accepts found above the cuts against those plus the weighted misses estimate the recall, and
the weeks' audits together narrow the interval: it is drawn by simulation, each week's share of accepts below
its cut from a Beta posterior, Beta(found + 1/(2W), audited - found + 1/2) over W weeks: one Jeffreys prior
shared among the weeks (a whole one per week adds W/2 imagined finds: over eight 12-paper audits where about
one find is expected in all, the truth then fell outside the interval in 63% of simulated runs, 1% shared);
the upper end is 1 when no audit found anything, as Jeffreys' interval has it at zero. Simulated coverage:
tests/unit/test_recall_history.py.
"""

from __future__ import annotations

import numpy as np

from brief.models import AuditWeek, ScreenStats

DRAWS = 4000


def pooled_recall(weeks: list[AuditWeek], level: float = 0.95) -> tuple[float | None, tuple[float, float] | None]:
    """The recall over `weeks` and its `level` interval; None when no week has an audit or nothing was found."""
    weeks = [w for w in weeks if w.audited and w.inclusion > 0]
    if not weeks:
        return None, None
    above = sum(w.found_above for w in weeks)
    below = np.array([w.audited / w.inclusion for w in weeks])  # the papers each audit was drawn from
    found, audited = np.array([w.audit_found for w in weeks]), np.array([w.audited for w in weeks])
    missed = float((below * found / audited).sum())
    if above + missed == 0:
        return None, None
    rng = np.random.default_rng(0)  # the same memory always states the same interval
    shares = rng.beta(found + 0.5 / len(weeks), audited - found + 0.5, size=(DRAWS, len(weeks)))
    draws = above / np.maximum(above + shares @ below, 1e-12)
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    estimate = above / (above + missed)
    if not found.any():  # Jeffreys' convention at zero: nothing found leaves "missed none" inside the interval
        hi = 1.0
    return round(estimate, 4), (round(float(min(lo, estimate)), 4), round(float(max(hi, estimate)), 4))


def with_pooled_recall(stats: ScreenStats, earlier: list[AuditWeek], week: str) -> ScreenStats:
    """`stats` with the recall pooled over the earlier weeks' audits and this week's own (this week's accepts as
    screened; memory's earlier weeks count an accept the reviewer then rejected as a reject)."""
    if not stats.prefilter or not stats.audit_n:
        return stats
    below = stats.below_cut
    this = AuditWeek(week=week, found_above=stats.positives_above, audited=stats.audit_n,
                     audit_found=stats.audit_positives, inclusion=stats.audit_n / below if below else 0.0)
    weeks = [w for w in earlier if w.week != week] + [this]
    estimate, ci = pooled_recall(weeks)
    return stats.model_copy(update={"recall_weeks": len(weeks), "recall_pooled": estimate, "recall_pooled_ci": ci,
                                    "audit_pooled_n": sum(w.audited for w in weeks)})
