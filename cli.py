"""The `brief` command line: parses arguments, loads settings, calls the runner. No logic of its own.

Exit codes: 0 done, 2 a user error (one line on stderr says what and how to fix it), 1 a failure.
"""

from __future__ import annotations

import json
import logging
import re
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
        updates["memory"] = settings.memory.model_copy(update={"dir": memory_dir.expanduser()})
    for redactor in _redactors():  # a key written in the config file is masked in errors too
        redactor.add(settings.secret_values())
    return settings.model_copy(update=updates)


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
    formats: Annotated[list[str] | None, typer.Option("--format", "-f", help="md, json, html (repeatable or comma-separated; default all three)")] = None,
    bibtex: Annotated[bool, typer.Option("--bibtex", help="also write WEEK.bib of the accepted papers")] = False,
    email: Annotated[bool | None, typer.Option("--email/--no-email", help="send (or don't) the briefing by email (SMTP); default: email.send in the config")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0.0, help="stop LLM calls once this many USD are spent; the rest is listed as unscreened")] = None,
    no_prefilter: Annotated[bool, typer.Option("--no-prefilter", help="send every paper to the LLM (no stage-1 cut; ~3x the tokens)")] = False,
    restart: Annotated[bool, typer.Option("--restart", help="start afresh instead of resuming an interrupted run of the same command")] = False,
) -> None:
    """Fetch the week's papers, screen, review, remember, link and write the briefing.

    An interrupted run (crash, kill, Ctrl-C) is resumed by running the same command again."""
    from brief.runner import run_weekly

    settings = _report_settings(_settings(config, out, memory_dir, offline), formats, bibtex, email)
    settings = _screening_settings(settings, max_cost, no_prefilter)
    sources = source or []
    window = _window(week, since, until, settings, sources)
    from brief.preflight import check_weekly

    check_weekly(settings, sources, window)  # bad input fails here, before memory is locked or opened
    result = run_weekly(settings, window, sources, _reporter(quiet), restart=restart)
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
        "unscreened": sorted(pid for pid, d in state.decisions.items() if d.stage == "unscreened"),
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
        if summary["unscreened"]:
            shown = ", ".join(summary["unscreened"][:20]) + (" …" if len(summary["unscreened"]) > 20 else "")
            typer.echo(f"  {len(summary['unscreened'])} papers left unscreened (reasons in the briefing): {shown}")
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
    from_topics: Annotated[Path | None, typer.Option("--from-topics", help="import criteria from a numbered topics text file (paper_topics.txt format)")] = None,
    authors: Annotated[Path | None, typer.Option("--authors", help="authors.txt to import as the watch-list (default: one beside --from-topics)")] = None,
) -> None:
    """Write a commented example brief.toml to edit, or one with criteria imported from a topics file."""
    if path.exists() and not force:
        raise UserError(f"{path} already exists: pass --force to overwrite it")
    if authors is not None and from_topics is None:
        raise UserError("--authors needs --from-topics")
    if from_topics is None:
        path.write_text(demo_config_text(), encoding="utf-8")
        typer.echo(f"wrote {path}: edit its [[criteria.topics]], then run `brief weekly --config {path}`")
        return
    from brief.agents.criteria_import import import_criteria, to_toml

    try:
        imported = import_criteria(from_topics, authors)
        text = to_toml(imported, from_topics.name, demo_config_text())
    except ValueError as exc:
        raise UserError(f"--from-topics {from_topics}: {exc}") from None
    path.write_text(text, encoding="utf-8")
    load_settings(path, env={})  # what we wrote must load; a ConfigError here is a bug worth seeing
    typer.echo(f"wrote {path}: {len(imported.topics)} topics, {len(imported.authors)} watched authors, "
               f"{len(imported.include_keywords)} keywords from {from_topics}; check the topic names, then run "
               f"`brief weekly --config {path}`")


@app.command()
def feedback(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (any form) or memory id of a paper a briefing showed")],
    verdict: Annotated[str, typer.Argument(help="good | bad")],
    config: ConfigOpt = None,
    memory_dir: Annotated[Path | None, typer.Option("--memory-dir", help="memory and cache directory")] = None,
) -> None:
    """Tell stage 1 a paper was (not) for you: the strongest label it learns from in later weeks."""
    from brief.models import canonical_arxiv_id

    value = verdict.strip().lower()
    if value not in ("good", "bad"):
        raise UserError(f"verdict {verdict!r}: use good or bad")
    try:
        pid = canonical_arxiv_id(paper_id)[0]
    except ValueError:
        pid = paper_id.strip()
    settings = _settings(config, memory_dir=memory_dir)
    from brief.memory import open_embedder, open_memory
    from brief.memory.lock import RunLock

    with RunLock(settings.data_dir):
        memory = open_memory(settings, open_embedder(settings).name)
        if not memory.set_feedback(pid, value):
            raise UserError(f"{pid} is not in memory at {memory.location}: feedback applies to papers a weekly run has seen")
    typer.echo(f"{pid}: marked {value}; stage 1 learns from it from the next weekly run on")


@app.command("eval")
def eval_(
    suite: Annotated[list[str] | None, typer.Option("--suite", help="prefilter | screening | reviewer | synthesis | cost | all; repeatable")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="labelled set: a .jsonl/.json/.csv file, a directory or a glob (default: the shipped set)")] = None,
    criteria: Annotated[Path | None, typer.Option("--criteria", help="brief.toml or a topics text file (paper_topics.txt format)")] = None,
    history: Annotated[str | None, typer.Option("--history", help="labelled decisions from an earlier period that stage 1 may learn from")] = None,
    time_split: Annotated[bool, typer.Option("--time-split", help="replay week by week, learning only from earlier weeks")] = False,
    positive_threshold: Annotated[float | None, typer.Option("--positive-threshold", help="RELEVANCE at or above this is a positive")] = None,
    columns: Annotated[list[str] | None, typer.Option("--columns", help="CSV mapping, e.g. 'title=Document Title,abstract=Abstract,label=abs'")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="a saved `brief eval --out` JSON: exit 1 on a regression")] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0.0, help="allowed drop: absolute for shares (0.03 ≈ one paper in 35), relative for tokens and dollars")] = 0.03,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="also write the JSON record to this file")] = None,
    config: ConfigOpt = None,
    memory_dir: Annotated[Path | None, typer.Option("--memory-dir", help="data dir holding the embedding cache")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="never call an LLM, even if one is configured")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Score every agent against labelled data; compare with a baseline run."""
    from brief.evals.datasets import Columns
    from brief.evals.report import compare, load_baseline, render, to_json
    from brief.evals.runner import EvalRequest, parse_suites, run_eval
    from brief.report import atomic_write

    settings = _settings(config, memory_dir=memory_dir, offline=offline)
    request = EvalRequest(suites=parse_suites(suite), dataset=dataset, criteria=criteria, history=history,
                          use_config=config is not None or Path("brief.toml").exists(),
                          time_split=time_split, positive_threshold=positive_threshold, columns=Columns.parse(columns))
    saved = load_baseline(baseline) if baseline is not None else None
    report = run_eval(settings, request, _reporter(quiet))
    if out_file is not None:
        atomic_write(out_file, to_json(report) + "\n")
    if as_json:
        typer.echo(to_json(report))
    elif not quiet:
        from rich.console import Console

        render(report, Console())
    if saved is not None:
        regressions, warnings = compare(report, saved, tolerance)
        for warning in warnings:
            typer.echo(f"warning: {warning}", err=True)
        if regressions:
            typer.echo(f"regression against {baseline}: " + "; ".join(r.line() for r in regressions), err=True)
            raise typer.Exit(1)
        typer.echo(f"no regression against {baseline} (tolerance {tolerance})", err=True)


@app.command()
def review(
    theme: Annotated[str, typer.Argument(help='the theme to review, e.g. "KV cache compression"')],
    fresh: Annotated[bool, typer.Option("--fresh", help="also search arXiv (by relevance and by date) and merge the results with memory")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="results per arXiv search with --fresh")] = 25,
    since: Annotated[str | None, typer.Option("--since", help="papers first seen (or, fresh, published) on or after YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option("--until", help="papers first seen (or, fresh, published) on or before YYYY-MM-DD")] = None,
    max_papers: Annotated[int, typer.Option("--max-papers", min=1, max=200, help="papers the review keeps, best first")] = 30,
    config: ConfigOpt = None,
    memory_dir: Annotated[Path | None, typer.Option("--memory-dir", help="memory and cache directory")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="report directory (default ./briefings)")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="never call an LLM, even if one is configured")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    restart: Annotated[bool, typer.Option("--restart", help="start afresh instead of resuming an interrupted review")] = False,
) -> None:
    """Review one theme across everything memory has seen (plus arXiv with --fresh): sub-themes, a timeline,
    key papers, agreements and contradictions, open questions; written to review-SLUG.{md,html,json,bib}, SLUG
    being the theme in file-name form. An interrupted review resumes when the same command runs again."""
    from pydantic import ValidationError

    from brief.graphs.review_state import ReviewRequest
    from brief.runner import run_review

    if not theme.strip():
        raise UserError('review needs a theme, e.g. brief review "KV cache compression"')
    dates = {}
    for name, value in (("since", since), ("until", until)):
        try:
            dates[name] = date.fromisoformat(value) if value else None
        except ValueError:
            raise UserError(f"--{name} {value!r}: use a date YYYY-MM-DD") from None
    try:
        request = ReviewRequest(theme=theme, fresh=fresh, limit=limit, max_papers=max_papers, **dates)
    except ValidationError as exc:  # --until before --since, a theme over 300 characters
        raise UserError(f"review: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    settings = _settings(config, out, memory_dir, offline)
    result = run_review(settings, request, _reporter(quiet or as_json), restart=restart)
    state = result.state
    accepted = state.accepted
    summary = {
        "theme": request.theme, "slug": request.slug,
        "mode": f"llm: {settings.llm.model}" if settings.llm_enabled else "offline: no LLM",
        "memory_candidates": state.merge_stats.memory if state.merge_stats else 0,
        "fresh": state.fresh_stats.model_dump() if state.fresh_stats else None,
        "pool": len(state.papers), "accepted": len(accepted), "subthemes": [t.name for t in state.themes],
        "first_seen_weeks": sorted({state.first_seen[p.id] for p in accepted if p.id in state.first_seen}),
        "top": [{"id": p.id, "title": p.title, "similarity": state.similarity.get(p.id)} for p in accepted[:10]],
        "llm_calls": state.usage.total.calls, "outputs": result.outputs, "notes": state.notes,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    elif not quiet:
        for note in state.notes:
            typer.echo(note, err=True)
        weeks = summary["first_seen_weeks"]
        typer.echo(f"review “{request.theme}”: {len(accepted)} papers in {len(state.themes)} sub-themes ({summary['mode']})"
                   + (f", first seen {weeks[0]} to {weeks[-1]}" if weeks else ""))
        for path in result.outputs:
            typer.echo(f"  wrote {path}")


# -- brief memory …: thin wrappers; the logic is in memory/commands.py ---------------------------------------

memory_app = typer.Typer(no_args_is_help=True, help="Look into memory and seed it: stats, search, show, forget, import, export.")
app.add_typer(memory_app, name="memory")
MemoryDirOpt = Annotated[Path | None, typer.Option("--memory-dir", help="memory and cache directory")]


@memory_app.command("stats")
def memory_stats(config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, as_json: JsonOpt = False) -> None:
    """What memory holds: papers by status and first-seen week, where it lives, its size on disk."""
    from brief.memory import commands

    stats = commands.stats(_settings(config, memory_dir=memory_dir))
    typer.echo(json.dumps(stats, indent=2) if as_json else commands.stats_text(stats))


@memory_app.command("search")
def memory_search(
    query: Annotated[str, typer.Argument(help="words to search for (by meaning), or a paper id")],
    since: Annotated[str | None, typer.Option("--since", help="only papers first seen in this ISO week or later, e.g. 2026-W20")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="how many papers to show")] = 10,
    rejected: Annotated[bool, typer.Option("--rejected", help="also search papers screened out (rejected or cut)")] = False,
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, as_json: JsonOpt = False,
) -> None:
    """The remembered papers nearest a query, best first."""
    from brief.memory import commands

    hits = commands.search(_settings(config, memory_dir=memory_dir), query, since, limit, rejected)
    typer.echo(commands.to_json(hits) if as_json else commands.hits_text(hits))


@memory_app.command("show")
def memory_show(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (any form), DOI, or memory id")],
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, as_json: JsonOpt = False,
) -> None:
    """One paper's record: weeks seen, versions, decisions, summary."""
    from brief.memory import commands

    rec = commands.show(_settings(config, memory_dir=memory_dir), paper_id)
    typer.echo(commands.to_json(rec) if as_json else commands.record_text(rec))


@memory_app.command("forget")
def memory_forget(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (any form), DOI, or memory id")],
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None,
) -> None:
    """Remove a paper from memory (it may then be screened and linked again)."""
    from brief.memory import commands

    pid = commands.forget(_settings(config, memory_dir=memory_dir), paper_id)
    typer.echo(f"{pid}: forgotten")


@memory_app.command("import")
def memory_import(
    path: Annotated[Path, typer.Argument(help="a .bib, a Zotero CSV export, a list of arXiv ids/DOIs, or a snapshot (daily JSONL dir, Atom, Kaggle file)")],
    week: Annotated[str | None, typer.Option("--week", "-w", help="the import week (default: this week): undated entries are filed under it")] = None,
    online: Annotated[bool, typer.Option("--online", help="fetch missing titles/abstracts of arXiv ids from the arXiv API")] = False,
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False,
) -> None:
    """Seed memory with papers you already know: they count as previously seen (linked to, never screened)."""
    from brief.memory import commands

    result = commands.import_library(_settings(config, memory_dir=memory_dir), path, week, online, _reporter(quiet or as_json))
    if as_json:
        typer.echo(commands.to_json(result))
    elif not quiet:
        typer.echo(commands.import_text(result))


@memory_app.command("export")
def memory_export(
    bibtex: Annotated[Path, typer.Option("--bibtex", help="write memory's papers to this .bib file")],
    rejected: Annotated[bool, typer.Option("--rejected", help="also export papers screened out")] = False,
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None,
) -> None:
    """Export memory's papers (accepted and imported) as BibTeX."""
    from brief.memory import commands

    written, stubs = commands.export_bibtex(_settings(config, memory_dir=memory_dir), bibtex, rejected)
    typer.echo(f"wrote {written} entries to {bibtex}" + (f" ({stubs} id-only stubs left out)" if stubs else ""))


_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CHECKPOINT_URL)$", re.IGNORECASE)


class Redactor(logging.Filter):
    """Masks secrets in every log record and error line: the environment's keys and passwords, and any
    secret a loaded config holds (`_settings` adds those). A filter on the one stderr handler, so warnings
    from any library pass through it too."""

    def __init__(self, env: dict[str, str]):
        super().__init__()
        self.secrets = {v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= 6}

    def add(self, values: list[str]) -> None:
        self.secrets.update(v for v in values if len(v) >= 6)

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self(record.getMessage()), ()
        return True


def _redactors() -> list[Redactor]:
    return [f for h in logging.getLogger().handlers for f in h.filters if isinstance(f, Redactor)]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    for redactor in _redactors():
        text = redactor(text)
    return text if len(text) <= 500 else text[:497] + "..."


def main() -> None:
    """Entry point: turns known error kinds into one-line messages and exit codes."""
    import os

    from brief.agents.fetcher import SourceSpecError
    from brief.memory.lock import LockHeld
    from brief.memory.store import MemoryStoreError
    from brief.sources.snapshot import SnapshotError

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redactor(dict(os.environ)))
    logging.captureWarnings(True)  # Python warnings go through the same (redacting) handler
    for noisy in ("httpx", "chromadb", "openai", "langchain", "arxiv"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    import click
    from typer.exceptions import TyperException

    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except (click.exceptions.Exit, typer.Exit) as exc:  # typer ≥ 0.29 raises its own, not click's
        sys.exit(exc.exit_code)
    except (click.ClickException, TyperException) as exc:  # usage errors: unknown option, missing value
        if type(exc).__name__ != "NoArgsIsHelpError":  # that one's help text is already on screen
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            typer.echo(f"error: {_one_line(message)} (see --help)", err=True)
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    except (ConfigError, UserError, SourceSpecError, SnapshotError, MemoryStoreError, LockHeld, ValueError) as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # an unexpected failure: one line, exit 1; BRIEF_DEBUG=1 shows the traceback
        if os.environ.get("BRIEF_DEBUG"):
            raise
        typer.echo(f"failed: {type(exc).__name__}: {_one_line(exc)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
