"""Shared fixtures. The environment is pinned offline first, so a hub download fails fast instead of hanging."""

from __future__ import annotations

import os

for _var in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY",
             "OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEF_MODEL", "CHROMA_HOST"):
    os.environ.pop(_var, None)
os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from brief.config import Settings  # noqa: E402
from brief.config_file import load_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


# Suites that need a service beyond Python (a real model server, PostgreSQL, a headless browser) are marked
# and run only when asked for by name: `pytest --suite real_model`. .ci/run runs each one after the main suite.
EXTRA_SUITES = ("real_model", "postgres", "browser")


def pytest_addoption(parser):
    parser.addoption("--suite", action="append", default=[], choices=EXTRA_SUITES,
                     help="run only the tests marked with this suite (repeatable)")


def pytest_configure(config):
    for name in EXTRA_SUITES:
        config.addinivalue_line("markers", f"{name}: needs an external service; selected with --suite {name}")


def pytest_collection_modifyitems(config, items):
    wanted = set(config.getoption("--suite"))
    keep, drop = [], []
    for item in items:
        marked = {name for name in EXTRA_SUITES if item.get_closest_marker(name)}
        (keep if (marked & wanted if wanted else not marked) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server on 127.0.0.1 for the `postgres` suite (tests/postgres_server.py)."""
    from tests.postgres_server import postgres_server

    with postgres_server() as url:
        yield url
