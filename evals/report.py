"""Showing an eval run (a rich table, or JSON) and checking it against a saved baseline run."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

from brief.config import ConfigError
from brief.evals.runner import EvalReport
from brief.evals.suites import spec


class Regression(BaseModel):
    dataset: str
    metric: str
    baseline: float
    current: float | str | None
    allowed: float

    def line(self) -> str:
        now = "n/a" if self.current is None else self.current
        return f"{self.dataset} {self.metric}: {self.baseline} → {now} (allowed {self.allowed:+g})"


def load_baseline(path: Path) -> EvalReport:
    try:
        return EvalReport.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"baseline {path} not found: record one with `brief eval --out {path}`") from None
    except (OSError, UnicodeDecodeError, ValidationError, ValueError) as exc:
        raise ConfigError(f"baseline {path} is not a `brief eval` JSON record: {str(exc).splitlines()[0]}") from None


def compare(current: EvalReport, baseline: EvalReport, tolerance: float) -> tuple[list[Regression], list[str]]:
    """Gated metrics that got worse by more than `tolerance` (absolute for shares, relative for token and
    dollar amounts), and warnings about what differs between the two runs.

    Comparing different labelled sets is meaningless: that is a user error, not a regression.
    """
    warnings: list[str] = []
    for name, base in baseline.results.items():
        now = current.results.get(name)
        if now is None:
            raise ConfigError(f"the baseline has dataset {name!r} and this run does not: run the same datasets")
        if base.dataset.get("fingerprint") != now.dataset.get("fingerprint"):
            raise ConfigError(f"dataset {name!r} differs from the baseline's (fingerprint "
                              f"{base.dataset.get('fingerprint')} vs {now.dataset.get('fingerprint')})")
    if (baseline.run.time_split, baseline.run.history) != (current.run.time_split, current.run.history):
        flags = f"--time-split={baseline.run.time_split}, --history={baseline.run.history}"
        raise ConfigError(f"the baseline was recorded with {flags}: run with the same options")
    for field in ("embedder", "backend", "model"):
        before, after = getattr(baseline.run, field), getattr(current.run, field)
        if before != after:
            warnings.append(f"baseline {field} was {before!r}, this run's is {after!r}")
    regressions: list[Regression] = []
    for name, base in baseline.results.items():
        now = current.results[name].metrics
        for metric, old in base.metrics.items():
            s = spec(metric)
            if not s.gate or s.better is None or not isinstance(old, (int, float)) or metric not in now:
                continue
            new = now[metric]
            if isinstance(new, str):  # skipped in this run (e.g. no model): nothing to compare
                continue
            allowed = tolerance * abs(old) if s.amount else tolerance
            worse = new is None or (new < old - allowed if s.better == "higher" else new > old + allowed)
            if worse:
                regressions.append(Regression(dataset=name, metric=metric, baseline=old, current=new,
                                              allowed=-allowed if s.better == "higher" else allowed))
    return regressions, warnings


def to_json(report: EvalReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False)


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


_TOPIC = re.compile(r"^screening\.(precision|recall|f1)\[(.*)\]$")


def render(report: EvalReport, console) -> None:
    """A table of headline metrics (a column per dataset; skipped or informational figures dimmed), a
    per-topic screening table per dataset, then notes and what the run depended on."""
    from rich.table import Table

    names = list(report.results)
    model = f" ({report.run.model})" if report.run.model else ""
    table = Table(title=f"brief eval · {report.run.backend}{model} · embedder {report.run.embedder}")
    table.add_column("suite")
    table.add_column("metric")
    for name in names:
        r = report.results[name].dataset
        table.add_column(f"{name}\n{r['papers']} papers, {r['positives']} +", justify="right")
    rows: list[str] = []
    for name in names:
        rows += [m for m in report.results[name].metrics if m not in rows and not _TOPIC.match(m)]
    previous_suite = None
    for metric in rows:
        suite, _, short = metric.partition(".")
        if previous_suite is not None and suite != previous_suite:
            table.add_section()
        cells = []
        for name in names:
            metrics = report.results[name].metrics
            value = metrics.get(metric)
            text = _fmt(value) if metric in metrics else ""
            dim = isinstance(value, str) or value is None or not spec(metric).gate
            cells.append(f"[dim]{text}[/dim]" if dim else text)
        table.add_row(suite if suite != previous_suite else "", short, *cells)
        previous_suite = suite
    console.print(table)
    for name in names:
        topics: dict[str, dict[str, object]] = {}
        for metric, value in report.results[name].metrics.items():
            match = _TOPIC.match(metric)
            if match:
                topics.setdefault(match.group(2), {})[match.group(1)] = value
        if topics:
            per_topic = Table(title=f"{name}: screening per topic", title_justify="left")
            per_topic.add_column("topic")
            for column in ("precision", "recall", "f1"):
                per_topic.add_column(column, justify="right")
            for topic, values in topics.items():
                per_topic.add_row(topic, *(_fmt(values.get(c)) for c in ("precision", "recall", "f1")))
            console.print(per_topic)
    for name in names:
        for note in report.results[name].notes:
            console.print(f"[dim]{name}: {note}[/dim]")
    run = report.run
    console.print(f"[dim]commit {(run.git_commit or 'unknown')[:12]}{' (modified)' if run.git_dirty else ''} · "
                  f"config {run.config_hash} · prompts {', '.join(f'{k}@v{v}' for k, v in run.prompts.items())} · "
                  f"{run.seconds:.0f}s[/dim]")
