"""Stage 1's sent set on the sample's 2026-W24 (demo criteria, empty memory: a cold start) with the static table
configured for stage 1, the scripted model in tests/ answering.

Usage, from a checkout (brief importable): python sent_set.py OUT.json
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path

from pydantic import SecretStr

from brief.app.runner import run_weekly
from brief.config_file import load_settings
from brief.sources.window import parse_week


def main(out: str) -> None:
    # the scripted model lives in tests/ (imported as `tests`, as the benches do), which mypy does not check:
    # imported at run time, not followed
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
    handlers, scripted = (importlib.import_module(f"tests.{m}") for m in ("handlers", "scripted_llm"))
    tmp = Path(tempfile.mkdtemp())
    base = load_settings(None, env={})
    settings = base.model_copy(update={"out_dir": tmp / "briefings", "memory": base.memory.model_copy(
        update={"dir": tmp / "memory", "cache_dir": tmp / "cache"})})
    with scripted.ScriptedLLMServer(handlers=handlers.brief_handlers({}, "Robot manipulation learning")) as server:
        llm = settings.llm.model_copy(update={"base_url": server.base_url, "api_key": SecretStr("k"), "model": "scripted",
                                              "max_retries": 0})
        settings = settings.model_copy(update={"llm": llm, "screening": settings.screening.model_copy(
            update={"embedder": "static"})})
        state = run_weekly(settings, parse_week("2026-W24"), ["sample"]).state
    sent = sorted(pid for pid, d in state.decisions.items() if d.stage != "prefilter")
    papers = {p.id: {"title": p.title, "abstract": p.abstract} for p in state.papers}
    Path(out).write_text(json.dumps({"sent": sent, "papers": papers}))
    print(len(sent), "sent of", len(state.decisions))


if __name__ == "__main__":
    main(sys.argv[1])
