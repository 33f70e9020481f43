"""`brief memory …`: thin wrappers; the logic is in app/memory_commands.py. cli.py adds `memory_app` to the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from brief.app.cli_common import ConfigOpt, JsonOpt, MemoryDirOpt, QuietOpt, reporter, settings_for

memory_app = typer.Typer(no_args_is_help=True, help="Look into memory and seed it: stats, search, show, forget, import, export, check.")


@memory_app.command("stats")
def memory_stats(config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, as_json: JsonOpt = False) -> None:
    """What memory holds: papers by status and first-seen week, where it lives, its size on disk."""
    from brief.app import memory_commands as commands

    stats = commands.stats(settings_for(config, memory_dir=memory_dir))
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
    from brief.app import memory_commands as commands

    hits = commands.search(settings_for(config, memory_dir=memory_dir), query, since, limit, rejected)
    typer.echo(commands.to_json(hits) if as_json else commands.hits_text(hits))


@memory_app.command("show")
def memory_show(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (any form), DOI, or memory id")],
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, as_json: JsonOpt = False,
) -> None:
    """One paper's record: weeks seen, versions, decisions, summary."""
    from brief.app import memory_commands as commands

    rec = commands.show(settings_for(config, memory_dir=memory_dir), paper_id)
    typer.echo(commands.to_json(rec) if as_json else commands.record_text(rec))


@memory_app.command("forget")
def memory_forget(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (any form), DOI, or memory id")],
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None,
) -> None:
    """Remove a paper from memory (it may then be screened and linked again)."""
    from brief.app import memory_commands as commands

    pid = commands.forget(settings_for(config, memory_dir=memory_dir), paper_id)
    typer.echo(f"{pid}: forgotten")


@memory_app.command("import")
def memory_import(
    path: Annotated[Path, typer.Argument(help="a .bib, a Zotero CSV export, a list of arXiv ids/DOIs, or a snapshot (daily JSONL dir, Atom, Kaggle file)")],
    week: Annotated[str | None, typer.Option("--week", "-w", help="the import week (default: this week): undated entries are filed under it")] = None,
    online: Annotated[bool, typer.Option("--online", help="fetch missing titles/abstracts of arXiv ids from the arXiv API")] = False,
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False,
) -> None:
    """Seed memory with papers you already know: they count as previously seen (linked to, never screened)."""
    from brief.app import memory_commands as commands

    result = commands.import_library(settings_for(config, memory_dir=memory_dir), path, week, online, reporter(quiet or as_json))
    typer.echo(commands.to_json(result) if as_json else commands.import_text(result))  # --quiet: no progress only


@memory_app.command("export")
def memory_export(
    bibtex: Annotated[Path, typer.Option("--bibtex", help="write memory's papers to this .bib file")],
    rejected: Annotated[bool, typer.Option("--rejected", help="also export papers screened out")] = False,
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None,
) -> None:
    """Export memory's papers (accepted and imported) as BibTeX."""
    from brief.app import memory_commands as commands

    written, stubs = commands.export_bibtex(settings_for(config, memory_dir=memory_dir), bibtex, rejected)
    typer.echo(f"wrote {written} entries to {bibtex}" + (f" ({stubs} id-only stubs left out)" if stubs else ""))


@memory_app.command("check")
def memory_check(
    repair: Annotated[bool, typer.Option("--repair", help="rebuild damaged vector indexes from the stored records; move damaged caches aside")] = False,
    config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False,
) -> None:
    """Check memory (a query per collection, in a child process), its caches and checkpoints; exit 2 if damaged."""
    from brief.memory import check

    report = check.check(settings_for(config, memory_dir=memory_dir), repair, reporter(quiet or as_json))
    typer.echo(report.model_dump_json(indent=2) if as_json else check.check_text(report))
    if not report.ok:
        raise typer.Exit(2)
