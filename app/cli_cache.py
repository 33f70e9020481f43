"""`brief cache`: the LLM answer cache beside memory (stats, clear) and the --no-cache option."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from brief.app.cli_common import ConfigOpt, JsonOpt, MemoryDirOpt, settings_for

NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="ask the LLM again instead of using cached answers (new answers still refresh the cache)")]

cache_app = typer.Typer(no_args_is_help=True, help="The LLM answer cache (validated answers, beside memory).")


def _cache(config, memory_dir):
    from brief.agents.llm_cache import AnswerCache
    from brief.graphs.context import LLM_CACHE
    from brief.memory.presence import require_memory

    settings = settings_for(config, memory_dir=memory_dir)
    require_memory(settings)  # the cache lives beside a memory: a mistyped dir is named, not created
    return AnswerCache(settings.data_dir / LLM_CACHE)


@cache_app.command("stats")
def stats(config: ConfigOpt = None, memory_dir: MemoryDirOpt = None, as_json: JsonOpt = False) -> None:
    """How many LLM answers are cached, and where."""
    cache = _cache(config, memory_dir)
    size = cache.path.stat().st_size if cache.path.exists() else 0
    info = {"path": str(cache.path), "answers": cache.count(), "failed_asks": cache.count_failures(), "bytes": size}
    typer.echo(json.dumps(info) if as_json else f"{info['answers']} cached LLM answers and {info['failed_asks']} asks "
               f"remembered as failing validation in {info['path']} ({size:,} bytes)")


@cache_app.command("clear")
def clear(config: ConfigOpt = None, memory_dir: MemoryDirOpt = None) -> None:
    """Delete every cached LLM answer and remembered failure: the next run asks the model again (memory is untouched)."""
    cache = _cache(config, memory_dir)
    typer.echo(f"cleared {cache.clear()} cached LLM answers from {cache.path}")
