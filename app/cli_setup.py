"""`brief init` and `brief feedback`: set brief up for you (a config, then labels stage 1 learns from).
Plain functions; cli.py registers them on the app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from brief.app.cli_common import ConfigOpt, MemoryDirOpt, settings_for
from brief.config_file import demo_config_text, load_settings
from brief.errors import UserError


def init(
    path: Annotated[Path, typer.Argument(help="where to write the config")] = Path("brief.toml"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
    from_topics: Annotated[Path | None, typer.Option("--from-topics", help="import criteria from a numbered topics text file (paper_topics.txt format)")] = None,
    authors: Annotated[Path | None, typer.Option("--authors", help="authors.txt to import as the watch-list (default: one beside --from-topics)")] = None,
) -> None:
    """Write a commented example brief.toml to edit, or one with criteria imported from a topics file."""
    from brief.app.preflight import check_writable_file

    check_writable_file(path, "the config file")
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


def feedback(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (any form), DOI or memory id of a paper a briefing showed")],
    verdict: Annotated[str, typer.Argument(help="good | bad")],
    config: ConfigOpt = None,
    memory_dir: MemoryDirOpt = None,
) -> None:
    """Tell stage 1 a paper was (not) for you: the strongest label it learns from in later weeks."""
    from brief.app.memory_commands import canonical

    value = verdict.strip().lower()
    if value not in ("good", "bad"):
        raise UserError(f"verdict {verdict!r}: use good or bad")
    pid = canonical(paper_id)  # as `brief memory show` reads it: any arXiv form, a bare DOI or a doi.org URL
    settings = settings_for(config, memory_dir=memory_dir)
    from brief.graphs.context import open_context
    from brief.memory.lock import RunLock
    from brief.memory.presence import require_memory
    from brief.memory.store import Memory

    require_memory(settings)  # feedback marks papers a memory holds: it never creates one (nor the lock's dir)
    with RunLock(settings.data_dir):
        memory = open_context(settings, with_llm=False).memory
        assert isinstance(memory, Memory)  # the store itself: feedback is written to its records
        held = memory.get(pid)
        if held is None or not memory.set_feedback(pid, value):
            raise UserError(f"{pid} is not in memory at {memory.location}: feedback applies to papers a weekly run has seen")
    if held.feedback == value:
        typer.echo(f"{pid}: already marked {value}; nothing changed")
        return
    was = f" (it was marked {held.feedback}: this replaces it)" if held.feedback else ""
    typer.echo(f"{pid}: marked {value}{was}; stage 1 learns from it from the next weekly run on")
