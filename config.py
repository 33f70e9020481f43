"""One configuration model: what `brief.toml` may say (config_file.py loads it, with environment overrides).

Everything a run needs is in `Settings`, passed down explicitly: no module reads the environment or a
global on its own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Annotated, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from brief.errors import UserError


class ConfigError(UserError, ValueError):
    """A user-fixable configuration problem; its message is one line naming the problem and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A name, description or keyword: blank ones would match everything (an empty keyword is in every abstract).
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Topic(_Strict):
    """One research interest, written the way you'd brief a colleague."""

    name: NonBlank
    description: NonBlank
    relevant: str = ""
    not_relevant: str = ""
    keywords: list[NonBlank] = Field(default_factory=list)
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="per-topic similarity cut")
    max_papers: int | None = Field(None, ge=0, description="at most this many accepts a week for this topic")

    def text(self) -> str:
        """What stage 1 embeds: the description and the positive notes, never the negatives."""
        return " ".join(part for part in (self.name + ".", self.description, self.relevant) if part)


class Criteria(_Strict):
    topics: list[Topic] = Field(min_length=1)
    authors: list[NonBlank] = Field(default_factory=list, description="watch-list: their papers are always kept")
    include_keywords: list[NonBlank] = Field(default_factory=list)
    exclude_keywords: list[NonBlank] = Field(default_factory=list)
    interests: str = Field("", description="free text about your general interests, given to the LLM")

    @model_validator(mode="after")
    def _unique_names(self) -> Criteria:
        names = [t.name for t in self.topics]
        if len(set(names)) != len(names):
            raise ValueError("topic names must be unique")
        return self


SourceKind = Literal["arxiv", "rss", "atom", "snapshot", "sample"]


class SourceConfig(_Strict):
    name: str
    kind: SourceKind
    url: str | None = None
    path: str | None = None
    categories: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_location(self) -> SourceConfig:
        if self.kind in ("rss", "atom") and not self.url:
            raise ValueError(f"source {self.name!r} of kind {self.kind} needs a url")
        if self.url and not self.url.lower().startswith(("http://", "https://", "file:")):
            raise ValueError(f"source {self.name!r}: url {self.url!r} must start with http://, https:// or file://")
        if self.kind == "snapshot" and not self.path:
            raise ValueError(f"source {self.name!r} of kind snapshot needs a path")
        return self


class ArxivConfig(_Strict):
    categories: list[str] = Field(default_factory=lambda: ["cs.CV", "cs.RO", "cs.LG", "cs.AI"])
    primary_only: bool = False
    page_size: int = Field(200, ge=1, le=2000)
    delay_seconds: float = Field(3.0, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)
    retries: int = Field(3, ge=0)


class LLMConfig(_Strict):
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    concurrency: int = Field(8, ge=1, le=64)
    requests_per_minute: float = Field(300.0, gt=0)
    batch_size: int = Field(16, ge=1, le=50, description="papers per screening call (fewer when max_tokens.screen "
                            "has no room for their verdicts, 80 tokens each; first looks take 3x as many)")
    review_batch_size: int = Field(4, ge=1, le=16, description="accepted papers of one topic per review call (fewer "
                                   "when max_tokens.review has no room for their answers, 400 tokens each)")
    structured_output: Literal["auto", "json_schema", "function_calling", "json_object", "text"] = Field(
        "auto", description="how answers are constrained to a schema; auto negotiates once per server + model")
    max_tokens: dict[str, int] = Field(
        default_factory=lambda: {"screen": 4000, "review": 1600, "plan": 800, "synthesise": 1200, "judge": 600,
                                 "preflight": 20, "default": 1000},
        description="answer tokens per call kind (stage); 'default' for the others")
    stage_deadline_seconds: float = Field(900.0, gt=0, description="a stage makes no new LLM calls after this")
    breaker_failures: int = Field(3, ge=1, description="consecutive non-transient failures (or timeouts) that stop all calls")
    use_cache: bool = Field(True, description="false (--no-cache): ask again instead of reading cached answers")
    # USD per million tokens (input, output); dated names (gpt-4o-mini-2024-07-18) take their family's price;
    # a model without a price shows "cost unknown", and --max-cost then refuses to run.
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {
            "gpt-4o-mini": (0.15, 0.60),
            "gpt-4o": (2.50, 10.00),
            "gpt-4.1": (2.00, 8.00),
            "gpt-4.1-mini": (0.40, 1.60),
            "gpt-4.1-nano": (0.10, 0.40),
            "gpt-5-mini": (0.25, 2.00),
        }
    )
    max_cost_usd: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0, description="token rate limit (prompt estimated at 4 chars a token)")
    context_tokens: int | None = Field(None, ge=2048, description="the server's context window: screening batches and "
                                       "synthesis calls are sized to fit it (Ollama's OpenAI endpoint defaults to 4096)")
    judge_model: str | None = Field(None, description="the evals' grounding judge, when it should differ from `model`")

    @model_validator(mode="before")
    @classmethod
    def _old_method_key(cls, data: Any) -> Any:
        """`[llm] method` (before 0.x) is `structured_output` now."""
        if isinstance(data, dict) and "method" in data and "structured_output" not in data:
            data = {**data, "structured_output": data["method"]}
            del data["method"]
        return data


class ScreeningConfig(_Strict):
    """Two-stage screening: stage 1 (local, learned) ranks and cuts, stage 2 (the LLM) judges what passes.

    The cut is set from the decisions memory holds so stage 1 keeps `recall_target` of what the LLM would
    accept; a random audit sample from below the cut measures how well it did, every run.
    """

    accept_relevance: int = Field(6, ge=1, le=10, description="LLM relevance needed to accept")
    similarity_threshold: float = Field(0.30, ge=-1.0, le=1.0, description="offline accept cut")
    prefilter: bool = Field(True, description="false: every paper goes to the LLM (no stage-1 cut)")
    llm_share: float = Field(0.35, gt=0, le=1.0, description="share sent on a cold start, before stage 1 has learned a cut")
    recall_target: float = Field(0.95, gt=0, le=1.0, description="share of the LLM's accepts stage 1 must pass")
    min_share: float = Field(0.05, ge=0, le=1.0, description="the learned cut never sends less than this share")
    max_share: float = Field(0.60, gt=0, le=1.0, description="the learned cut never sends more than this share")
    audit_sample: int = Field(12, ge=0, description="below-cut papers sent to the LLM to estimate recall")
    brief_band: float = Field(0.7, ge=0, le=1.0, description="share of the papers sent (lowest stage-1 scores) the LLM first sees with a shortened abstract (the sentence saying what the paper does, else the opening); re-read in full if they might match but that cannot tell (a first look at accept_relevance + 2 or more is taken as it is)")
    brief_chars: int = Field(300, ge=100, description="abstract characters shown in that first look at most")
    extend_rounds: int = Field(1, ge=0, le=5, description="when the audit finds accepts below the cut, screen the next band down (at most this often)")
    learn: bool = Field(True, description="stage 1 learns from memory's decisions and `brief feedback`")
    history_limit: int = Field(8000, ge=0, description="most recent remembered decisions stage 1 learns from")
    feedback_weight: float = Field(5.0, gt=0, description="weight of a `brief feedback` label against an LLM decision's 1")
    cut_weight: float = Field(0.05, ge=0, lt=0.5, description="weight of a paper stage 1 cut unjudged, as a negative")
    max_accepted: int = Field(40, ge=1, description="cap on accepts per week, shared across topics: a floor for each topic, the rest by merit")
    embedder: Literal["static", "memory"] = Field(
        "memory", description="stage 1's embedder: \"memory\" (memory's own) or \"static\" (a token table distilled "
        "from the local MiniLM: ~10x faster to embed, but stage 1 then sends more of the week to the LLM for the "
        "same recall, so more tokens: README, issue 19)")
    offline_z: float = Field(1.5, description="offline: a topic's calibrated score (standard deviations above the week's papers) needed to accept")
    offline_fdr: float = Field(0.3, gt=0, le=1, description="offline: the largest expected share of chance "
                               "matches among a topic's accepts (false discovery rate, the week's papers as the null); 1: no chance cut")

    @model_validator(mode="after")
    def _share_limits(self) -> ScreeningConfig:
        if self.min_share > self.max_share:
            raise ValueError("min_share must be at most max_share")
        return self


class MemoryConfig(_Strict):
    dir: Path | None = None
    cache_dir: Path | None = Field(None, description="embedding cache (default: <dir>/cache); the LLM cache lives beside memory")
    chroma_host: str | None = None
    chroma_port: int = Field(8000, ge=1, le=65535)
    embedder: Literal["local", "static", "minilm", "openai"] = Field("local", description="memory's embedder: \"local\" (int8 ONNX MiniLM), \"static\" (the distilled token table: ~10x faster imports, weaker links; a memory keeps the one it was built with)")
    embedding_model: str = "text-embedding-3-small"
    link_threshold: float = Field(0.55, ge=-1.0, le=1.0, description="cosine a link needs; calibrated with bench/link_threshold.py (README: Memory)")
    link_k: int = Field(2, ge=1, le=20, description="links a paper at most: fewer, better links (README: Memory)")

    @field_validator("dir", "cache_dir", mode="before")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        """`dir = ""` would mean the current directory: a memory created wherever brief happens to run."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: leave the line out for the default location, or name a directory")
        return value

    @field_validator("dir", "cache_dir")
    @classmethod
    def _expand_home(cls, path: Path | None) -> Path | None:
        """`dir = "~/..."` means the home directory, not a directory named `~`."""
        return path.expanduser() if path is not None else None


class CheckpointConfig(_Strict):
    """Where the graphs save their state after every node (so a crashed run resumes).

    Default: SQLite in the data dir. `url = "postgresql://user@host/db"` shares checkpoints in a team
    deployment (needs `pip install langgraph-checkpoint-postgres`); `sqlite:///PATH` picks another file.
    A secret, because a Postgres URL may hold a password: it is never logged or written anywhere.
    """

    url: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("postgresql://", "postgres://", "sqlite:///")):
            raise ValueError("must start with postgresql://, postgres:// or sqlite:/// (or leave it out for SQLite in the data dir)")
        return url


class SynthesisConfig(_Strict):
    """How the synthesiser groups and writes: every LLM call's prompt stays within the context budget."""

    context_budget_tokens: int = Field(16000, ge=2000, description="max prompt tokens per synthesis call (chars/4)")
    output_reserve_tokens: int = Field(1200, ge=200, description="left free in the budget for the answer")
    max_themes: int = Field(8, ge=1, le=20)
    trend_weeks: int = Field(4, ge=1, le=12, description="earlier weeks of memory a theme's trend looks back on")

    @model_validator(mode="after")
    def _room_for_prompts(self) -> SynthesisConfig:
        if self.output_reserve_tokens * 2 > self.context_budget_tokens:
            raise ValueError("output_reserve_tokens must be at most half of context_budget_tokens")
        return self


def _all_formats() -> list[Literal["md", "json", "html"]]:
    return ["md", "json", "html"]


class ReportConfig(_Strict):
    formats: list[Literal["md", "json", "html"]] = Field(default_factory=_all_formats, min_length=1)
    bibtex: bool = Field(False, description="also write WEEK.bib of the accepted papers")
    feed: bool = Field(True, description="keep feed.atom in the report directory: one entry per briefing")
    webhook_url: SecretStr | None = Field(None, description="POST a Slack-style JSON summary here after the files "
                                          "are written (or env BRIEF_WEBHOOK_URL); a secret: it is never shown")
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    webhook_retries: int = Field(3, ge=0, le=10)
    webhook_backoff_seconds: float = Field(2.0, ge=0)
    language: str | None = Field(None, min_length=2, max_length=40, description="language of summaries and prose "
                                 "written by a model, e.g. 'German'; offline text stays in the abstracts' language")

    @field_validator("webhook_url")
    @classmethod
    def _web_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().lower().startswith(("https://", "http://")):
            raise ValueError("webhook_url must be an http(s) URL")
        return url


class EmailConfig(_Strict):
    """SMTP delivery of each briefing. The password only ever comes from the environment (`password_env`)."""

    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password: SecretStr | None = Field(None, description="set from the env var named by password_env, never the file")
    password_env: str = "BRIEF_SMTP_PASSWORD"
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    subject: str = "Research briefing {week}"
    send: bool = Field(True, description="send after every weekly run (--email/--no-email override)")
    ca_file: Path | None = Field(None, description="CA bundle for a relay with a private certificate")
    timeout_seconds: float = Field(20.0, gt=0)
    retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(2.0, ge=0)


class Settings(_Strict):
    criteria: Criteria
    arxiv: ArxivConfig = Field(default_factory=ArxivConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    screening: ScreeningConfig = Field(default_factory=ScreeningConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    synthesis: SynthesisConfig = Field(default_factory=SynthesisConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    email: EmailConfig | None = None
    out_dir: Path = Path("briefings")
    offline: bool = Field(False, description="never call an LLM, even when one is configured")

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise ValueError("source names must be unique")
        return sources

    @property
    def llm_enabled(self) -> bool:
        return not self.offline and (self.llm.api_key is not None or self.llm.base_url is not None)

    @property
    def data_dir(self) -> Path:
        return Path(self.memory.dir) if self.memory.dir else Path(platformdirs.user_data_dir("brief"))

    @property
    def cache_dir(self) -> Path:
        return Path(self.memory.cache_dir) if self.memory.cache_dir else self.data_dir / "cache"

    def criteria_hash(self) -> str:
        """Identifies the criteria in reports, caches and checkpoints (changing them re-screens)."""
        blob = json.dumps(self.criteria.model_dump(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def secret_values(self) -> list[str]:
        """Every secret this config holds (API keys, passwords, URLs with credentials), for redaction."""
        return secret_values(self)


def secret_values(model: BaseModel) -> list[str]:
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, SecretStr) and item.get_secret_value():
                found.append(item.get_secret_value())
            elif isinstance(item, BaseModel):
                found.extend(secret_values(item))
    return found
