"""HTTP helpers shared by the network sources: a whole-request deadline and a rate limiter.

`requests` timeouts bound the connect and each socket read, not the request as a whole, so a server that
drips bytes can hold a call for ever; `get_with_deadline` streams the body and gives up once the deadline
passes. The rate limiter takes an injectable clock and sleep so tests can check waits without sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import requests
import urllib3

USER_AGENT = "brief/0.1 (literature briefing tool; python-requests)"
_CHUNK = 64 * 1024


class DeadlineExceeded(requests.exceptions.Timeout):
    """The whole request (connect, headers and body) took longer than its deadline."""


def get_with_deadline(
    session: requests.Session, url: str, deadline: float, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """GET `url`, returning (status, body); raises requests' Timeout/ConnectionError or DeadlineExceeded.

    Each socket operation gets the deadline as its timeout, and the body is read with `read1` (whatever has
    arrived, not a full chunk) with the total elapsed time checked after each read, so no call outlives
    `deadline` by more than one read's timeout.
    """
    started = time.monotonic()
    response = session.get(url, headers=headers or {"user-agent": USER_AGENT}, timeout=deadline, stream=True)
    try:
        chunks: list[bytes] = []
        while True:
            if time.monotonic() - started > deadline:
                raise DeadlineExceeded(f"{url}: no complete response within {deadline:g} s")
            try:
                chunk = response.raw.read1(_CHUNK, decode_content=True)
            except (TimeoutError, urllib3.exceptions.ReadTimeoutError) as exc:  # streaming bypasses requests' mapping
                raise requests.exceptions.ReadTimeout(f"{url}: {exc}") from exc
            except (OSError, urllib3.exceptions.HTTPError) as exc:
                raise requests.exceptions.ConnectionError(f"{url}: {exc}") from exc
            if not chunk:
                return response.status_code, b"".join(chunks)
            chunks.append(chunk)
    finally:
        response.close()


class RateLimiter:
    """At least `min_interval` seconds between the starts of consecutive calls (arXiv asks for 3 s).

    `clock` and `sleep` are injectable: tests pass a fake clock whose sleep advances it, then read `calls`
    (the clock time at which each call was let through) to check every gap.
    """

    def __init__(
        self,
        min_interval: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self.calls: deque[float] = deque(maxlen=10_000)
        self._last: float | None = None

    def wait(self) -> None:
        """Block until the next call may start, then record it."""
        now = self.clock()
        if self._last is not None:
            remaining = self._last + self.min_interval - now
            if remaining > 0:
                self.sleep(remaining)
                now = self.clock()
        self._last = now
        self.calls.append(now)

    def gaps(self) -> list[float]:
        """Seconds between consecutive calls, for tests and diagnostics."""
        times = list(self.calls)
        return [b - a for a, b in zip(times, times[1:])]


class TimeoutSession(requests.Session):
    """A session whose requests get a default timeout: `arxiv.Client` calls `session.get` with none."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, **kwargs)
