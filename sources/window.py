"""Date windows: an ISO week (`2026-W24`, Monday to Sunday) or an explicit since/until range."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel

_WEEK = re.compile(r"(\d{4})-W(\d{1,2})", re.ASCII)  # ASCII digits: int() would read fullwidth ones too
FIRST_YEAR = 1991  # arXiv's first year: no source has papers from an earlier week
MAX_DAYS = 366  # the longest --since/--until window a run takes


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


def weeks_between(first: str, last: str) -> list[str]:
    """Every ISO week label from `first` to `last`, inclusive (at most ten years of them)."""
    weeks = [first]
    while weeks[-1] != last and len(weeks) < 520:
        weeks.append(week_of(parse_week(weeks[-1]).since + timedelta(days=7)))
    return weeks


def week_ordinal(week: str) -> int:
    """`2026-W24` → 202624, so Chroma can filter `first seen before this week` numerically."""
    year, _, num = (week or "").partition("-W")
    try:
        return int(year) * 100 + int(num)
    except ValueError:
        return 0


def _check_year(year: int, what: str, today: date | None) -> None:
    """User input only (`today` given): a year from arXiv's first to next year, so no date arithmetic overflows."""
    if today is not None and not FIRST_YEAR <= year <= today.year + 1:
        raise ValueError(f"{what}: the year {year} is outside {FIRST_YEAR}..{today.year + 1}: give a week or date "
                         "in a year arXiv has papers for")


def parse_week(text: str, today: date | None = None) -> Window:
    """`2026-W24` → Monday 2026-06-08 .. Sunday 2026-06-14. Raises ValueError naming the expected form.
    With `today` (a week the user typed), the year must lie in FIRST_YEAR .. next year."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"bad week {text!r}: use the ISO form YYYY-Www in ASCII digits, e.g. 2026-W24")
    _check_year(int(match.group(1)), f"week {text}", today)
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ValueError(f"bad week {text!r}: week {match.group(2)} does not exist in {match.group(1)}") from None
    return Window(since=monday, until=monday + timedelta(days=6))


def _parse_date(text: str, option: str, today: date | None) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"bad date {option} {text!r} ({exc}): use YYYY-MM-DD") from None
    _check_year(day.year, f"{option} {text}", today)
    return day


def parse_range(since: str, until: str | None, today: date | None = None) -> Window:
    """--since/--until (until defaults to since + 6 days). With `today` (dates the user typed), both years must
    lie in FIRST_YEAR .. next year and the window may span at most MAX_DAYS days."""
    start = _parse_date(since, "--since", today)
    try:
        end = _parse_date(until, "--until", today) if until else start + timedelta(days=6)
    except OverflowError:
        raise ValueError(f"--since {since}: the week from then ends past the year 9999: give a real date") from None
    if end < start:
        raise ValueError(f"--until {end} is before --since {start}")
    if today is not None and (end - start).days + 1 > MAX_DAYS:
        raise ValueError(f"--since {start} --until {end} spans {(end - start).days + 1:,} days: a run covers at most "
                         f"{MAX_DAYS}; give a shorter range")
    return Window(since=start, until=end)


def week_containing(day: date) -> Window:
    monday = day - timedelta(days=day.weekday())
    return Window(since=monday, until=monday + timedelta(days=6))


def last_complete_week(today: date) -> Window:
    return week_containing(today - timedelta(days=7))
