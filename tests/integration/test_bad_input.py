"""Must-show: the bad-input table. Every case runs the real `brief` command.

Bad configs, bad command lines and unusable data end in one clear line on stderr and exit code 2, with
memory untouched (byte for byte when the input is rejected before the run starts). A bad record inside
a good file is skipped (or, for oversized text, truncated) with a warning, and the good records around it
are still read. The commands run concurrently in one fixture (each costs an interpreter start); each case
then asserts on its own result.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from collections.abc import Callable

import numpy as np
import pytest

from brief.config_file import load_settings
from brief.memory import open_embedder
from brief.memory.store import Memory
from brief.models import Paper
from tests.integration.cli_helpers import REPO, brief, brief_env, memory_contents, write_config

DEMO = (REPO / "data" / "demo.toml").read_text(encoding="utf-8")
TOPIC = "[[criteria.topics]]\nname = 'Robots'\ndescription = 'Robot learning.'\n"
SINCE, UNTIL = "2026-06-08", "2026-06-14"
KNOWN = ["2501.00000", "2501.00001", "2501.00002"]  # in the template memory


def line(pid: str, title: str = "A fine title", summary: str = "An abstract about robots.", **extra) -> str:
    return json.dumps({"id": pid, "title": title, "summary": summary, "authors": ["A. Author"],
                       "categories": ["cs.RO"], **extra}, ensure_ascii=False)


def atom(entries: list[tuple[str, str, str]]) -> str:
    """A small arXiv-API-style Atom document (synthetic): (id, title, published date) per entry."""
    body = "".join(
        f"<entry><id>http://arxiv.org/abs/{pid}v1</id><title>{title}</title><summary>About {title}.</summary>"
        f"<published>{day}T00:00:00Z</published><updated>{day}T00:00:00Z</updated>"
        f"<author><name>A. Author</name></author><arxiv:primary_category term=\"cs.RO\"/>"
        f"<category term=\"cs.RO\"/></entry>"
        for pid, title, day in entries
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom"><title>query</title>' + body + "</feed>\n")


@dataclass
class Case:
    id: str
    make: Callable[[Path], list[str]]  # builds the inputs in a directory, returns the arguments after `brief`
    says: str  # text the one error line (exit 2) or the warning (exit 0) must contain
    code: int = 2
    kept: list[str] = field(default_factory=list)  # exit 0: ids `brief fetch` must still return
    dropped: list[str] = field(default_factory=list)  # exit 0: ids it must not return
    check: Callable[[dict], None] | None = None  # exit 0: more checks on `brief fetch --json` output


def weekly_with_config(toml: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        (d / "brief.toml").write_bytes(toml.encode("utf-8") if isinstance(toml, str) else toml)
        return ["weekly", "--config", str(d / "brief.toml"), "--week", "2026-W24", "--source", "sample", "-q"]
    return make


def weekly_with(*args: str, setup: Callable[[Path], None] | None = None) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        if setup:
            setup(d)
        return ["weekly", *(a.format(d=d) for a in args), "-q"]
    return make


def fetch_file(name: str, content: bytes | str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        data = content.encode("utf-8") if isinstance(content, str) else content
        (d / "snap").mkdir()
        (d / "snap" / name).write_bytes(data)
        return ["fetch", "--source", f"snapshot:{d / 'snap'}", "--since", SINCE, "--until", UNTIL, "--json"]
    return make


def memory_with(*args: str, setup: Callable[[Path], None] | None = None) -> Callable[[Path], list[str]]:
    """`brief memory …` on the case's memory dir (the runner adds --memory-dir and --config)."""
    def make(d: Path) -> list[str]:
        if setup:
            setup(d)
        return ["memory", *(a.format(d=d) for a in args)]
    return make


def long_field_csv(d: Path) -> None:
    (d / "library.csv").write_text('Title,Abstract Note\n"A fine title","' + "x" * 140_000 + '"\n', encoding="utf-8")


GOOD = [line("2606.00001"), line("2606.00002")]
HUGE = "robots " * 150_000  # ~1 MB
BAD_ATOM = atom([("2606.00011", "First", "2026-06-09"), ("2606.00012", "Second", "2026-06-10")])

CASES = [
    # -- configs -----------------------------------------------------------------------------------------
    Case("config-missing", lambda d: ["weekly", "--config", str(d / "nope.toml"), "--week", "2026-W24", "-q"], "not found"),
    Case("config-is-a-directory", lambda d: ["weekly", "--config", str(d), "--week", "2026-W24", "-q"], "cannot read config"),
    Case("config-not-toml", weekly_with_config("[criteria\n"), "not valid TOML"),
    Case("config-not-utf8", weekly_with_config(b"[criteria]\ninterests = '\xff\xfe'\n" + TOPIC.encode()), "cannot read config"),
    Case("config-no-criteria", weekly_with_config("[screening]\naccept_relevance = 6\n"), "criteria: Field required"),
    Case("config-empty-topics", weekly_with_config("[criteria]\ntopics = []\n"), "criteria.topics"),
    Case("config-topic-no-description", weekly_with_config("[[criteria.topics]]\nname = 'x'\n"), "criteria.topics.0.description"),
    Case("config-blank-topic-name", weekly_with_config("[[criteria.topics]]\nname = '   '\ndescription = 'd'\n"), "criteria.topics.0.name"),
    Case("config-unknown-field", weekly_with_config(TOPIC + "colour = 'blue'\n"), "colour"),
    Case("config-unknown-nested-field", weekly_with_config(TOPIC + "[llm]\nmodle = 'gpt'\n"), "llm.modle"),
    Case("config-wrong-type-number", weekly_with_config(TOPIC + "[screening]\naccept_relevance = 'high'\n"), "screening.accept_relevance"),
    Case("config-wrong-type-list", weekly_with_config("[criteria]\ntopics = 'robots'\n"), "criteria.topics"),
    Case("config-wrong-type-section", weekly_with_config("llm = 5\n" + TOPIC), "llm"),
    Case("config-threshold-above-1", weekly_with_config(TOPIC + "[screening]\nsimilarity_threshold = 1.5\n"), "screening.similarity_threshold"),
    Case("config-topic-threshold-below-minus-1", weekly_with_config(TOPIC + "threshold = -2\n"), "criteria.topics.0.threshold"),
    Case("config-llm-share-zero", weekly_with_config(TOPIC + "[screening]\nllm_share = 0\n"), "screening.llm_share"),
    Case("config-accept-relevance-11", weekly_with_config(TOPIC + "[screening]\naccept_relevance = 11\n"), "screening.accept_relevance"),
    Case("config-empty-keyword", weekly_with_config(TOPIC + "keywords = ['']\n"), "criteria.topics.0.keywords.0"),
    Case("config-empty-exclude-keyword", weekly_with_config("[criteria]\nexclude_keywords = ['  ']\n" + TOPIC), "criteria.exclude_keywords.0"),
    Case("config-duplicate-topics", weekly_with_config(TOPIC + TOPIC), "unique"),
    Case("config-unknown-source-kind", weekly_with_config(TOPIC + "[[sources]]\nname = 's'\nkind = 'ftp'\n"), "sources.0.kind"),
    Case("config-rss-without-url", weekly_with_config(TOPIC + "[[sources]]\nname = 's'\nkind = 'rss'\n"), "needs a url"),
    Case("config-rss-url-scheme", weekly_with_config(TOPIC + "[[sources]]\nname = 's'\nkind = 'rss'\nurl = 'ftp://x/feed'\n"),
         "must start with http://, https:// or file://"),
    Case("config-unknown-embedder", weekly_with_config(TOPIC + "[memory]\nembedder = 'word2vec'\n"), "memory.embedder"),
    Case("config-checkpoint-url-scheme", weekly_with_config(TOPIC + "[checkpoint]\nurl = 'mysql://db/brief'\n"), "checkpoint.url"),
    Case("config-batch-size-zero", weekly_with_config(TOPIC + "[llm]\nbatch_size = 0\n"), "llm.batch_size"),
    Case("config-checkpoint-sqlite-no-file", weekly_with_config(TOPIC + "[checkpoint]\nurl = 'sqlite:///'\n"), "url names no SQLite file"),
    # -- command line --------------------------------------------------------------------------------------
    Case("cli-week-99", weekly_with("--week", "2026-W99"), "2026-W99"),
    Case("cli-week-garbled", weekly_with("--week", "last-week"), "YYYY-Www"),
    Case("cli-week-and-since", weekly_with("--week", "2026-W24", "--since", "2026-06-08"), "not both"),
    Case("cli-bad-date", weekly_with("--since", "2026-13-01"), "bad date"),
    Case("cli-until-before-since", weekly_with("--since", "2026-06-10", "--until", "2026-06-01"), "before"),
    Case("cli-until-without-since", weekly_with("--until", "2026-06-10"), "--until needs --since"),
    Case("cli-future-week", weekly_with("--week", f"{date.today().year + 1}-W40", "--source", "sample"), "after today"),
    Case("cli-unknown-source", weekly_with("--week", "2026-W24", "--source", "ftp://example.org"), "unknown source"),
    Case("cli-missing-snapshot", weekly_with("--week", "2026-W24", "--source", "snapshot:{d}/missing"), "does not exist"),
    Case("cli-empty-snapshot-path", weekly_with("--week", "2026-W24", "--source", "snapshot:"), "needs a path"),
    Case("cli-snapshot-without-files", weekly_with("--week", "2026-W24", "--source", "snapshot:{d}/empty",
                                                   setup=lambda d: (d / "empty").mkdir()), "no .jsonl"),
    Case("cli-dangling-snapshot-symlink", weekly_with("--week", "2026-W24", "--source", "snapshot:{d}/link",
                                                      setup=lambda d: (d / "link").symlink_to(d / "gone")), "does not exist"),
    Case("cli-out-is-a-file", weekly_with("--week", "2026-W24", "--source", "sample", "--out", "{d}/file",
                                          setup=lambda d: (d / "file").write_text("x")), "is a file"),
    Case("cli-memory-dir-is-a-file", weekly_with("--week", "2026-W24", "--source", "sample", "--memory-dir", "{d}/file",
                                                 setup=lambda d: (d / "file").write_text("x")), "is a file"),
    Case("cli-unknown-option", weekly_with("--colour", "blue"), "No such option"),
    Case("cli-empty-memory-dir", weekly_with("--week", "2026-W24", "--source", "sample", "--memory-dir", ""), "is empty"),
    Case("cli-memory-show-empty-id", memory_with("show", ""), "the paper id is empty"),
    Case("cli-empty-out", weekly_with("--week", "2026-W24", "--source", "sample", "--out", ""), "is empty"),
    Case("cli-week-year-9999", weekly_with("--week", "9999-W52"), "the year 9999 is outside 1991.."),
    Case("cli-since-year-9999", weekly_with("--since", "9999-12-31"), "the year 9999 is outside 1991.."),
    Case("cli-range-year-1-to-9999", weekly_with("--since", "0001-01-01", "--until", "9999-12-31"), "the year 1 is outside"),
    Case("cli-range-too-long", weekly_with("--since", "2000-01-01", "--until", "2026-01-01"), "a run covers at most 366"),
    Case("cli-week-fullwidth-digits", weekly_with("--week", "２０２６-W２５"), "ASCII digits"),
    Case("cli-import-week-fullwidth-digits", memory_with("import", str(REPO / "tests" / "fixtures" / "library.bib"),
                                                         "--week", "２０２６-W２５", "-q"), "ASCII digits"),
    Case("cli-export-bibtex-to-a-directory", memory_with("export", "--bibtex", "{d}"), "is a directory"),
    # -- data that can't be used at all ------------------------------------------------------------------------
    Case("data-all-lines-garbage", weekly_with("--week", "2026-W24", "--source", "snapshot:{d}/snap",
                                               setup=lambda d: ((d / "snap").mkdir(), (d / "snap" / "2026-06-09_x.jsonl")
                                                                .write_bytes(b"\x00\xff garbage\n{not json\n"))),
         "nothing in it could be read (2 bad records"),
    Case("data-xml-not-atom", weekly_with("--week", "2026-W24", "--source", "snapshot:{d}/snap",
                                          setup=lambda d: ((d / "snap").mkdir(), (d / "snap" / "page.xml")
                                                           .write_text("<html><body>503 Service Unavailable</body></html>"))),
         "nothing in it could be read (1 bad"),
    Case("data-csv-field-over-131072-chars", memory_with("import", "{d}/library.csv", "-q", setup=long_field_csv),
         "field larger than field limit"),
    # -- a bad record inside a good file: skipped (or truncated) with a warning ----------------------------
    Case("data-truncated-jsonl", fetch_file("2026-06-09_x.jsonl", "\n".join(GOOD) + "\n" + line("2606.00003")[:40]),
         "invalid JSON", code=0, kept=["2606.00001", "2606.00002"]),
    Case("data-invalid-json-line", fetch_file("2026-06-09_x.jsonl", GOOD[0] + "\n{'id': 1,}\n" + GOOD[1] + "\n"),
         "invalid JSON", code=0, kept=["2606.00001", "2606.00002"]),
    Case("data-non-utf8-line", fetch_file("2026-06-09_x.jsonl", GOOD[0].encode() + b"\n" +
                                          line("2606.00003", title="Caf\u00e9").encode("latin-1") + b"\n" + GOOD[1].encode()),
         "not UTF-8", code=0, kept=["2606.00001", "2606.00002"], dropped=["2606.00003"]),
    Case("data-not-an-object", fetch_file("2026-06-09_x.jsonl", GOOD[0] + "\n[1, 2, 3]\n" + GOOD[1]),
         "not a JSON object", code=0, kept=["2606.00001", "2606.00002"]),
    Case("data-missing-id", fetch_file("2026-06-09_x.jsonl", GOOD[0] + "\n" + json.dumps({"title": "No id"}) + "\n" + GOOD[1]),
         "no id", code=0, kept=["2606.00001", "2606.00002"]),
    Case("data-empty-title", fetch_file("2026-06-09_x.jsonl", "\n".join([GOOD[0], line("2606.00003", title="  "), GOOD[1]])),
         "empty title", code=0, kept=["2606.00001", "2606.00002"], dropped=["2606.00003"]),
    Case("data-duplicate-ids", fetch_file("2026-06-09_x.jsonl", "\n".join([GOOD[0], line("2606.00001", title="Again"), GOOD[1]])),
         "duplicate id 2606.00001", code=0, kept=["2606.00001", "2606.00002"],
         check=lambda out: [p["title"] for p in out["papers"] if p["id"] == "2606.00001"] == ["A fine title"] or
         pytest.fail("the first record of a repeated id is kept")),
    Case("data-1mb-abstract", fetch_file("2026-06-09_x.jsonl", "\n".join([GOOD[0], line("2606.00003", summary=HUGE), GOOD[1]])),
         "truncated to 10,000", code=0, kept=["2606.00001", "2606.00002", "2606.00003"],
         check=lambda out: all(len(p["abstract"]) <= 10_002 for p in out["papers"]) or pytest.fail("abstract not truncated")),
    Case("data-invalid-xml", fetch_file("page.xml", BAD_ATOM[: BAD_ATOM.index("Second")]),  # cut mid-entry
         "not well-formed XML", code=0, kept=["2606.00011"]),
    Case("data-non-utf8-xml", fetch_file("page.xml", BAD_ATOM.replace("Second", "Caf\u00e9").encode("latin-1")),
         "not UTF-8", code=0, kept=["2606.00011", "2606.00012"]),
    Case("data-future-date", fetch_file("page.xml", atom([("2606.00011", "Now", "2026-06-09"), ("2606.00013", "Later", "2099-06-10")])),
         "in the future", code=0, kept=["2606.00011"], dropped=["2606.00013"]),
]


def digest(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def memory_template(tmp_path_factory, cache_dir) -> tuple[Path, Path]:
    """A memory dir holding three papers, and a config whose embedder matches it."""
    root = tmp_path_factory.mktemp("template")
    config = write_config(root / "brief.toml", cache_dir)
    settings = load_settings(config, env={})
    papers = [Paper(id=pid, title=f"Earlier paper {pid}") for pid in KNOWN]
    vectors = np.eye(3, 384, dtype=np.float32)
    Memory(root / "memory" / "chroma", open_embedder(settings).name).remember(papers, vectors, "2025-W02")
    return root / "memory", config


@pytest.fixture(scope="module")
def results(tmp_path_factory, memory_template) -> dict[str, tuple]:
    template, config = memory_template
    base = tmp_path_factory.mktemp("cases")

    def run(case: Case):
        d = base / case.id
        d.mkdir()
        memory = d / "memory"
        shutil.copytree(template, memory)
        args = case.make(d)
        if args[0] in ("weekly", "memory") and "--memory-dir" not in args:
            args += ["--memory-dir", str(memory)]
        if args[0] in ("weekly", "memory") and "--config" not in args:
            args += ["--config", str(config)]
        if args[0] == "weekly" and "--out" not in args:
            args += ["--out", str(d / "out")]
        before = digest(memory)
        done = brief(*args, cwd=d)
        return done, before, digest(memory), memory

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((c.id for c in CASES), pool.map(run, CASES)))


def test_the_table_is_big_enough():
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)
    assert {c.id.split("-")[0] for c in CASES} == {"config", "cli", "data"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, results, memory_template):
    done, before, after, memory = results[case.id]
    assert "Traceback" not in done.stderr, done.stderr
    if case.code == 2:
        assert done.returncode == 2, (done.returncode, done.stderr)
        lines = done.stderr.strip().splitlines()
        if case.id.startswith("data-"):  # the warnings about each unreadable record come first
            assert all(w.startswith("warning: ") for w in lines[:-1]), done.stderr
            lines = lines[-1:]
        assert len(lines) == 1, f"one line, not {len(lines)}: {done.stderr}"
        assert case.says in lines[0], lines[0]
        if case.id.startswith("data-"):  # the run started: memory was opened but holds exactly what it held
            template, config = memory_template
            assert memory_contents(config, memory, KNOWN) == memory_contents(config, template, KNOWN)
        else:
            assert after == before, "memory is byte for byte untouched"
            assert not (memory / "brief.lock").exists() and not (memory / "checkpoints.sqlite").exists()
        return
    assert done.returncode == 0, done.stderr
    warnings = [w for w in done.stderr.splitlines() if w.startswith("warning:")]
    assert any(case.says in w for w in warnings), done.stderr
    out = json.loads(done.stdout)
    ids = [p["id"] for p in out["papers"]]
    assert set(case.kept) <= set(ids), ids
    assert not set(case.dropped) & set(ids), ids
    assert len(ids) == len(set(ids))
    if case.check:
        case.check(out)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: permissions can't make one unreadable")
def test_unreadable_snapshot_and_config_are_user_errors(tmp_path):
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "2026-06-09_x.jsonl").write_text(GOOD[0])
    (snap / "2026-06-09_x.jsonl").chmod(0)
    config = tmp_path / "brief.toml"
    config.write_text(DEMO)
    config.chmod(0)
    try:
        for args, says in ((["--source", f"snapshot:{snap}"], "cannot read snapshot file"),
                           (["--source", "sample", "--config", str(config)], "cannot read config")):
            done = brief("weekly", "--week", "2026-W24", "--memory-dir", str(tmp_path / "m"), *args, "-q")
            assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
            assert not (tmp_path / "m").exists()
    finally:
        (snap / "2026-06-09_x.jsonl").chmod(stat.S_IRUSR | stat.S_IWUSR)
        config.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_commands_on_a_missing_memory_or_an_unreadable_library_create_nothing(tmp_path):
    """A mistyped --memory-dir is named, never created (nor the default one): feedback, the cache, a review,
    and an import whose input holds nothing importable all stop before touching the directory."""
    (tmp_path / "bad.bib").write_text("@article{x,\n}\n", encoding="utf-8")
    (tmp_path / "ids.txt").write_text("nothing here\n", encoding="utf-8")
    missing = tmp_path / "nomem"
    for args, says in ((["feedback", "2606.10305", "good"], "no memory at"), (["cache", "stats"], "no memory at"),
                       (["cache", "clear"], "no memory at"), (["review", "robot manipulation", "--offline"], "no memory at"),
                       (["memory", "import", str(tmp_path / "bad.bib")], "nothing to import"),
                       (["memory", "import", str(tmp_path / "ids.txt")], "nothing to import")):
        done = brief(*args, "--memory-dir", str(missing), cwd=tmp_path, env=brief_env(HOME=str(tmp_path / "home")))
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and says in lines[0], (args, done.stderr)
        assert not missing.exists() and not (tmp_path / "home").exists(), args
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "2026-06-09_x.jsonl").write_text("garbage\n", encoding="utf-8")
    done = brief("weekly", "--source", f"snapshot:{tmp_path / 'snap'}", "--week", "2026-W24", "--offline", "-q",
                 "--memory-dir", str(missing), "--out", str(tmp_path / "out"), cwd=tmp_path,
                 env=brief_env(HOME=str(tmp_path / "home")))
    assert done.returncode == 2 and "nothing in it could be read" in done.stderr.strip().splitlines()[-1], done.stderr
    assert not missing.exists() and not (tmp_path / "out").exists(), "a weekly run on unreadable input leaves no new memory"
    assert "created a new" not in done.stderr, "nor says it made one"
    done = brief("weekly", "--source", "sample", "--week", "2026-W24", "--offline", "-q", "--memory-dir", str(missing),
                 "--out", str(tmp_path / "out"), cwd=tmp_path, env=brief_env(HOME=str(tmp_path / "home")))
    assert done.returncode == 0 and f"no memory at {missing} yet: created a new, empty one" in done.stderr, done.stderr


def test_unusable_output_paths_and_themes_are_refused_before_any_work(tmp_path):
    """--out a file (or under one), a directory where a file goes, a theme with nothing to search for: one line,
    exit 2, before a review, an eval or init does anything."""
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    (tmp_path / "adir").mkdir()
    memory = tmp_path / "memory"
    for args, says in ((["review", "robots", "--out", str(tmp_path / "afile" / "sub"), "--memory-dir", str(memory)], "is not a directory"),
                       (["review", "robots", "--out", str(tmp_path / "afile"), "--memory-dir", str(memory)], "is a file"),
                       (["review", "???", "--memory-dir", str(memory)], "review needs a theme"),
                       (["review", "x" * 301, "--memory-dir", str(memory)], "at most 300"),
                       (["eval", "--suite", "prefilter", "--out", str(tmp_path / "afile" / "run.json")], "is not a directory"),
                       (["eval", "--suite", "prefilter", "--out", str(tmp_path / "adir")], "is a directory"),
                       (["init", str(tmp_path / "no" / "such" / "brief.toml")], "is not a directory"),
                       (["init", str(tmp_path / "adir"), "--force"], "is a directory")):
        done = brief(*args, "-q" if args[0] != "init" else "--force", cwd=tmp_path, env=brief_env(HOME=str(tmp_path / "home")))
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and says in lines[0], (args, done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"], "nothing written"
