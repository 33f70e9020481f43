"""One configuration model, loaded from `brief.toml` plus environment variables.

Everything a run needs is in `Settings`, passed down explicitly: no module reads the environment or a
global on its own. Without a file, the bundled demo config (fitted to the bundled sample) is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator


class ConfigError(ValueError):
    """A user-fixable configuration problem; its message is one line naming the problem and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Topic(_Strict):
    """One research interest, written the way you'd brief a colleague."""

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    relevant: str = ""
    not_relevant: str = ""
    keywords: list[str] = Field(default_factory=list)
    threshold: float | None = Field(None, ge=-1.0, le=1.0, description="per-topic similarity cut")

    def text(self) -> str:
        """What stage 1 embeds: the description and the positive notes, never the negatives."""
        return " ".join(part for part in (self.name + ".", self.description, self.relevant) if part)


class Criteria(_Strict):
    topics: list[Topic] = Field(min_length=1)
    authors: list[str] = Field(default_factory=list, description="watch-list: their papers are always kept")
    include_keywords: list[str] = Field(default_factory=list)
    exclude_keywords: list[str] = Field(default_factory=list)
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
    batch_size: int = Field(8, ge=1, le=50, description="papers per screening call")
    method: Literal["json_schema", "function_calling"] = "json_schema"
    # USD per million tokens (input, output); unknown models cost 0 and the report says so.
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


class ScreeningConfig(_Strict):
    accept_relevance: int = Field(6, ge=1, le=10, description="LLM relevance needed to accept")
    similarity_threshold: float = Field(0.30, ge=-1.0, le=1.0, description="offline accept cut")
    llm_share: float = Field(0.35, gt=0, le=1.0, description="share of stage-1 ranking sent to the LLM")
    recall_target: float = Field(0.95, gt=0, le=1.0)
    audit_sample: int = Field(8, ge=0, description="below-cut papers sent to the LLM to estimate recall")
    max_accepted: int = Field(40, ge=1, description="cap on accepts per week, best first")


class MemoryConfig(_Strict):
    dir: Path | None = None
    cache_dir: Path | None = Field(None, description="embedding cache (default: <dir>/cache); the LLM cache lives beside memory")
    chroma_host: str | None = None
    chroma_port: int = 8000
    embedder: Literal["local", "minilm", "openai"] = "local"
    embedding_model: str = "text-embedding-3-small"
    link_threshold: float = Field(0.55, ge=-1.0, le=1.0)
    link_k: int = Field(3, ge=1, le=20)


class Settings(_Strict):
    criteria: Criteria
    arxiv: ArxivConfig = Field(default_factory=ArxivConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    screening: ScreeningConfig = Field(default_factory=ScreeningConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
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


def demo_config_text() -> str:
    return resources.files("brief").joinpath("data/demo.toml").read_text(encoding="utf-8")


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Load `path` (or the demo config when None), then apply environment overrides.

    Raises ConfigError with a one-line message for any problem a user can fix.
    """
    env = dict(os.environ) if env is None else env
    if path is None:
        text, where = demo_config_text(), "built-in demo config"
    else:
        try:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found: run `brief init` to write one") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    _apply_env(raw, env)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {loc}: {err['msg']}{more}") from None


def _apply_env(raw: dict, env: dict[str, str]) -> None:
    llm = raw.setdefault("llm", {})
    if env.get("OPENAI_API_KEY"):
        llm["api_key"] = env["OPENAI_API_KEY"]
    if env.get("OPENAI_BASE_URL"):
        llm["base_url"] = env["OPENAI_BASE_URL"]
        llm.setdefault("api_key", env.get("OPENAI_API_KEY") or "not-needed")
    if env.get("BRIEF_MODEL"):
        llm["model"] = env["BRIEF_MODEL"]
    if env.get("CHROMA_HOST"):
        raw.setdefault("memory", {})["chroma_host"] = env["CHROMA_HOST"]
