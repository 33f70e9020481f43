"""`brief memory …` as a user runs it (subprocesses): import a 50-entry .bib and one corpus day, find them
with search, show and forget one, stats, and an export → import round trip into a fresh memory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from brief.config_file import load_settings
from brief.memory import Memory, open_embedder, open_memory
from brief.sources.snapshot import sample_path
from tests.integration.cli_helpers import brief, write_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _corpus_day(shared_root: Path) -> Path:
    day = shared_root / "data" / "corpus" / "eclipse0922_en_csLG-csCV-csAI-csRO" / "2026-06-01_AI_enhanced_English.jsonl"
    return day if day.exists() else sample_path() / "2026-06-01_sample.jsonl"


def _records(settings, memory_dir: Path) -> dict[str, tuple[str, list[str]]]:
    local = settings.model_copy(update={"memory": settings.memory.model_copy(update={"dir": memory_dir})})
    memory = open_memory(local, open_embedder(local).name)
    return {rec.id: (rec.title, rec.authors) for rec, _ in memory.records()}


@pytest.fixture
def memory_env(tmp_path, cache_dir):
    config = write_config(tmp_path / "brief.toml", cache_dir)
    return config, tmp_path / "mem"


def test_import_search_show_export_round_trip(memory_env, tmp_path, settings):
    config, mem = memory_env
    common = ("--config", str(config), "--memory-dir", str(mem))
    out = brief("memory", "import", str(FIXTURES / "library.bib"), "--week", "2026-W30", *common)
    assert out.returncode == 0, out.stderr
    assert "imported 50 papers" in out.stdout and "41 had no full date" in out.stdout

    day = _corpus_day(Path(__file__).resolve().parents[3] / "shared")
    out = brief("memory", "import", str(day), "--json", *common)
    assert out.returncode == 0, out.stderr
    imported = json.loads(out.stdout)
    lines = [line for line in day.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert imported["kind"] == "snapshot" and imported["read"] == len(lines) and imported["undated"] == 0
    assert imported["by_first_seen_week"] == {"2026-W23": imported["read"]}, "filed under its announcement week"
    day_paper = json.loads(day.read_text(encoding="utf-8").splitlines()[3])

    out = brief("memory", "search", "audio-visual speaker tracking in complex scenes", "--json", "-n", "3", *common)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["id"] == "2606.02724", "the .bib paper about it comes first"
    out = brief("memory", "search", day_paper["title"], "--json", "-n", "3", *common)
    assert json.loads(out.stdout)[0]["id"] == day_paper["id"], "a corpus-day paper found by its title"
    out = brief("memory", "search", day_paper["title"], "--since", "2026-W24", "--json", *common)
    assert day_paper["id"] not in {h["id"] for h in json.loads(out.stdout)}, "--since leaves earlier weeks out"
    out = brief("memory", "search", "arXiv:2606.02724v2", *common)
    assert out.stdout.splitlines()[0].split()[1] == "2606.02724", "an id finds its own record"

    out = brief("memory", "show", "https://arxiv.org/abs/2606.02724", *common)
    assert out.returncode == 0 and "AVTrack" in out.stdout and "import:library.bib" in out.stdout
    stats = json.loads(brief("memory", "stats", "--json", *common).stdout)
    assert stats["papers"] == 50 + imported["new"] and stats["by_status"] == {"imported": stats["papers"]}

    bib = tmp_path / "export.bib"
    out = brief("memory", "export", "--bibtex", str(bib), *common)
    assert out.returncode == 0 and f"wrote {stats['papers']} entries" in out.stdout
    fresh = tmp_path / "fresh"
    out = brief("memory", "import", str(bib), "--config", str(config), "--memory-dir", str(fresh), "--json")
    assert out.returncode == 0, out.stderr
    again = json.loads(out.stdout)
    assert again["read"] == stats["papers"] and again["embedded"] == 0, "same texts: all from the embedding cache"
    assert _records(settings, fresh) == _records(settings, mem), "same ids, titles and authors"
    assert again["by_first_seen_week"] == {"2026-W23": stats["papers"] - 41, "2026-W30": 41}, "weeks come back too"

    out = brief("memory", "forget", "2606.02724", *common)
    assert out.returncode == 0 and "forgotten" in out.stdout
    gone = brief("memory", "show", "2606.02724", *common)
    assert gone.returncode == 2 and len(gone.stderr.strip().splitlines()) == 1 and "not in memory" in gone.stderr


def test_user_errors_are_one_line_exit_2(memory_env, tmp_path):
    config, mem = memory_env
    common = ("--config", str(config), "--memory-dir", str(mem))
    for args, words in [
        (("memory", "import", str(tmp_path / "nope.bib")), "does not exist"),
        (("memory", "import", str(FIXTURES / "library.bib"), "--week", "2026-W99"), "--week"),
        (("memory", "search", "x", "--since", "June"), "--since"),
    ]:
        out = brief(*args, *common)
        assert out.returncode == 2, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and words in out.stderr and "Traceback" not in out.stderr
    help_ = brief("memory", "--help")
    assert help_.returncode == 0 and all(c in help_.stdout for c in ("stats", "search", "show", "forget", "import", "export"))


def test_an_old_recipe_memory_is_re_embedded_by_the_fix_its_message_gives(memory_env, tmp_path):
    """After an upgrade changes the embedding recipe, search, import and stats name the way out: export
    (which reads records only, so it opens the old memory), import into a new memory dir, search there."""
    from brief.memory.importer import import_path

    config, _ = memory_env
    settings = load_settings(config, env={})
    embedder = open_embedder(settings)
    older = re.sub(r"-r(\d+)$", lambda m: f"-r{int(m[1]) - 1}", embedder.name)
    assert older != embedder.name, f"the default embedder's name carries its recipe: {embedder.name}"
    old_dir, new_dir = tmp_path / "old-recipe", tmp_path / "new"
    import_path(Memory(old_dir / "chroma", older), embedder, FIXTURES / "library.bib", week="2026-W30")
    old = ("--config", str(config), "--memory-dir", str(old_dir))

    for args in (("search", "speaker tracking"), ("import", str(FIXTURES / "library.bib"))):
        out = brief("memory", *args, *old)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)
        assert "embedding recipe" in out.stderr and "brief memory export --bibtex" in out.stderr, out.stderr
    out = brief("memory", "stats", *old)
    assert out.returncode == 0 and "50 papers" in out.stdout and "refuse it" in out.stdout, out.stderr
    assert json.loads(brief("memory", "stats", "--json", *old).stdout)["embedder"] == older
    assert "AVTrack" in brief("memory", "show", "2606.02724", *old).stdout

    bib = tmp_path / "memory.bib"
    out = brief("memory", "export", "--bibtex", str(bib), *old)
    assert out.returncode == 0 and "wrote 50 entries" in out.stdout, out.stderr
    out = brief("memory", "import", str(bib), "--config", str(config), "--memory-dir", str(new_dir), "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["new"] == 50, out.stderr
    out = brief("memory", "search", "audio-visual speaker tracking in complex scenes", "--json", "-n", "3",
                "--config", str(config), "--memory-dir", str(new_dir))
    assert out.returncode == 0 and json.loads(out.stdout)[0]["id"] == "2606.02724", out.stderr
    stats = json.loads(brief("memory", "stats", "--json", "--config", str(config), "--memory-dir", str(new_dir)).stdout)
    assert stats["embedder"] == embedder.name and "mismatch" not in stats


def test_a_weekly_run_links_to_the_imported_library(settings):
    from brief.memory.importer import import_path
    from brief.app.runner import run_weekly
    from brief.sources.window import parse_week

    # what is checked is that a library counts as seen before, not how strict links are: a looser threshold
    settings = settings.model_copy(update={"memory": settings.memory.model_copy(update={"link_threshold": 0.35})})
    embedder = open_embedder(settings)
    memory = open_memory(settings, embedder.name)
    imported = import_path(memory, embedder, FIXTURES / "library.bib", week="2026-W30")
    del memory  # the run opens its own
    result = run_weekly(settings, parse_week("2026-W24"), ["sample"])
    library = set(imported.ids)
    to_library = [link for links in result.state.links.values() for link in links if link.id in library]
    assert to_library, "the user's library counts as previously seen: W24 papers link to it"
    assert all(link.week in ("2026-W23", "library, imported 2026-W30") for link in to_library)
