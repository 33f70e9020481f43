"""`brief eval`: score every agent against labelled data and compare with a saved baseline. A plain function;
cli.py registers it on the app as `eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from brief.app.cli_common import ConfigOpt, JsonOpt, OfflineOpt, QuietOpt, reporter, settings_for


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
    offline: OfflineOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Score every agent against labelled data; compare with a baseline run."""
    from brief.evals.datasets import Columns
    from brief.evals.report import compare, load_baseline, render, to_json
    from brief.evals.runner import EvalRequest, parse_suites, run_eval
    from brief.report import atomic_write

    settings = settings_for(config, memory_dir=memory_dir, offline=offline)
    if out_file is not None:  # before the run, not after it
        from brief.app.preflight import check_writable_file

        check_writable_file(out_file, "--out")
    request = EvalRequest(suites=parse_suites(suite), dataset=dataset, criteria=criteria, history=history,
                          use_config=config is not None or Path("brief.toml").exists(),
                          time_split=time_split, positive_threshold=positive_threshold, columns=Columns.parse(columns))
    saved = load_baseline(baseline) if baseline is not None else None
    report = run_eval(settings, request, reporter(quiet or as_json))
    if out_file is not None:
        atomic_write(out_file, to_json(report) + "\n")
    if as_json:
        typer.echo(to_json(report))
    else:  # --quiet silences progress, not the result
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
