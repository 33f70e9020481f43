"""Must-show 2: the scripted LLM invents a citation; the final report has 0 unresolved citations and the
JSON records the repair. Through the compiled weekly graph, with the real ChatOpenAI over HTTP."""

from __future__ import annotations

import json
import re

from pydantic import SecretStr

from brief.agents.fetcher import build_sources, fetch
from brief.agents.llm import LLMClient
from brief.ids import cite_key
from brief.sources.window import parse_week
from tests.briefing_helpers import hash_settings, make_context, run_week
from tests.handlers import brief_handlers
from tests.scripted_llm import ScriptedLLMServer

KEY = re.compile(r"\[(arXiv:[^\]\s]+)\]")
INVENTED = "arXiv:2606.99999"
TOPIC = "Robot manipulation learning"


def test_invented_citations_are_repaired_and_memory_citations_kept(settings):
    s = hash_settings(settings)
    labels = {}
    for week in ("2026-W23", "2026-W24"):
        for p in fetch(build_sources(["sample"], s), parse_week(week)).papers:
            labels[p.id] = 8 if any(w in p.title.lower() for w in ("manipulat", "grasp", "dexter", "policy")) else 2
    remembered: list[str] = []  # a W23 paper the W24 prompts never list: citing it is valid (memory holds it)

    def theme(req):
        body = req.user.split("This week's papers:", 1)[-1].split("Earlier papers from memory", 1)[0]
        keys = list(dict.fromkeys(KEY.findall(body)))[:3]
        text = " ".join(f"[{k}] advances the theme." for k in keys)
        if "do not exist" not in req.user:  # the first draft of every section invents a paper
            text += f" It beats the famous [{INVENTED}] result."
        if remembered:
            text += f" It revisits [arXiv:{remembered[0]}]."
        return {"name": f"Theme around {keys[0] if keys else 'nothing'}", "text": text}

    def overview(req):
        keys = KEY.findall(req.user)
        return {"text": f"A week led by [{keys[0]}] and by arXiv:2606.88888v1." if keys else "Quiet."}

    handlers = {**brief_handlers(labels, TOPIC), "ThemeDraft": theme, "Overview": overview}
    with ScriptedLLMServer(handlers=handlers) as srv:
        llm_cfg = s.llm.model_copy(update={"base_url": srv.base_url, "api_key": SecretStr("k"), "model": "scripted",
                                           "max_retries": 0, "timeout_seconds": 20, "requests_per_minute": 100000})
        s = s.model_copy(update={"llm": llm_cfg})
        ctx = make_context(s, llm=LLMClient(llm_cfg, s.data_dir / "llm-cache.sqlite"))
        w23 = run_week(ctx, parse_week("2026-W23"), ["sample"])
        remembered.append(w23.accepted[-1].id)
        w24 = run_week(ctx, parse_week("2026-W24"), ["sample"])
        theme_requests = [r for r in srv.requests if r.schema_name == "ThemeDraft"]

    report = json.loads((s.out_dir / "2026-W24.json").read_text())
    assert report["mode"] == "llm: scripted" and report["themes"]
    assert any(INVENTED in r.user for r in theme_requests if "do not exist" in r.user), \
        "each regeneration names the invented key"

    # the final report: no unresolved citation anywhere
    prose = (s.out_dir / "2026-W24.md").read_text().split("## Citations")[0]  # that section lists the repairs
    text = prose + json.dumps(report["themes"]) + report["overview"]
    assert "2606.99999" not in text and "2606.88888" not in text
    cited = {c for s_ in report["citations"] for c in s_["citations"]}
    valid = {cite_key(p.id) for p in w24.accepted} | {cite_key(i) for i in ctx.memory.known([c.removeprefix("arXiv:") for c in cited])}
    assert cited and cited <= valid and report["unresolved_citations"] == []
    assert f"arXiv:{remembered[0]}" in cited, "a real paper from memory stays cited"
    assert any(e["id"] == remembered[0] for t in report["themes"] for e in t["earlier"]), "and is listed"

    # the JSON records every repair: themes fixed by their one regeneration, the overview's bad key removed
    repairs = {r["section"]: r for r in report["citation_repairs"]}
    for theme_ in report["themes"]:
        r = repairs[theme_["name"]]
        assert r["invalid"] == [INVENTED] and r["regenerated"] and r["removed"] == []
    assert repairs["overview"]["invalid"] == ["arXiv:2606.88888"]
    assert repairs["overview"]["regenerated"] and repairs["overview"]["removed"] == ["arXiv:2606.88888"]
    page = (s.out_dir / "2026-W24.html").read_text()
    assert "all resolve to this week" in page and "fixed by the regeneration" in page
