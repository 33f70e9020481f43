"""`brief init --from-topics`: numbered-topics files (gpt_paper_assistant format) become a brief.toml."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from brief.agents.criteria_import import import_criteria, parse_authors, parse_config_ini, parse_topics, to_toml, topic_name
from brief.config_file import demo_config_text, load_settings

REPO = Path(__file__).resolve().parents[2]

CGARLING_STYLE = """## Relevant Topics

Use the following relevance criteria when considering which papers to keep.

1. Near-Field Cosmology
   - Relevant: Work on dwarf satellite galaxies of the Milky Way,
     and the accreted stellar halo.
   - Irrelevant: Papers on the Galactic center.

2. Stellar Models
   - Relevant: New stellar evolutionary tracks.

**Keywords:**

- Relevant: core-cusp, satellite luminosity function
- Irrelevant: bar, tidal disruption event (TDE)
"""

TATSU_STYLE = """ 1. New methodological improvements to RLHF or instruction-following which are specific fine-tuning steps.
    - Relevant: papers that discuss specific methods like RLHF.
    - Not relevant: papers about adaptation to some task.
 2. Shows new VLLMs (visual large language models) or MLLMs (multi-modal large language models)
 3.Integration of Image/Video and Large Language Models Papers showcasing techniques that combine them.

 In suggesting papers to your friend, remember that he enjoys statistical machine learning.
 He does not want to read papers about applications.
"""


def test_numbered_topics_with_notes_keywords_and_wrapped_lines():
    got = parse_topics(CGARLING_STYLE)
    assert [t.name for t in got.topics] == ["Near-Field Cosmology", "Stellar Models"]
    near = got.topics[0]
    assert near.relevant == "Work on dwarf satellite galaxies of the Milky Way, and the accreted stellar halo."
    assert near.not_relevant == "Papers on the Galactic center."
    assert got.include_keywords == ["core-cusp", "satellite luminosity function"]
    assert got.avoid_keywords == ["bar", "tidal disruption event", "TDE"]
    assert got.interests == "", "the preamble is instructions to the old tool, not interests"
    criteria = got.criteria()
    assert "Not interested in: bar, tidal disruption event, TDE." in criteria.interests
    assert criteria.exclude_keywords == [], "irrelevant keywords are advice to the LLM, never a silent drop"


def test_sentence_topics_get_short_names_and_trailing_prose_becomes_interests():
    got = parse_topics(TATSU_STYLE)
    assert [t.name for t in got.topics] == [
        "New methodological improvements to RLHF or instruction-following",
        "New VLLMs or MLLMs",
        "Integration of Image/Video and Large Language Models",
    ]
    assert got.topics[1].description.startswith("Shows new VLLMs (visual large language models)")
    assert got.topics[0].not_relevant == "papers about adaptation to some task."
    assert got.interests.startswith("In suggesting papers") and got.interests.endswith("about applications.")


def test_unnumbered_inline_topics_and_duplicate_names():
    text = ("Model Compression - Relevant: pruning, quantization. - Irrelevant: straightforward applications.\n"
            "1. Model Compression\n")
    got = parse_topics(text)
    assert [t.name for t in got.topics] == ["Model Compression", "Model Compression (2)"]
    assert got.topics[0].relevant == "pruning, quantization." and got.topics[0].not_relevant == "straightforward applications."


def test_topic_keywords_bullet_and_names():
    got = parse_topics("1. Scaling laws\n   - Keywords: power law, compute-optimal\n")
    assert got.topics[0].keywords == ["power law", "compute-optimal"]
    assert topic_name("Studies 'scaling laws' in the context of neural networks.") == "'Scaling laws' in the context of neural networks"
    assert topic_name("Shows a significant advance in the performance of diffusion language models.") == \
        "Significant advance in the performance of diffusion language models"


def test_no_topics_is_an_error():
    with pytest.raises(ValueError, match="no numbered topics"):
        parse_topics("# just a comment\n\nsome prose without numbers\n")


def test_authors_and_config_ini():
    assert parse_authors("# Stanford\nTatsunori B. Hashimoto, 3056528\nPercy Liang, 145419642\n\nJane Doe\n") == [
        "Tatsunori B. Hashimoto", "Percy Liang", "Jane Doe"]
    cats, primary = parse_config_ini("[FILTERING]\narxiv_category = astro-ph.CO, astro-ph.GA\nforce_primary = false\n")
    assert cats == ["astro-ph.CO", "astro-ph.GA"] and primary is False
    assert parse_config_ini("not an ini") == ([], None)


def test_written_toml_loads_and_keeps_everything(tmp_path):
    (tmp_path / "paper_topics.txt").write_text(CGARLING_STYLE + '\n3. Quotes "and" \\ backslashes\n', encoding="utf-8")
    (tmp_path / "authors.txt").write_text("Kristin B. W. McQuinn, 102583299\n", encoding="utf-8")
    (tmp_path / "config.ini").write_text("[FILTERING]\narxiv_category = astro-ph.GA\nforce_primary = true\n", encoding="utf-8")
    imported = import_criteria(tmp_path / "paper_topics.txt")
    out = tmp_path / "brief.toml"
    out.write_text(to_toml(imported, "paper_topics.txt", demo_config_text()), encoding="utf-8")
    settings = load_settings(out, env={})
    assert [t.name for t in settings.criteria.topics] == ["Near-Field Cosmology", "Stellar Models", 'Quotes "and" \\ backslashes']
    assert settings.criteria.authors == ["Kristin B. W. McQuinn"]
    assert settings.arxiv.categories == ["astro-ph.GA"] and settings.arxiv.primary_only is True
    assert settings.screening.prefilter is True and settings.screening.recall_target == 0.95
    assert settings.llm.model == load_settings(None, env={}).llm.model


def test_every_shared_criteria_file_imports(shared, tmp_path):
    files = sorted((shared / "screening").glob("*/*/paper_topics.txt"))
    assert len(files) >= 4
    for path in files:
        imported = import_criteria(path)
        assert 2 <= len(imported.topics) <= 10, path
        assert all(len(t.name.split()) <= 12 for t in imported.topics), path
        out = tmp_path / f"{path.parent.parent.name}.toml"
        out.write_text(to_toml(imported, path.name, demo_config_text()), encoding="utf-8")
        assert len(load_settings(out, env={}).criteria.topics) == len(imported.topics)
    cg = import_criteria(shared / "screening/cgarling_astro-ph/configs_and_prompts/paper_topics.txt")
    assert len(cg.topics) == 7 and cg.authors == ["Kristin B. W. McQuinn"] and "astro-ph.GA" in cg.categories
    upstream = import_criteria(shared / "screening/tatsu-lab_upstream_criteria/configs/paper_topics.txt")
    assert len(upstream.topics) == 6 and all(t.relevant and t.not_relevant for t in upstream.topics)
    assert "Percy Liang" in upstream.authors and upstream.categories == ["cs.CL"]


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_cli_init_from_topics(tmp_path):
    topics = tmp_path / "paper_topics.txt"
    topics.write_text(TATSU_STYLE, encoding="utf-8")
    done = run_cli("init", tmp_path / "brief.toml", "--from-topics", topics, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 topics" in done.stdout
    assert len(load_settings(tmp_path / "brief.toml", env={}).criteria.topics) == 3
    again = run_cli("init", tmp_path / "brief.toml", "--from-topics", topics, cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing numbered here\n", encoding="utf-8")
    bad = run_cli("init", tmp_path / "other.toml", "--from-topics", empty, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no numbered topics" in bad.stderr
    missing = run_cli("init", tmp_path / "other.toml", "--from-topics", tmp_path / "nope.txt", cwd=tmp_path)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_files_with_a_byte_order_mark_import_and_unreadable_ones_say_which(tmp_path):
    """Windows editors save UTF-8 with a BOM: the topics file (and a brief.toml, which tomllib alone rejects)
    still read; a missing or undecodable file is one ValueError naming it (cli_setup prefixes --from-topics)."""
    topics = tmp_path / "paper_topics.txt"
    topics.write_text("\ufeff" + TATSU_STYLE, encoding="utf-8")
    (tmp_path / "authors.txt").write_text("\ufeffPercy Liang, 1\n", encoding="utf-8")
    imported = import_criteria(topics)
    assert len(imported.topics) == 3 and imported.authors == ["Percy Liang"]
    out = tmp_path / "brief.toml"
    out.write_text("\ufeff" + to_toml(imported, topics.name, demo_config_text()), encoding="utf-8")
    assert len(load_settings(out, env={}).criteria.topics) == 3
    with pytest.raises(ValueError, match=f"^{re.escape(str(tmp_path / 'nope.txt'))} not found$"):
        import_criteria(tmp_path / "nope.txt")
    (tmp_path / "latin1.txt").write_bytes(b"1. Caf\xe9 topics\n")
    with pytest.raises(ValueError, match=f"^cannot read {re.escape(str(tmp_path / 'latin1.txt'))}: "):
        import_criteria(tmp_path / "latin1.txt")
