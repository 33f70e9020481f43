"""`brief weekly`, `brief fetch` and `brief review`: settings from the options, the preflight, the runner,
then the summary line (or JSON). cli.py registers these commands; they never import it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from brief.app.cli_cache import NoCacheOpt
from brief.app.cli_common import (ConfigOpt, JsonOpt, MemoryDirOpt, OfflineOpt, OutOpt, QuietOpt, SinceOpt, SourceOpt,
                                  UntilOpt, WeekOpt, reporter, settings_for)
from brief.config import Settings
from brief.errors import UserError
from brief.report.escape import term
from brief.text import counted


def _report_settings(settings: Settings, formats: list[str] | None, bibtex: bool, email: bool | None) -> Settings:
    """Apply weekly's output flags: --format, --bibtex, --email/--no-email."""
    report: dict = {"bibtex": True} if bibtex else {}
    if formats:
        chosen = list(dict.fromkeys(f.strip().lower() for spec in formats for f in spec.split(",") if f.strip()))
        unknown = [f for f in chosen if f not in ("md", "json", "html")]
        if unknown or not chosen:
            raise UserError(f"--format {', '.join(unknown) or '(empty)'}: use md, json or html")
        report["formats"] = chosen
    updates: dict = {"report": settings.report.model_copy(update=report)} if report else {}
    if email is True and settings.email is None:
        raise UserError("--email needs an [email] section (host, sender, to) in brief.toml")
    if email is not None and settings.email is not None:
        updates["email"] = settings.email.model_copy(update={"send": email})
    return settings.model_copy(update=updates) if updates else settings


def _screening_settings(settings: Settings, max_cost: float | None, no_prefilter: bool) -> Settings:
    """Apply weekly's --max-cost (USD, stops LLM calls) and --no-prefilter (every paper to the LLM)."""
    updates: dict = {}
    if max_cost is not None:
        if max_cost <= 0:
            raise UserError("--max-cost must be more than 0 USD")
        updates["llm"] = settings.llm.model_copy(update={"max_cost_usd": max_cost})
    if no_prefilter:
        updates["screening"] = settings.screening.model_copy(update={"prefilter": False})
    return settings.model_copy(update=updates) if updates else settings


def _window(week: str | None, since: str | None, until: str | None, settings: Settings, sources: list[str]):
    from brief.agents.fetcher import build_sources, latest_window
    from brief.sources.window import parse_range, parse_week

    if week and since:
        raise UserError("give either --week or --since/--until, not both")
    if until and not since:
        raise UserError("--until needs --since")
    try:  # the parsers raise ValueError naming the form to use; here it is the user's --week/--since/--until
        if week:
            return parse_week(week, today=date.today())
        if since:
            return parse_range(since, until, today=date.today())
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return latest_window(build_sources(sources, settings), date.today())


def is_demo(config, memory_dir, settings: Settings, sources: list[str]) -> bool:
    """The quick start: no config file anywhere, no memory configured, the bundled sample as the source."""
    from pathlib import Path

    configured = config is not None or Path("brief.toml").exists() or memory_dir is not None
    return (not configured and settings.memory.dir is None and settings.memory.chroma_host is None
            and not settings.sources and set(sources) <= {"sample"})


def weekly(
    week: WeekOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    memory_dir: MemoryDirOpt = None,
    offline: OfflineOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    formats: Annotated[list[str] | None, typer.Option("--format", "-f", help="md, json, html (repeatable or comma-separated; default all three)")] = None,
    bibtex: Annotated[bool, typer.Option("--bibtex", help="also write WEEK.bib of the accepted papers")] = False,
    email: Annotated[bool | None, typer.Option("--email/--no-email", help="send (or don't) the briefing by email (SMTP); default: email.send in the config")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0.0, help="stop LLM calls once this many USD are spent; the rest is listed as unscreened")] = None,
    no_prefilter: Annotated[bool, typer.Option("--no-prefilter", help="send every paper to the LLM (no stage-1 cut; ~3x the tokens)")] = False,
    restart: Annotated[bool, typer.Option("--restart", help="start afresh instead of resuming an interrupted run of the same command")] = False,
    no_cache: NoCacheOpt = False,
) -> int:
    """Fetch the week's papers, screen, review, remember, link and write the briefing.

    An interrupted run (crash, kill, Ctrl-C) is resumed by running the same command again."""
    from brief.app.runner import run_weekly

    settings = _report_settings(settings_for(config, out, memory_dir, offline), formats, bibtex, email)
    settings = _cache_settings(_screening_settings(settings, max_cost, no_prefilter), no_cache)
    sources = source or []
    window = _window(week, since, until, settings, sources)
    from brief.app.preflight import check_llm, check_weekly

    check_weekly(settings, sources, window)  # bad input fails here, before memory is locked or opened
    llm = check_llm(settings)  # so does a bad key, no quota, an unknown model or no structured output
    if is_demo(config, memory_dir, settings, sources):
        from brief.app.runner import demo_settings, run_demo

        settings = demo_settings(settings)
        result = run_demo(settings, window, sources, reporter(quiet or as_json), restart=restart, llm=llm)
    else:
        result = run_weekly(settings, window, sources, reporter(quiet or as_json), restart=restart, llm=llm)
    state = result.state
    unscreened = sorted(pid for pid, d in state.decisions.items() if d.stage == "unscreened")
    summary = {
        "week": state.week,
        "mode": f"llm: {settings.llm.model}" if settings.llm_enabled else "offline: no LLM",
        "fetched": len(state.papers),
        "accepted": len(state.accepted),
        "themes": len(state.themes),
        "memory_added": state.memory_added,
        "memory_total": state.memory_total,
        "llm_calls": state.usage.total.calls,
        "unscreened": unscreened,
        "embedded": state.usage.embedded,
        "outputs": result.outputs,
        "notes": state.notes,
        "partial": state.partial,
    }
    lines = [f"{state.week}: {counted(len(state.papers), 'paper')}, {summary['accepted']} accepted in "
             f"{counted(len(state.themes), 'theme')} ({summary['mode']}); memory +{state.memory_added} → {state.memory_total}"]
    if unscreened:
        shown = ", ".join(unscreened[:20]) + (" …" if len(unscreened) > 20 else "")
        lines.append(f"  {len(unscreened)} papers left unscreened (reasons in the briefing): {shown}")
    return _summarise(summary, lines, state.notes, result.outputs, state.partial, quiet, as_json, ensure_ascii=True)


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

    settings = settings_for(config)
    sources = fetcher.build_sources(source or [], settings)
    window = _window(week, since, until, settings, source or [])
    from brief.app.preflight import check_coverage

    check_coverage(sources, window)
    result = fetcher.fetch(sources, window)
    if as_json:
        payload = {"window": {"since": window.since.isoformat(), "until": window.until.isoformat(), "label": window.label},
                   "counts": result.counts.model_dump(), "notes": result.notes, "failed": result.failed,
                   "papers": [p.model_dump(mode="json") for p in result.papers]}
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        c = result.counts
        typer.echo(f"{window.label}: {c.unique} unique papers ({c.arrived} arrived, {c.duplicates_merged} duplicates merged)")
        for day, n in c.by_day.items():
            typer.echo(f"  {day}: {n}")
        for note in result.notes:
            typer.echo(note)
        for failure in result.failed:
            typer.echo(f"partial (exit 3): {failure}", err=True)
    if result.failed:
        raise typer.Exit(3)


def review(
    theme: Annotated[str, typer.Argument(help='the theme to review, e.g. "KV cache compression"')],
    fresh: Annotated[bool, typer.Option("--fresh", help="also search arXiv (by relevance and by date) and merge the results with memory")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="results per arXiv search with --fresh")] = 25,
    since: Annotated[str | None, typer.Option("--since", help="papers first seen (or, fresh, published) on or after YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option("--until", help="papers first seen (or, fresh, published) on or before YYYY-MM-DD")] = None,
    max_papers: Annotated[int, typer.Option("--max-papers", min=1, max=200, help="papers the review keeps, best first")] = 30,
    config: ConfigOpt = None,
    memory_dir: MemoryDirOpt = None,
    out: OutOpt = None,
    offline: OfflineOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    restart: Annotated[bool, typer.Option("--restart", help="start afresh instead of resuming an interrupted review")] = False,
    no_cache: NoCacheOpt = False,
) -> int:
    """Review one theme across everything memory has seen (plus arXiv with --fresh): sub-themes, a timeline,
    key papers, agreements and contradictions, open questions; written to review-SLUG.{md,html,json,bib}, SLUG
    being the theme in file-name form. An interrupted review resumes when the same command runs again."""
    from brief.graphs.review_state import ReviewRequest
    from brief.app.runner import run_review
    from pydantic import ValidationError

    if not any(c.isalnum() for c in theme):  # blank, or punctuation only: nothing to search for
        raise UserError('review needs a theme, e.g. brief review "KV cache compression"')
    if len(theme) > 300:
        raise UserError(f"the theme has {len(theme)} characters: name it in at most 300")
    dates = {}
    for name, value in (("since", since), ("until", until)):
        try:
            dates[name] = date.fromisoformat(value) if value else None
        except ValueError:
            raise UserError(f"--{name} {value!r}: use a date YYYY-MM-DD") from None
    try:
        request = ReviewRequest(theme=theme, fresh=fresh, limit=limit, max_papers=max_papers, **dates)
    except ValidationError as exc:  # --until before --since
        raise UserError(f"review: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    settings = _cache_settings(settings_for(config, out, memory_dir, offline), no_cache)
    from brief.app.preflight import check_llm, check_writable_dir

    check_writable_dir(settings.out_dir, "the report directory (--out)")  # before the work, not after it
    llm = check_llm(settings)
    result = run_review(settings, request, reporter(quiet or as_json), restart=restart, llm=llm)
    state = result.state
    accepted = state.accepted
    weeks = sorted({state.first_seen[p.id] for p in accepted if p.id in state.first_seen})
    summary = {
        "theme": request.theme, "slug": request.slug,
        "mode": f"llm: {settings.llm.model}" if settings.llm_enabled else "offline: no LLM",
        "memory_candidates": state.merge_stats.memory if state.merge_stats else 0,
        "fresh": state.fresh_stats.model_dump() if state.fresh_stats else None,
        "pool": len(state.papers), "accepted": len(accepted), "subthemes": [t.name for t in state.themes],
        "first_seen_weeks": weeks,
        "top": [{"id": p.id, "title": p.title, "similarity": state.similarity.get(p.id)} for p in accepted[:10]],
        "llm_calls": state.usage.total.calls, "outputs": result.outputs, "notes": state.notes,
        "partial": state.partial,
    }
    lines = [f"review “{request.theme}”: {counted(len(accepted), 'paper')} in {counted(len(state.themes), 'sub-theme')} "
             f"({summary['mode']})"
             + (f", first seen {weeks[0]} to {weeks[-1]}" if weeks else "")]
    if not accepted:
        lines.append(f"  no paper of the {summary['pool']} nearest the theme is on it: try a broader wording"
                     + ("" if request.fresh else ", or --fresh to search arXiv too"))
    return _summarise(summary, lines, state.notes, result.outputs, state.partial, quiet, as_json, ensure_ascii=False)


def _summarise(summary: dict[str, Any], lines: list[str], notes: list[str], outputs: list[str], partial: list[str],
               quiet: bool, as_json: bool, ensure_ascii: bool) -> int:
    """A run's end: its summary as JSON, or its notes (stderr; not with --quiet), `lines` and the files it
    wrote; then its exit code. --quiet silences progress and notes, never the result or a partial run's reason
    (a cron job's log must say what happened)."""
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=ensure_ascii))
    else:
        for note in [] if quiet else notes:
            typer.echo(term(note), err=True)
        for line in lines:
            typer.echo(line)
        for path in outputs:
            typer.echo(f"  wrote {path}")
    return partial_exit(partial, as_json)


def _cache_settings(settings: Settings, no_cache: bool) -> Settings:
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"use_cache": False})}) if no_cache else settings


def partial_exit(partial: list[str], as_json: bool) -> int:
    """Exit 3 when the run is partial (the report says why), after saying so on stderr (in the JSON with --json)."""
    if not partial:
        return 0
    if not as_json:
        typer.echo("partial run (exit 3): " + "; ".join(partial), err=True)
    return 3
