"""Date windows: an ISO week (`2026-W24`, Monday to Sunday) or an explicit since/until range."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel

_WEEK = re.compile(r"(\d{4})-W(\d{1,2})")


class Window(BaseModel):
    since: date
    until: date

    @property
    def label(self) -> str:
        """The report's name: the ISO week when the window is exactly one week, else the date range."""
        year, week, weekday = self.since.isocalendar()
        if weekday == 1 and self.until - self.since == timedelta(days=6):
            return f"{year}-W{week:02d}"
        return f"{self.since.isoformat()}_{self.until.isoformat()}"

    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]

    def contains(self, day: date | None) -> bool:
        return day is not None and self.since <= day <= self.until


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_ordinal(week: str) -> int:
    """`2026-W24` → 202624, so Chroma can filter `first seen before this week` numerically."""
    year, _, num = (week or "").partition("-W")
    try:
        return int(year) * 100 + int(num)
    except ValueError:
        return 0


def parse_week(text: str) -> Window:
    """`2026-W24` → Monday 2026-06-08 .. Sunday 2026-06-14. Raises ValueError naming the expected form."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"bad week {text!r}: use the ISO form YYYY-Www, e.g. 2026-W24")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ValueError(f"bad week {text!r}: week {match.group(2)} does not exist in {match.group(1)}") from None
    return Window(since=monday, until=monday + timedelta(days=6))


def parse_range(since: str, until: str | None) -> Window:
    try:
        start = date.fromisoformat(since)
        end = date.fromisoformat(until) if until else start + timedelta(days=6)
    except ValueError as exc:
        raise ValueError(f"bad date ({exc}): use YYYY-MM-DD") from None
    if end < start:
        raise ValueError(f"--until {end} is before --since {start}")
    return Window(since=start, until=end)


def week_containing(day: date) -> Window:
    monday = day - timedelta(days=day.weekday())
    return Window(since=monday, until=monday + timedelta(days=6))


def last_complete_week(today: date) -> Window:
    return week_containing(today - timedelta(days=7))
