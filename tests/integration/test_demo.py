"""The quick start as a new user runs it: `brief weekly` with no config in an empty directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.cli_helpers import brief, brief_env


def test_quick_start_briefs_w24_against_a_demo_memory_of_w23(tmp_path):
    home = tmp_path / "home"
    env = brief_env(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
    work = tmp_path / "fresh"
    work.mkdir()

    done = brief("weekly", "--quiet", env=env, cwd=work, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "no memory at" not in done.stderr, "the demo makes its memory on purpose: no warning about it"

    report = json.loads((work / "briefings" / "2026-W24.json").read_text())
    linked = [p for p in report["accepted"] if p["links"]]
    assert len(linked) >= max(20, len(report["accepted"]) / 2), f"only {len(linked)} W24 papers link to the demo's W23"
    assert {link["week"] for p in linked for link in p["links"]} == {"2026-W23"}
    md = (work / "briefings" / "2026-W24.md").read_text()
    assert "This is the demo" in md
    assert "no earlier weeks in memory" not in md and "0 papers link to work seen in earlier weeks" not in md
    with_links = {p["id"] for p in linked}
    glance = [row.split(" | ") for row in md.split("## Themes at a glance")[1].split("\n\n")[1].splitlines()[2:]]
    assert [int(row[5]) for row in glance] == [len(set(t["paper_ids"]) & with_links) for t in report["themes"]], \
        "the table counts each theme's papers that build on earlier weeks, as its prose does"
    assert not re.search(r"both on ([^;)]+); shared: \1\)", md), "a link's shared terms are said once"
    assert (work / "briefings" / ".brief-demo" / "briefings" / "2026-W23.json").exists()
    assert "interests text (“Robot learning, embodied AI" in md and "is read only by an LLM" in md, \
        "offline, the free-text interests go unread, and the briefing says so"
    assert not (home / ".local" / "share" / "brief").exists(), "the user's default memory dir is untouched"
    assert not (home / ".cache" / "Microsoft").exists(), "onnxruntime's telemetry is off: no device id in HOME"

    again = brief("weekly", "--quiet", "--json", env=env, cwd=work, timeout=600)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["memory_added"] == 0, "the second run reuses the demo memory"

    demo = Path("briefings") / ".brief-demo"
    assert f"add --memory-dir {demo}" in md, "the demo says where its memory is for feedback"
    marked = brief("feedback", report["accepted"][0]["id"], "good", "--memory-dir", demo, env=env, cwd=work)
    assert marked.returncode == 0 and "marked good" in marked.stdout, marked.stderr
    flipped = brief("feedback", report["accepted"][0]["id"], "bad", "--memory-dir", demo, env=env, cwd=work)
    assert flipped.returncode == 0 and "marked bad (it was marked good: this replaces it)" in flipped.stdout
    again = brief("feedback", report["accepted"][0]["id"], "bad", "--memory-dir", demo, env=env, cwd=work)
    assert again.returncode == 0 and "already marked bad" in again.stdout, again.stdout
    unmarked = brief("feedback", report["accepted"][0]["id"], "good", env=env, cwd=work)
    assert unmarked.returncode == 2 and "no memory at" in unmarked.stderr, "without it: named, not created"
    assert not (home / ".local" / "share" / "brief").exists(), "the user's default memory dir is still untouched"


def test_a_configured_memory_is_not_the_demo(tmp_path):
    home = tmp_path / "home"
    env = brief_env(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
    memory = tmp_path / "mine"
    done = brief("weekly", "--quiet", "--memory-dir", str(memory), "--out", str(tmp_path / "out"), env=env,
                 cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "This is the demo" not in (tmp_path / "out" / "2026-W24.md").read_text()
    assert not (tmp_path / "out" / ".brief-demo").exists() and (memory / "chroma").exists()
