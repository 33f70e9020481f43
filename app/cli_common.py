"""What every `brief` command module shares: option types, settings loading, the progress reporter and the
secret-masking error line. It imports no command module (and never `brief.cli`), so the command modules can
all import it without a cycle, also when cli.py runs as `python -m brief.cli`."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

import typer

from brief.config import Settings
from brief.config_file import load_settings
from brief.redact import mask
from brief.report.escape import term

SourceOpt = Annotated[list[str] | None, typer.Option("--source", "-s", help="arxiv | sample | snapshot:PATH | the name of a source configured in brief.toml; repeatable")]
WeekOpt = Annotated[str | None, typer.Option("--week", "-w", help="ISO week, e.g. 2026-W24 (default: the newest week the source covers to its Friday)")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="start date YYYY-MM-DD (instead of --week)")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="end date YYYY-MM-DD (default: since + 6 days)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no progress display (nor notes): the result and any partial run's reason still print")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print machine-readable JSON on stdout")]


def _path(fix: str):
    """A path option's parser: an empty value (an unset $VAR in a script) would read as the current directory."""
    def parse(value: str) -> Path:
        if not str(value).strip():
            raise typer.BadParameter(f"is empty: {fix}")
        return Path(value)
    return parse


ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="brief.toml (default ./brief.toml, else the demo config)",
                                                parser=_path("name a file"))]
_DIR = _path("name a directory (for the current one, write .)")
MemoryDirOpt = Annotated[Path | None, typer.Option("--memory-dir", help="memory and cache directory", parser=_DIR)]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="report directory (default ./briefings)", parser=_DIR)]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="never call an LLM, even if one is configured")]


def settings_for(config: Path | None, out: Path | None = None, memory_dir: Path | None = None, offline: bool = False) -> Settings:
    """The settings a command runs with: --config (else ./brief.toml, else the demo), then the command's
    --out/--memory-dir/--offline. Secrets the file holds join the redactors, so no error line shows them."""
    path = config if config is not None else (Path("brief.toml") if Path("brief.toml").exists() else None)
    settings = load_settings(path)
    updates: dict = {}
    if out is not None:
        updates["out_dir"] = out
    if offline:
        updates["offline"] = True
    if memory_dir is not None:
        updates["memory"] = settings.memory.model_copy(update={"dir": memory_dir.expanduser()})
    for redactor in redactors():  # a key written in the config file is masked in errors too
        redactor.add(settings.secret_values())
    return settings.model_copy(update=updates)


def reporter(quiet: bool):
    """The progress display: none with --quiet (or --json), else the live one on stderr."""
    from brief.progress import QuietReporter, RichReporter

    return QuietReporter() if quiet else RichReporter()


_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CHECKPOINT_URL)$", re.IGNORECASE)


class Redactor(logging.Filter):
    """Masks secrets in every log record and error line: the environment's keys and passwords, and any
    secret a loaded config holds (`settings_for` adds those). A filter on the one stderr handler, so warnings
    from any library pass through it too."""

    def __init__(self, env: dict[str, str]):
        super().__init__()
        self.secrets = {v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= 6}

    def add(self, values: list[str]) -> None:
        self.secrets.update(v for v in values if len(v) >= 6)

    def __call__(self, text: str) -> str:
        return mask(text, self.secrets)  # also their URL- and base64-encodings

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self(record.getMessage()), ()
        return True


def redactors() -> list[Redactor]:
    """The Redactors main() put on the root logger's handlers (none when a test calls a command directly)."""
    return [f for h in logging.getLogger().handlers for f in h.filters if isinstance(f, Redactor)]


def terminal_safe(record: logging.LogRecord) -> bool:
    """A logging filter: warnings quote untrusted input (file names, ids, titles), so no control sequence in
    them reaches the terminal (see report/escape.py's `term`)."""
    record.msg, record.args = term(record.getMessage()), ()
    return True


def one_line(exc: BaseException | str) -> str:
    """An error as one redacted line of at most 500 characters: what main() prints before it exits."""
    text = term(" ".join(str(exc).split())) or type(exc).__name__
    for redactor in redactors():
        text = redactor(text)
    return text if len(text) <= 500 else text[:497] + "..."
