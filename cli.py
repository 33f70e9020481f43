"""The `brief` command line: the entry point. It registers the commands and turns errors into exit codes;
the commands themselves (parsing options, calling the runner) live in app/.

Exit codes: 0 done, 2 a user error (one line on stderr says what and how to fix it), 1 a failure, 3 the run
finished but is partial (papers unscreened, prose fell back, LLM calls stopped, a delivery failed): the report
is written and says so.
Here: the app, the command table and main(); weekly, fetch and review in app/cli_run.py, init/feedback in
app/cli_setup.py, eval in app/cli_eval.py, the `memory` sub-app in app/cli_memory.py, `cache` in app/cli_cache.py,
shared options and helpers in app/cli_common.py. Those never import this module (it also runs as
`python -m brief.cli`), so the command table at the bottom registers them.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from brief.app.cli_cache import cache_app
from brief.app.cli_common import Redactor, one_line, terminal_safe
from brief.app.cli_eval import eval_
from brief.app.cli_memory import memory_app
from brief.app.cli_run import fetch, review, weekly
from brief.app.cli_setup import feedback, init
from brief.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Weekly literature briefings from arXiv and feeds.",
                  context_settings={"help_option_names": ["-h", "--help"]})


def version() -> str:
    """The installed distribution's version; the package's own when it runs from a source tree."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    from brief import __version__

    try:
        return dist_version("brief")
    except PackageNotFoundError:
        return __version__


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"brief {version()}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                           help="print the version and exit")] = False,
) -> None:
    """Weekly literature briefings from arXiv and feeds."""


# -- the command table, in the order `brief --help` lists them -------------------------------------------------

app.command()(weekly)
app.command()(fetch)
app.command()(init)
app.command()(feedback)
app.command("eval")(eval_)
app.command()(review)
app.add_typer(memory_app, name="memory")
app.add_typer(cache_app, name="cache")


def main() -> None:
    """Entry point: turns known error kinds into one-line messages and exit codes.

    Exit 2 is for UserError (see errors.py) only, plus MemoryStoreError (memory won't open: a wrong --memory-dir
    or embedder), which is not a UserError subclass yet. Any other exception, a bare ValueError included, is
    a bug or an outage: "failed: …", exit 1."""
    import os

    from brief.memory import MemoryStoreError

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redactor(dict(os.environ)))
        handler.addFilter(terminal_safe)
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
            typer.echo(f"error: {one_line(message)} (see --help)", err=True)
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    except (UserError, MemoryStoreError) as exc:
        typer.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # an unexpected failure: one line, exit 1; BRIEF_DEBUG=1 shows the traceback
        if os.environ.get("BRIEF_DEBUG"):
            raise
        typer.echo(f"failed: {type(exc).__name__}: {one_line(exc)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
