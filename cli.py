"""The `brief` command line: parses arguments, loads settings, calls the runner. No logic of its own.

Exit codes: 0 done, 2 a user error (one line on stderr says what and how to fix it), 1 a failure.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from brief.config import ConfigError, Settings, demo_config_text, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Weekly literature briefings from arXiv and feeds.")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="brief.toml (default ./brief.toml, else the demo config)")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", "-s", help="arxiv | sample | snapshot:PATH | a [[sources]] name; repeatable")]
WeekOpt = Annotated[str | None, typer.Option("--week", "-w", help="ISO week, e.g. 2026-W24 (default: the latest the source has)")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="start date YYYY-MM-DD (instead of --week)")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="end date YYYY-MM-DD (default: since + 6 days)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print machine-readable JSON on stdout")]


class UserError(Exception):
    """Raised for bad input; main() prints it as one line and exits 2."""


def _settings(config: Path | None, out: Path | None = None, memory_dir: Path | None = None, offline: bool = False) -> Settings:
    path = config if config is not None else (Path("brief.toml") if Path("brief.toml").exists() else None)
    settings = load_settings(path)
    updates: dict = {}
    if out is not None:
        updates["out_dir"] = out
    if offline:
        updates["offline"] = True
    if memory_dir is not None:
        updates["memory"] = settings.memory.model_copy(update={"dir": memory_dir})
    return settings.model_copy(update=updates)


def _window(week: str | None, since: str | None, until: str | None, settings: Settings, sources: list[str]):
    from brief.agents.fetcher import build_sources, latest_window
    from brief.sources.window import parse_range, parse_week

    if week and since:
        raise UserError("give either --week or --since/--until, not both")
    if until and not since:
        raise UserError("--until needs --since")
    if week:
        return parse_week(week)
    if since:
        return parse_range(since, until)
    return latest_window(build_sources(sources, settings), date.today())


def _reporter(quiet: bool):
    from brief.progress import QuietReporter, RichReporter

    return QuietReporter() if quiet else RichReporter()


@app.command()
def weekly(
    week: WeekOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    config: ConfigOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="report directory (default ./briefings)")] = None,
    memory_dir: Annotated[Path | None, typer.Option("--memory-dir", help="memory and cache directory")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="never call an LLM, even if one is configured")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fetch the week's papers, screen, review, remember, link and write the briefing."""
    from brief.runner import run_weekly

    settings = _settings(config, out, memory_dir, offline)
    sources = source or []
    window = _window(week, since, until, settings, sources)
    result = run_weekly(settings, window, sources, _reporter(quiet))
    state = result.state
    summary = {
        "week": state.week,
        "mode": f"llm: {settings.llm.model}" if settings.llm_enabled else "offline: no LLM",
        "fetched": len(state.papers),
        "accepted": len(state.accepted),
        "themes": len(state.themes),
        "memory_added": state.memory_added,
        "memory_total": state.memory_total,
        "llm_calls": state.usage.total.calls,
        "embedded": state.usage.embedded,
        "outputs": result.outputs,
        "notes": state.notes,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet:
        for note in state.notes:
            typer.echo(note, err=True)
        typer.echo(f"{state.week}: {summary['fetched']} papers, {summary['accepted']} accepted in "
                   f"{summary['themes']} themes ({summary['mode']}); memory +{state.memory_added} → {state.memory_total}")
        for path in result.outputs:
            typer.echo(f"  wrote {path}")


@app.command()
def fetch(
    week: WeekOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Show what a weekly run would screen, without running any agent."""
    from brief.agents import fetcher

    settings = _settings(config)
    sources = fetcher.build_sources(source or [], settings)
    window = _window(week, since, until, settings, source or [])
    result = fetcher.fetch(sources, window)
    if as_json:
        payload = {"window": {"since": window.since.isoformat(), "until": window.until.isoformat(), "label": window.label},
                   "counts": result.counts.model_dump(), "notes": result.notes,
                   "papers": [p.model_dump(mode="json") for p in result.papers]}
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    c = result.counts
    typer.echo(f"{window.label}: {c.unique} unique papers ({c.arrived} arrived, {c.duplicates_merged} duplicates merged)")
    for day, n in c.by_day.items():
        typer.echo(f"  {day}: {n}")
    for note in result.notes:
        typer.echo(note)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="where to write the config")] = Path("brief.toml"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a commented example brief.toml to edit."""
    if path.exists() and not force:
        raise UserError(f"{path} already exists: pass --force to overwrite it")
    path.write_text(demo_config_text(), encoding="utf-8")
    typer.echo(f"wrote {path}: edit its [[criteria.topics]], then run `brief weekly --config {path}`")


def main() -> None:
    """Entry point: turns known error kinds into one-line messages and exit codes."""
    from brief.agents.fetcher import SourceSpecError
    from brief.memory.store import MemoryStoreError
    from brief.sources.snapshot import SnapshotError

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "chromadb", "openai", "langchain", "arxiv"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    import click

    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except (ConfigError, UserError, SourceSpecError, SnapshotError, MemoryStoreError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # an unexpected failure: one line, exit 1; BRIEF_DEBUG=1 shows the traceback
        import os

        if os.environ.get("BRIEF_DEBUG"):
            raise
        typer.echo(f"failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
