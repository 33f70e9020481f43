"""Issue 18, finding 9: control sequences in imported titles and authors (a Zotero CSV, a .bib) never reach the
terminal through `brief memory search` / `memory show`: ESC, BEL, NUL, C1 controls and bidi overrides are shown
as U+FFFD, and a title can't add a line of its own."""

from __future__ import annotations

import csv
import re

from tests.integration.cli_helpers import brief, write_config

HOSTILE = "Grasping \x1b]0;pwned\x07 with \x00nul, \x9b31m C1, \u202eevil\u202c and\na fake line \x7f"
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_hostile_titles_reach_the_terminal_inert(tmp_path, cache_dir):
    config = write_config(tmp_path / "brief.toml", cache_dir)
    library = tmp_path / "zotero.csv"
    with library.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["Key", "Item Type", "Publication Year", "Author", "Title", "DOI", "Url", "Abstract Note", "Date"])
        out.writerow(["K1", "preprint", "2026", "Evil, \x1b[2J Eve", HOSTILE, "10.1234/ctl", "", f"Abstract {HOSTILE}",
                      "2026-06-09"])
    bib = tmp_path / "library.bib"
    bib.write_text("@article{k2, title={Dexterous \x1b]8;;http://evil.example\x07hands\x1b]8;;\x07}, "
                   "author={Doe, Jane}, year={2026}, doi={10.1234/bib}}\n", encoding="utf-8")
    common = ("--config", str(config), "--memory-dir", str(tmp_path / "mem"))
    for path in (library, bib):
        done = brief("memory", "import", str(path), "--week", "2026-W24", *common)
        assert done.returncode == 0, done.stderr

    outputs = []
    for args in (("search", "grasping with a fake line"), ("search", "dexterous hands"), ("show", "10.1234/ctl"),
                 ("show", "10.1234/bib")):
        done = brief("memory", *args, *common)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    shown = "".join(outputs)
    assert "pwned" in shown and "evil" in shown and "hands" in shown, "the titles are shown"
    assert not UNSAFE.findall(shown), sorted(set(UNSAFE.findall(shown)))
    assert "\ufffd" in shown, "controls are replaced visibly"
    assert not any(line.startswith("a fake line") for line in shown.splitlines()), "a title is one line"

    missing = brief("memory", "show", "\x1b]0;pwned\x07 \u202e2606.99999", *common)  # the error line quotes it
    assert missing.returncode == 2 and "pwned" in missing.stderr, missing.stderr
    assert not UNSAFE.findall(missing.stderr), missing.stderr
