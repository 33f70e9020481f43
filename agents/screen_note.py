"""The briefing's lines on screening: what stage 1 sent and what the audits say it missed (with an LLM); what
offline screening does not read."""

from __future__ import annotations

from brief.models import ScreenStats
from brief.text import counted


def screen_note(stats: ScreenStats) -> str:
    """One line for the briefing: what stage 1 sent, and what the audit says it missed."""
    if not stats.prefilter:
        return f"Screening: all {stats.sent} papers went to the LLM (prefilter off)" + _answers_note(stats) + "."
    text = (f"Screening: stage 1 ({stats.ranker}, {stats.trained_on} earlier decisions) sent {stats.sent} of "
            f"{stats.candidates} papers ({stats.share_sent:.0%}) to the LLM, {stats.audit_drawn} of them a random audit "
            f"of the papers below its cut")
    if stats.extended:
        text += (f"; the audit found {counted(stats.audit_drawn_positives, 'accept')} there, so the next {stats.extended} papers "
                 f"down were screened too ({stats.extended_positives} accepted)")
    text += _ranking_note(stats)
    if stats.recall_estimate is not None and stats.recall_ci is not None:
        lo, hi = stats.recall_ci
        found = (f"Of the audit's {counted(stats.audit_n, 'paper')} still below the final cut, {stats.audit_positives} "
                 f"{'was an accept' if stats.audit_positives == 1 else 'were accepts'}"
                 if stats.extended else f"The audit found {counted(stats.audit_positives, 'accept')}")
        text += (f". {found}: estimated recall {stats.recall_estimate:.2f} "
                 f"(95% interval {lo:.2f}-{hi:.2f}; target {stats.recall_target:.2f})")
    if stats.recall_weeks > 1 and stats.recall_pooled is not None and stats.recall_pooled_ci is not None:
        lo, hi = stats.recall_pooled_ci
        text += (f". Over the last {stats.recall_weeks} weeks' audits ({stats.audit_pooled_n} papers, each weighted by "
                 f"its chance of being drawn): recall {stats.recall_pooled:.2f} (95% interval {lo:.2f}-{hi:.2f})")
    return text + _answers_note(stats) + "."


WEAK_AUC = 0.75  # below this, holding the recall target costs a large share of the week


def _ranking_note(stats: ScreenStats) -> str:
    """What stage 1's ranking costs, said when it matters: a cut aimed higher after audits found misses, a cut
    max_share held back, a weak ranking."""
    auc, kept, aim = stats.ranker_auc, stats.history_recall, stats.recall_aim
    raised = (f". Earlier weeks' audits found accepts below earlier cuts that its history never labelled, so its cut "
              f"aimed at {aim:.1%} of the accepts it has labels for" if aim is not None else "")
    if stats.wanted_share is not None:
        text = (f". Its cut was held back: recall {stats.recall_target:.2f} needed {stats.wanted_share:.0%} of the week, "
                f"more than `[screening] max_share` allows")
        if kept is not None:
            text += f", and at the cut it was held to its history keeps only {kept:.0%} of the accepts"
        return raised + text + ("; raise max_share to pay for the recall, or mark papers with `brief feedback` so "
                                "stage 1 ranks better" + (f" (its cross-validated AUC is {auc:.2f})" if auc is not None else ""))
    if auc is not None and auc < WEAK_AUC:
        return raised + (f". Stage 1 ranks these criteria weakly (cross-validated AUC {auc:.2f} on its history), so "
                         f"holding recall {stats.recall_target:.2f} costs a large share of the week; `brief feedback` helps it learn")
    return raised


def _answers_note(stats: ScreenStats) -> str:
    text = f". {counted(stats.unscreened, 'paper')} {'is' if stats.unscreened == 1 else 'are'} unscreened (listed under “Unscreened”, with why)" if stats.unscreened else ""
    if stats.hallucinated_ids or stats.unmatched_topics:
        text += (f". Answers that matched nothing: {stats.hallucinated_ids} named no paper of their batch, "
                 f"{stats.unmatched_topics} named no topic (re-asked once; never read as rejects)")
    return text


def unread_interests_note(interests: str) -> str:
    """Offline, the criteria's free text goes unread (its "Not interested in: …" too): say so, once a week,
    rather than let a user believe an exclusion written there was applied. Empty when there is none."""
    text = " ".join(interests.split())
    if not text:
        return ""
    shown = text if len(text) <= 80 else text[:77].rsplit(" ", 1)[0] + " …"
    return (f"Your criteria's interests text (“{shown}”) is read only by an LLM: offline screening uses the topics, "
            "their Relevant / Not relevant notes and keywords (put an exclusion there, or in exclude_keywords, to apply it "
            "offline).")
