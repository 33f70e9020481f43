"""Progress display: rich bars on stderr (stdout stays parseable), or nothing with -q."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol


class Reporter(Protocol):
    def stage(self, name: str, total: int | None = None) -> contextlib.AbstractContextManager[Callable[[int], None]]: ...

    def note(self, text: str) -> None: ...


def _ignore(n: int = 1) -> None:
    pass


class QuietReporter:
    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield _ignore

    def note(self, text: str) -> None:
        pass


class RichReporter:
    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = [SpinnerColumn(), TextColumn("[bold]{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=self.console, transient=False) as progress:
            task = progress.add_task(name, total=total)

            def advance(n: int = 1) -> None:
                progress.advance(task, n)

            yield advance
            if total is not None:
                progress.update(task, completed=total)

    def note(self, text: str) -> None:
        self.console.print(f"[dim]{text}[/dim]")
