"""`brief eval`: picks the datasets, replays them through the agents, scores the requested suites and
records what the figures depend on (model, prompt versions, config hash, git commit, embedder).
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import time
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field

from brief.config import ConfigError, ScreeningConfig, Settings
from brief.evals import datasets as ds
from brief.evals import pipeline, suites
from brief.evals.criteria import load_criteria
from brief.models import Paper
from brief.progress import QuietReporter, Reporter
from brief.protocols import Embedder


class EvalRequest(BaseModel):
    suites: list[str] = Field(default_factory=lambda: list(suites.SUITES))
    dataset: str | None = Field(None, description="file, directory or glob; None = the shipped set")
    criteria: Path | None = None
    use_config: bool = Field(False, description="an external set takes criteria and screening from --config "
                                                "when its criteria file doesn't give them")
    history: str | None = None
    time_split: bool = False
    positive_threshold: float | None = None
    columns: ds.Columns = Field(default_factory=ds.Columns)
    judge_limit: int = Field(40, ge=0)
    plants: int = Field(16, ge=0, description="off-field papers planted among the reviewer's accepts")


class RunInfo(BaseModel):
    started: str
    seconds: float = 0.0
    suites: list[str]
    backend: str
    model: str | None
    embedder: str
    prompts: dict[str, str]
    config_hash: str
    git_commit: str | None
    git_dirty: bool | None
    time_split: bool
    history: str | None
    positive_threshold: float | None


class DatasetResult(BaseModel):
    dataset: dict
    metrics: dict[str, float | int | str | None]
    details: dict = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class EvalReport(BaseModel):
    run: RunInfo
    results: dict[str, DatasetResult]


def parse_suites(values: list[str] | None) -> list[str]:
    """`all`, one suite, or several (repeated or comma-separated), in pipeline order."""
    wanted = {v.strip() for value in values or ["all"] for v in value.split(",") if v.strip()}
    unknown = wanted - set(suites.SUITES) - {"all"}
    if unknown:
        raise ConfigError(f"unknown suite {sorted(unknown)[0]!r}: choose from {', '.join(suites.SUITES)} or all")
    return list(suites.SUITES) if "all" in wanted or not wanted else [s for s in suites.SUITES if s in wanted]


def load_datasets(settings: Settings, request: EvalRequest) -> tuple[list[ds.Dataset], list[ds.Item]]:
    """The datasets to score and the labelled history stage 1 may learn from."""
    if request.dataset is None:
        for flag, given in (("--criteria", request.criteria), ("--history", request.history),
                            ("--positive-threshold", request.positive_threshold)):
            if given is not None:
                raise ConfigError(f"{flag} applies to an external set: give --dataset PATH too")
        return ds.shipped(), []
    if request.criteria is not None:
        criteria, screening = load_criteria(request.criteria)
    elif request.use_config:
        criteria, screening = settings.criteria, None
    else:
        raise ConfigError("--dataset needs --criteria PATH (a brief.toml or a topics text file), or --config")
    dataset = ds.load(request.dataset, criteria, request.positive_threshold, request.columns)
    dataset.screening = screening or (settings.screening if request.use_config else None)
    history = []
    if request.history:
        history = ds.load(request.history, criteria, request.positive_threshold, request.columns).items
    return [dataset], history


def run_eval(settings: Settings, request: EvalRequest, reporter: Reporter | None = None,
             embedder: Embedder | None = None) -> EvalReport:
    from brief.memory import open_embedder

    reporter = reporter or QuietReporter()
    started, started_at = time.monotonic(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    datasets, history = load_datasets(settings, request)
    embedder = embedder or open_embedder(settings)
    llm = judge = None
    if settings.llm_enabled:
        from brief.agents.llm import LLMClient

        llm = judge = LLMClient(settings.llm, None)  # no answer cache: the cost suite measures real spending
        if settings.llm.judge_model and settings.llm.judge_model != settings.llm.model:  # a model grading itself is lenient
            judge = LLMClient(settings.llm.model_copy(update={"model": settings.llm.judge_model}), None)
    steps = set().union(*(pipeline.NEEDS[s] for s in request.suites))
    results: dict[str, DatasetResult] = {}
    for dataset in datasets:
        screening = dataset.screening or ScreeningConfig()  # defaults, not tuned to the set
        replay = pipeline.Replay(screening=screening, embedder=embedder, llm=llm, link_k=settings.memory.link_k,
                                 link_threshold=settings.memory.link_threshold,
                                 synthesis=settings.synthesis, time_split=request.time_split,
                                 judge_limit=request.judge_limit, judge=judge, reporter=reporter)
        plants = choose_plants(dataset, embedder, request.plants) if "review" in steps else []
        trace = pipeline.run(dataset, replay, steps, history, plants)
        metrics: dict = {}
        for suite in request.suites:
            metrics.update(suites.compute(suite, trace, screening.llm_share))
        described = dataset.describe() | {"criteria_hash": _hash(dataset.criteria.model_dump()),
                                          "screening": screening.model_dump(), "history": len(history)}
        results[dataset.name] = DatasetResult(dataset=described, metrics=metrics, details=suites.details(trace),
                                              notes=trace.notes)
    info = run_info(settings, request, embedder, results)
    info.started, info.seconds = started_at, round(time.monotonic() - started, 1)  # when it began, not ended
    return EvalReport(run=info, results=results)


def choose_plants(dataset: ds.Dataset, embedder: Embedder, n: int) -> list[Paper]:
    """`n` papers from the shipped collection farthest from this set's criteria: another field entirely."""
    if n == 0:
        return []
    own = embedder.embed([t.text() for t in dataset.criteria.topics])
    candidates = [d for d in ds.shipped() if d.source != dataset.source]
    if not candidates:
        return []

    def closeness(other: ds.Dataset) -> float:
        return float((own @ embedder.embed([t.text() for t in other.criteria.topics]).T).max(axis=1).mean())

    source = min(candidates, key=closeness)
    pool = sorted(source.items, key=lambda i: i.paper.id)
    return [i.paper for i in random.Random(f"plants:{dataset.name}").sample(pool, min(n, len(pool)))]


def run_info(settings: Settings, request: EvalRequest, embedder: Embedder, results: dict[str, DatasetResult]) -> RunInfo:
    llm = settings.llm
    config = {
        "llm": {"model": llm.model, "structured_output": llm.structured_output, "batch_size": llm.batch_size,
                **({"judge_model": llm.judge_model} if llm.judge_model else {})} if settings.llm_enabled else None,
        "memory": {"embedder": settings.memory.embedder, "link_k": settings.memory.link_k,
                   "link_threshold": settings.memory.link_threshold},
        "datasets": {name: {"criteria": r.dataset["criteria_hash"], "screening": r.dataset["screening"]}
                     for name, r in results.items()},
        "eval": request.model_dump(mode="json", include={"time_split", "positive_threshold", "judge_limit", "plants"}),
    }
    commit, dirty = git_state()
    return RunInfo(
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"), suites=request.suites,
        backend="llm" if settings.llm_enabled else "offline", model=llm.model if settings.llm_enabled else None,
        embedder=embedder.name, prompts=prompt_versions(), config_hash=_hash(config),
        git_commit=commit, git_dirty=dirty, time_split=request.time_split, history=request.history,
        positive_threshold=request.positive_threshold,
    )


def prompt_versions() -> dict[str, str]:
    from brief.prompts import load

    names = sorted(p.name[:-3] for p in resources.files("brief.prompts").iterdir() if p.name.endswith(".md"))
    return {name: load(name).version for name in names}


def git_state() -> tuple[str | None, bool | None]:
    """The commit the code came from, and whether tracked files differ from it; (None, None) outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10)
        return commit.stdout.strip(), bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None, None


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


