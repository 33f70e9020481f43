"""Stage 1's recall pooled over weeks of audits, each audit paper weighted by its inclusion probability."""

from __future__ import annotations

import numpy as np
import pytest

from brief.agents.recall_history import pooled_recall
from brief.models import AuditWeek


def test_each_audit_find_stands_for_the_inverse_of_its_inclusion_probability():
    # 8 found above; an audit of 2 papers drawn with p = 0.5 from 4 below found 1: 2 misses below, recall 8 / 10
    estimate, (lo, hi) = pooled_recall([AuditWeek(week="2026-W20", found_above=8, audited=2, audit_found=1, inclusion=0.5)])
    assert estimate == 0.8 and lo < 0.8 < hi
    assert pooled_recall([]) == (None, None)
    assert pooled_recall([AuditWeek(week="2026-W20", found_above=8)]) == (None, None), "no audit, no estimate"


def test_an_audit_that_found_nothing_keeps_full_recall_inside_its_interval():
    estimate, (lo, hi) = pooled_recall([AuditWeek(week="2026-W20", found_above=30, audited=12, audit_found=0, inclusion=0.006)])
    assert estimate == 1.0 and hi == 1.0 and lo < 0.5, "12 papers of 2,000 rule out little"


def simulate(rng, weeks: int, above: int, below: int, misses: int, audited: int) -> list[AuditWeek]:
    """Weeks whose audit is a uniform draw of `audited` of the `below` papers, `misses` of them accepts."""
    rows = []
    for w in range(weeks):
        drawn = rng.choice(below, size=audited, replace=False)
        rows.append(AuditWeek(week=f"2026-W{10 + w}", found_above=above, audited=audited,
                              audit_found=int((drawn < misses).sum()), inclusion=audited / below))
    return rows


@pytest.mark.parametrize("above, below, misses, audited", [(40, 500, 25, 40), (40, 2000, 3, 12), (40, 2000, 20, 12),
                                                           (40, 3000, 10, 12)])
def test_the_pooled_interval_covers_the_true_recall_and_narrows_with_weeks(above, below, misses, audited):
    rng = np.random.default_rng(7)
    truth = above / (above + misses)
    covered, estimates, widths = 0, [], {1: [], 8: []}
    for _ in range(200):
        rows = simulate(rng, 8, above, below, misses, audited)
        estimate, (lo, hi) = pooled_recall(rows)
        covered += lo <= truth <= hi
        estimates.append(estimate)
        widths[8].append(hi - lo)
        one = pooled_recall(rows[:1])[1]
        widths[1].append(one[1] - one[0])
    assert covered / 200 >= 0.9, f"covered the truth {truth:.3f} in {covered} of 200"
    assert np.median(widths[8]) < np.median(widths[1]), "eight weeks' audits give a narrower interval than one"
    if misses * audited / below >= 1:  # audits that find something: the estimate centres on the truth
        assert abs(np.mean(estimates) - truth) < 0.05
