"""Shared fixtures. The environment is pinned offline first, so a hub download fails fast instead of hanging."""

from __future__ import annotations

import os

for _var in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY",
             "OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEF_MODEL", "CHROMA_HOST"):
    os.environ.pop(_var, None)
os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from brief.config import Settings, load_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "data").exists():
        pytest.skip("../shared is not beside the repo")
    return SHARED / "data"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One embedding/LLM cache for the session: each text is embedded once across all tests."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def settings(tmp_path, cache_dir) -> Settings:
    """The demo config with memory, cache and reports in temporary directories."""
    base = load_settings(None, env={})
    return base.model_copy(update={
        "out_dir": tmp_path / "briefings",
        "memory": base.memory.model_copy(update={"dir": tmp_path / "memory", "cache_dir": cache_dir}),
    })
