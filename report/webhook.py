"""Webhook delivery of a briefing: one Slack-style JSON POST (`text` plus mrkdwn `blocks`) with the week's
headline and its top papers. Slack incoming webhooks, Mattermost, Discord's /slack endpoint, Teams workflows
and any service that accepts JSON take it.

Sent after the files are written. 5xx, 429, 408, timeouts and dropped connections are retried with exponential
backoff; other 4xx are not (a wrong URL stays wrong). Nothing raises: the caller turns a failure into a note
and a partial run, because a chat message must never cost the user the briefing.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from pydantic import BaseModel

from brief.report.briefing import AcceptedPaper, Briefing
from brief.report.paper_view import authors_shown
from brief.text import counted

TOP_PAPERS = 5
_RETRY_STATUS = {408, 429}


class WebhookResult(BaseModel):
    sent: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def _mrkdwn(text: str) -> str:
    """Slack's escaping: only &, < and > are control characters (links are <url|text>)."""
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(b: Briefing) -> str:
    n = len(b.accepted)
    largest = max(b.themes, key=lambda t: len(t.paper_ids), default=None)
    lead = f"; largest theme: {largest.name} ({len(largest.paper_ids)})" if largest else ""
    return f"Research briefing {b.week}: {counted(n, 'paper')} in {counted(len(b.themes), 'theme')}{lead}"


def _link(url: str | None, text: str) -> str:
    return f"<{url}|{text}>" if url and "|" not in url else text


def _paper_line(p: AcceptedPaper) -> str:
    shown, more = authors_shown(p.authors, p.watched_authors, n=3)
    authors = ", ".join(f"*{_mrkdwn(a)}*" if watched else _mrkdwn(a) for a, watched in shown) + (" et al." if more else "")
    title = _link(p.url, _mrkdwn(p.title)) if p.url else f"*{_mrkdwn(p.title)}*"
    code = next((r.url for r in p.resources if r.kind == "code"), None)
    extras = f" · {_link(code, 'code')}" if code else ""
    return (f"• {title} ({p.relevance}/10{' · ' + _mrkdwn(p.topic) if p.topic else ''}{extras})\n"
            f"   {authors}\n   {_mrkdwn(p.summary.tldr)[:280]}")


def payload(b: Briefing) -> dict:
    """The message: a plain `text` fallback (notifications) and blocks with the top papers by relevance."""
    top = sorted(b.accepted, key=lambda p: -p.relevance)[:TOP_PAPERS]
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{_mrkdwn(headline(b))}*"}}]
    if b.overview:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(b.overview)[:2900]}})
    if top:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "\n".join(_paper_line(p) for p in top)[:2900]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(f"written by {b.mode}")}]})
    return {"text": headline(b), "blocks": blocks}


def _post(url: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "brief-webhook"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) only: the config validates the URL
        return response.status


def send(url: str, message: dict, timeout: float = 10.0, retries: int = 3, backoff: float = 2.0,
         sleep: Callable[[float], None] = time.sleep) -> WebhookResult:
    """POST `message` as JSON, retrying transient failures: waits backoff, 2×backoff, 4×backoff … between tries."""
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    attempts = 1 + retries
    status: int | None = None
    error = "not attempted"
    for attempt in range(1, attempts + 1):
        try:
            status = _post(url, body, timeout)
            return WebhookResult(sent=True, attempts=attempt, status=status)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500 and exc.code not in _RETRY_STATUS:
                return WebhookResult(sent=False, attempts=attempt, status=status, error=error)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            status, error = None, f"{type(reason).__name__}: {reason}"
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return WebhookResult(sent=False, attempts=attempts, status=status, error=error[:300])
