"""Theme names and shared terms from noun phrases (brief/phrases.py), the arXiv field map (brief/fields.py), and
trend sentences whose words match their numbers."""

from __future__ import annotations

from brief.agents.synthesiser import trend_sentence
from brief.agents.theme_analysis import Trend
from brief.fields import cross_field, field_of
from brief.phrases import (phrase_frequencies, phrases, shared_phrases, stem, strip_latex, supported_phrases,
                           text_frequencies)
from brief.spelling import term_case

AGENTS = [
    "Agentic tool use for LLM agents: agents call tools through a planner and a tool-use memory.",
    "LLM agents with tool-use memory: an agentic planner for web agents.",
    "Multi-agent debate with tool-use memory improves LLM agents on web tasks.",
    "A \\textbf{algorithm} for agents: tool-use memory and an agentic planner.",
]
WEEK = AGENTS + [f"Galaxy rotation curves and dark matter halos, sample {i}." for i in range(40)]


def distinctive_phrases(docs, titles, background, k):
    return [text for text, _ in supported_phrases(docs, titles, background, k=k)]


def test_a_theme_name_is_phrases_with_no_repeated_stem_and_no_latex():
    names = distinctive_phrases(AGENTS, AGENTS, phrase_frequencies(WEEK), k=3)
    assert names and all(len(n.split()) >= 2 or "-" in n or n.isupper() for n in names), names
    words = [w for n in names for part in n.split() for w in part.split("-")]
    assert len({stem(w) for w in words}) == len(words), f"a stem repeats in {names}"
    assert not any("textbf" in n.lower() or "algorithm" in n.lower() for n in names)
    assert "Tool-use Memory" in names or "Tool-use memory" in names or any("Tool-use" in n for n in names)
    assert stem("agents") == stem("agentic") == stem("agent")


def test_an_acronym_defined_inside_a_phrase_does_not_cut_it():
    kv = ["Key-value (KV) cache compression for long-context inference: we evict tokens from the key-value (KV) cache.",
          "Key-value (KV) cache quantization keeps accuracy at 2 bits while the KV cache shrinks.",
          "We study key-value (KV) cache eviction under long contexts; our key-value (KV) cache policy saves memory.",
          "Key-value (KV) cache offloading to CPU memory for long-context serving.",
          "Sparse attention over the key-value (KV) cache of long-context decoders."]
    background = phrase_frequencies(kv + WEEK[len(AGENTS):])
    assert distinctive_phrases(kv, kv, background, k=3) == ["Key-value Cache"]  # not the modifier "Key-value"
    # an acronym that ends its phrase, or stands for other words, stays a term of its own
    assert ("3dgs",) in phrases("3D Gaussian Splatting (3DGS) enables fast rendering")
    assert ("moe",) in phrases("a mixture of experts (MoE) routing layer")


def test_latex_is_stripped_before_phrases():
    assert "textbf" not in strip_latex("We propose \\textbf{WEAVER}, with $O(n^2)$ cost")
    assert "WEAVER" in strip_latex("We propose \\textbf{WEAVER}")


def test_shared_terms_are_never_filler():
    a = "An effective and theoretical call to stop: a similar trade-off for kinesthetic spline primitives."
    b = "A similar, effective trade-off; we stop the call and study kinesthetic spline primitives."
    shared = shared_phrases(a, b, text_frequencies(WEEK + [a, b]))
    assert shared == ["kinesthetic spline primitives"], shared


def test_a_verb_or_a_generic_plural_is_no_shared_term():
    # the demo's "both on learns dexterous manipulation" and "both on abilities"
    a = "Dexterous Point Policy learns dexterous manipulation from human videos and shows emergent abilities."
    b = "A wearable interface that learns dexterous manipulation; the robot gains new abilities."
    shared = shared_phrases(a, b, text_frequencies(WEEK + [a, b]))
    assert "dexterous manipulation" in shared, shared
    assert not any("learns" in t or t == "abilities" for t in shared), shared


def test_terms_keep_acronyms_and_3d_as_written():
    a = "Kitchen scenes in 3D Gaussian splatting for robot planners."
    b = "Relighting 3D Gaussian splatting with ray tracing."
    assert shared_phrases(a, b, text_frequencies(WEEK + [a, b]))[0] == "3D Gaussian splatting"
    a, b = "Self-Evolving LLM Agents with a KV Cache of gaussians.", "Self-evolving LLM agents: a KV cache of Gaussians."
    assert shared_phrases(a, b, text_frequencies(WEEK + [a, b])) == ["self-evolving LLM agents", "KV cache", "Gaussians"]
    assert term_case("KV Cache") == "KV cache" and term_case("3D Gaussian") == "3D Gaussian"
    assert term_case("gaussian splatting") == "Gaussian splatting" and term_case("Markov-Chain Sampling") == "Markov-chain sampling"
    assert term_case("Dexterous Manipulation") == "dexterous manipulation"
    assert term_case("Cross-Lingual ASR") == "cross-lingual ASR" and term_case("LLM-based") == "LLM-based"


def test_field_map_follows_the_arxiv_taxonomy():
    assert field_of("cs.CL") == field_of("cs.AI") == field_of("cs.LG") == field_of("cs.CV") == "AI/ML"
    assert not cross_field("cs.AI", "cs.CL")
    assert cross_field("cs.LG", "cs.RO") and cross_field("cs.CV", "eess.IV") and cross_field("astro-ph.GA", "cs.LG")
    assert field_of("q-bio.NC") != field_of("stat.ME") != field_of("cs.CR")


def test_a_falling_count_is_not_called_steady():
    trend = Trend(weeks=["2026-W22", "2026-W23"], counts=[47, 26], totals=[1200, 640], direction="steady",
                  threshold=0.5)
    text = trend_sentence(trend)
    assert "47 of 1200 (3.9%)" in text and "26 of 640 (4.1%)" in text
    assert "share" in text and "falling" in text, text
    # astro-ph W03: the count rose 14 → 21 in a week of the same volume; "with the week's volume" was not the reason
    same_volume = Trend(weeks=["2026-W02", "2026-W03"], counts=[14, 21], totals=[366, 367], direction="steady",
                        threshold=0.5)
    assert "week's volume" not in trend_sentence(same_volume) and "steady" in trend_sentence(same_volume)


def _named(texts: list[str], topic: str = "Robot manipulation learning") -> list[str]:
    from brief.agents.theme_analysis import name_themes
    from brief.models import Decision, Paper

    papers = [Paper(id=f"2606.{i:05d}", title=t.split(". ")[0], abstract=t.split(". ", 1)[1], categories=["cs.RO"])
              for i, t in enumerate(texts)]
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="offline", relevance=7, novelty=5, topic=topic,
                                reason="r") for p in papers}
    background = [p.title + ". " + p.abstract for p in papers] + WEEK
    return [t.name for t in name_themes([list(range(len(papers)))], papers, decisions, background)]


def test_a_theme_name_never_opens_on_a_verb_nor_ends_on_an_adjective():
    names = _named([
        "Improving Robotic Manipulation with Tactile Sensing. We study tactile sensing for robotic manipulation.",
        "Improving Robotic Grasping via Tactile Sensing. Tactile sensing improves robotic grasping of objects.",
        "Robotic Manipulation from Tactile Sensing Alone. A policy reads tactile sensing during robotic manipulation.",
    ])
    words = names[0].replace(" · ", " ").split()
    assert "Improving" not in words and not names[0].split(" · ")[0].endswith("Robotic"), names
    assert "Tactile Sensing" in names[0] or "Robotic Manipulation" in names[0], names


def test_a_theme_name_never_ends_on_an_adjective_made_from_a_name():
    # the demo's "3D Gaussian" (3D Gaussian what?): four papers on 3D Gaussian splatting and one on ray tracing them
    names = _named([
        "ManiSplat: Trajectories via Decoupled 3D Gaussian Splatting. We reconstruct scenes with 3D Gaussian splatting.",
        "GaussTrace: Provenance of 3D Gaussian Splatting Models. Edited 3D Gaussian splatting models are traced.",
        "Relightable 3D Gaussian Splatting for Robots. We relight 3D Gaussian splatting scenes for robot policies.",
        "TRON: Neural Rendering for 3D Gaussian Reconstructions. We trace rays through 3D Gaussian primitives.",
    ], topic="3D scene understanding")
    assert names[0] == "3D Gaussian Splatting", names
    assert not any(n.endswith(("Gaussian", "Bayesian")) for n in names), names


def test_papers_that_share_no_phrase_are_named_as_their_topics_rest_not_by_one_title():
    names = _named([
        "Quadruped Parkour over Gaps. A quadruped jumps gaps with a learned controller.",
        "Semantic Scene COverage for Drones. Drones plan routes for coverage of semantic maps.",
    ], topic="Legged and mobile robot navigation")
    assert names == ["Legged and mobile robot navigation: assorted"], names


def test_an_acronym_spelled_into_a_word_reads_as_a_word():
    from collections import Counter

    from brief.spelling import display

    assert display(Counter({"Semantic Scene COverage": 2})) == "Semantic Scene Coverage"
    assert display(Counter({"VLA Policies": 1})) == "VLA Policies"


def test_an_acronym_and_its_expansion_are_one_name_not_two():
    docs = ["VLA models map images to actions. Vision-language-action (VLA) policies for robots.",
            "A VLA for grasping. Our vision-language-action VLA policy grasps cups.",
            "Scaling VLA training. Vision-language-action VLA models need data."]
    names = distinctive_phrases(docs, [d.split(". ")[0] for d in docs], phrase_frequencies(docs + WEEK), k=3)
    assert len([n for n in names if n.upper() in ("VLA", "VISION-LANGUAGE-ACTION")]) == 1, names


def test_an_acronym_and_its_plural_are_one_name_not_two():
    # dw-dengwei W26 with VLM criteria: the largest theme was named "VLMs · VLM"
    assert stem("VLMs") == stem("VLM") and stem("LLMs") == stem("LLM") and stem("3Ds") == stem("3D")
    # one phrase, so a name can't show it twice
    assert [k for k in phrases("Benchmarking VLMs: what a VLM sees.") if len(k) == 1] == [("vlm",)]


def test_two_themes_never_share_a_name():
    from brief.agents.theme_analysis import name_themes
    from brief.models import Decision, Paper

    texts = ["LLM agents plan tools. LLM agents call web tools with a planner.",
             "LLM agents for code. LLM agents write code with tools.",
             "LLM agents in games. LLM agents play games with memory.",
             "LLM agents debate. LLM agents argue and vote.",
             "LLM agents negotiate. LLM agents trade and negotiate prices."]
    papers = [Paper(id=f"2606.{i:05d}", title=t.split(". ")[0], abstract=t.split(". ", 1)[1]) for i, t in enumerate(texts)]
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="offline", relevance=7, novelty=5, topic="Agents",
                                reason="r") for p in papers}
    # offline a theme is the papers that use its name: the second group's papers use it too and join it
    themes = name_themes([[0, 1, 2], [3, 4]], papers, decisions, texts + WEEK[len(AGENTS):])
    assert [t.name for t in themes] == ["LLM Agents"] and len(themes[0].paper_ids) == 5, [t.name for t in themes]
    # a model names each group itself; its fallback names never repeat either
    names = [t.name for t in name_themes([[0, 1, 2], [3, 4]], papers, decisions, texts + WEEK[len(AGENTS):], merge_rest=False)]
    assert len(set(names)) == 2 and names[0] == "LLM Agents", names
    assert names[1] == "More on LLM Agents", names


def test_a_second_phrase_joins_the_name_only_when_a_third_of_the_theme_uses_it():
    """Nine papers on tactile sensing; "credit assignment" is in two of them (a quirk of those two, left out of
    the name), "dexterous hands" in four of six (named)."""
    quirk = [f"Tactile sensing study {i}. Tactile sensing for grasping, variant {i}"
             + (", with credit assignment." if i < 2 else ".") for i in range(9)]
    assert _named(quirk) == ["Tactile Sensing"], _named(quirk)
    shared = [f"Tactile sensing study {i}. Tactile sensing for grasping, variant {i}"
              + (", with dexterous hands." if i < 4 else ".") for i in range(6)]
    name = _named(shared)[0]
    assert name.split(" · ")[0] == "Tactile Sensing" and name.split(" · ")[1].lower() == "dexterous hands", name


def test_adjectival_compounds_never_stand_alone_as_a_name_or_term():
    from brief.phrases import single_word_ok

    assert not any(single_word_ok(w) for w in ("Coarse-to-fine", "Held-out", "On-device", "off-policy", "training-free",
                                                "LLM-based", "Closed-source", "Zero-Shot", "GPU-efficient"))
    assert all(single_word_ok(w) for w in ("End-effector", "vision-language-action", "Hand-Object", "Sim-to-Real",
                                           "Feed-forward", "VLA", "GPT-4"))
    # a title's capitals are no acronym: "Multi-Agent" is the modifier "multi-agent"; "Qwen3-VL-8B" has one
    assert not single_word_ok("Multi-Agent") and not single_word_ok("Cross-Modal")
    assert all(single_word_ok(w) for w in ("Qwen3-VL-8B", "GPT-4o", "RoboTwin", "SWE-bench"))
    names = _named([
        "Multi-Agent Debate for Code Review. Agents argue over code in a multi-agent debate.",
        "Multi-Agent Orchestration at Scale. An orchestrator routes tasks across a multi-agent system.",
        "Monitoring Multi-Agent Pipelines. We monitor failures in multi-agent pipelines.",
    ], topic="Multi-agent LLM systems")
    assert "Multi-Agent" not in [n.split(" · ")[0] for n in names], names


def _week(groups: list[list[str]], topic: str) -> tuple[list, dict, list[str]]:
    from brief.models import Decision, Paper

    texts = [t for g in groups for t in g]
    papers = [Paper(id=f"2606.{i:05d}", title=t.split(". ")[0], abstract=t.split(". ", 1)[1], categories=["cs.AI"])
              for i, t in enumerate(texts)]
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="offline", relevance=7, novelty=5, topic=topic,
                                reason="r") for p in papers}
    return papers, decisions, texts + WEEK[len(AGENTS):]


def test_a_phrase_few_of_a_theme_use_does_not_name_it_the_topics_rest_is_listed_last_and_once():
    """Five papers on tactile sensing make a theme; then two groups whose best phrase only two of seven (and two
    of seven) share: neither is named by it; both go to one "assorted" theme of their topic, listed last."""
    from brief.agents.synthesiser import offline_prose
    from brief.agents.theme_analysis import name_themes

    tactile = [f"Tactile sensing study {i}. Tactile sensing for grasping, variant {i}." for i in range(5)]
    loose = [f"Paper {w} on {w}. We study {w} in a new setting." for w in
             ("compilers", "weather", "chess", "poetry", "opera", "sailing", "cooking", "pottery", "hiking", "knitting")]
    quirk_a = ["Credit assignment for teams. Credit assignment across a team.",
               "Credit assignment in games. Credit assignment for players."] + loose[:5]
    quirk_b = ["Graph rewiring for molecules. Graph rewiring on molecules.",
               "Graph rewiring at scale. Graph rewiring for large graphs."] + loose[5:]
    assert len(quirk_a) == len(quirk_b) == 7
    papers, decisions, background = _week([tactile, quirk_a, quirk_b], "Agents")
    ranges = [list(range(0, 5)), list(range(5, 12)), list(range(12, 19))]
    themes = name_themes(ranges, papers, decisions, background)
    names = [t.name for t in themes]
    assert names == ["Tactile Sensing", "Agents: assorted"], names
    assert sorted(themes[1].paper_ids) == sorted(p.id for p in papers[5:]), "the rest of the topic is one theme"
    assert not any("credit" in n.lower() or "rewiring" in n.lower() for n in names), names
    prose = offline_prose(themes[1], {p.id: p for p in papers}, {})
    assert "sharing" not in prose.split(".")[0] and "common method" not in prose, prose
    assert all(f"[arXiv:{p.id}]" in prose for p in papers[5:]), "a topic's rest has no story but its list: all cited"
    assert "sharing tactile sensing" in offline_prose(themes[0], {p.id: p for p in papers}, {}).lower()
    # with a model the model names each group from its papers: every group stays a theme
    kept = name_themes(ranges, papers, decisions, background, merge_rest=False)
    assert sorted(sorted(t.paper_ids) for t in kept) == sorted(sorted(papers[i].id for i in r) for r in ranges), \
        [t.name for t in kept]


def test_a_theme_holds_the_papers_its_name_describes_and_never_restates_its_topic():
    """Offline a theme is the papers that use its name. Six "LLM agents" papers, three on web navigation:
    "LLM Agents" restates the topic and names nothing; "Web Navigation" names the three that use it, the
    other three are the topic's rest. Across two leftover groups three papers share "graph rewiring": the
    rest still makes that theme; a lone leftover paper is named by its title."""
    from brief.agents.theme_analysis import name_themes

    web = [f"LLM agents for web navigation {i}. LLM agents do web navigation on site {w}."
           for i, w in enumerate(("shops", "forums", "maps"))]
    other = [f"LLM agents and {w}. LLM agents study {w} in a new setting." for w in ("compilers", "weather", "chess")]
    rewiring = [f"Graph rewiring for {w}. LLM agents apply graph rewiring to {w}." for w in ("molecules", "roads", "grids")]
    lone = ["LLM agents write poetry. LLM agents study poetry and sonnets."]
    papers, decisions, background = _week([web + other, rewiring[:2] + lone, rewiring[2:]], "LLM agents")
    decisions[papers[8].id] = decisions[papers[8].id].model_copy(update={"topic": "Creative writing"})
    themes = name_themes([list(range(6)), [6, 7, 8], [9]], papers, decisions, background)
    by_name = {t.name: sorted(t.paper_ids) for t in themes}
    ids = [p.id for p in papers]
    assert "LLM Agents" not in by_name and not any(n.startswith("More on") for n in by_name), by_name
    assert by_name.get("Web Navigation") == ids[:3], by_name
    assert by_name.get("Graph Rewiring") == sorted([ids[6], ids[7], ids[9]]), by_name
    assert by_name.get("LLM agents: assorted") == ids[3:6], by_name
    assert themes[-1].name == "LLM agents: assorted" and len(themes) == 4, [t.name for t in themes]
    assert by_name.get("LLM agents write poetry") == [ids[8]], by_name


def test_an_acronym_and_its_expansion_never_name_two_themes():
    from brief.agents.theme_analysis import name_themes

    asr = [f"ASR for {w}. We improve ASR on {w} audio with ASR adapters." for w in ("meetings", "children", "accents")]
    spoken = [f"Speech recognition in {w}. Speech recognition of {w} calls." for w in ("noise", "hospitals")]
    papers, decisions, background = _week([asr, spoken], "Speech and audio")
    names = [t.name for t in name_themes([[0, 1, 2], [3, 4]], papers, decisions, background)]
    assert names[0] == "ASR" and "Speech Recognition" not in names, names


def test_a_phrase_no_title_uses_names_no_theme():
    """Three papers whose abstracts all mention end-effector pose tracking in passing, none about it."""
    texts = [f"Planning with {w}. We plan with {w} and report end-effector pose tracking errors." for w in
             ("language feedback", "video rollouts", "cost maps")]
    assert _named(texts) == ["Robot manipulation learning: assorted"], _named(texts)


def test_a_theme_holds_the_papers_about_its_name_not_those_that_mention_it_once():
    """Two papers on diffusion policies (in their titles) and two that name them once in passing."""
    from brief.agents.theme_analysis import name_themes

    about = [f"Diffusion policy for {w}. A diffusion policy learns {w}; the diffusion policy runs fast." for w in
             ("folding", "pouring")]
    passing = [f"Tactile gloves for {w}. Unlike a diffusion policy, gloves record {w} forces." for w in
               ("surgery", "sewing")]
    papers, decisions, background = _week([about + passing], "Robot manipulation learning")
    by_name = {t.name: sorted(t.paper_ids) for t in name_themes([[0, 1, 2, 3]], papers, decisions, background)}
    assert by_name.get("Diffusion Policy") == [papers[0].id, papers[1].id], by_name
    assert by_name.get("Robot manipulation learning: assorted") == [papers[2].id, papers[3].id], by_name


def test_a_phrase_is_mentioned_by_its_words_or_its_acronym():
    from brief.phrases import mentions

    text = "Automatic speech recognition (ASR) helps. ASR errors fall; unlike VLAs, speech recognition is old."
    assert mentions(text, "Speech Recognition") == 4
    assert mentions("Vision-language-action (VLA) models. VLAs act.", "Vision-Language-Action") == 3
    assert mentions("A diffusion policy for cups.", "Speech Recognition") == 0


def test_a_longer_acronym_stands_for_a_phrase_only_where_the_text_says_so():
    """"VLA" ends with the initials of "Latent Action" and "TTS" begins with those of "Turn-taking": without its
    definition in the text, neither stands for them (a VLA review's "Latent Action" sub-theme held 27 of 30 papers,
    a TTS paper sat in "Turn-taking")."""
    from brief.phrases import mentions

    assert mentions("Vision-language-action models (VLAs) act. VLA policies fail.", "Latent Action") == 0
    assert mentions("Flow-matching TTS fixes pronunciation; TTS voices stay.", "Turn-taking") == 0
    assert mentions("We learn latent action models (LAMs) from video; LAMs transfer.", "Latent Action") == 3
    assert mentions("3D Gaussian Splatting (3DGS) renders. 3DGS is fast.", "Gaussian Splatting") == 3
    assert mentions("ASR errors fall.", "Speech Recognition") == 0, "never introduced as speech recognition here"


def test_a_modifier_the_background_never_writes_alone_is_no_term_nor_name_a_name_is():
    """"young stellar" of "young stellar objects / populations" and "star-forming" of "star-forming galaxies" say
    "what?"; a background of papers shows it: they rarely end a run of content words there, while "dark matter"
    and a name ("SWE-bench" of "SWE-bench Verified") stand alone."""
    a = ("Young stellar objects in Orion with SWE-bench Verified style agents: star-forming galaxies and dark "
         "matter halos.")
    b = "Young stellar populations of the Milky Way, SWE-bench tasks, star-forming galaxies and dark matter cores."
    background = ([f"Young stellar {w} near cluster {i}: dark matter." for i, w in
                   enumerate(["objects", "populations", "associations", "clusters", "discs"])]
                  + [f"Star-forming galaxies in sample {i}; SWE-bench Lite runs." for i in range(5)]
                  + [f"Unrelated topic number {i}: planets." for i in range(990)])
    terms = shared_phrases(a, b, text_frequencies(background))
    assert "SWE-bench" in terms and "dark matter" in terms, terms
    assert not {"young stellar", "star-forming"} & set(terms), terms
    names = distinctive_phrases(background[:10], background[:10], phrase_frequencies(background), k=3)
    assert names, "the group still has a name"
    assert "Young Stellar" not in names and "Star-forming" not in names, names


def test_an_acronym_beside_its_phrase_says_nothing_more():
    """A term that restates one already shown ("3DGS" after "3D Gaussian splatting", "key-value" after "KV
    cache") is left out; one that says more ("AGN feedback" beside "active galactic nuclei") stays."""
    background = text_frequencies([f"Unrelated topic number {i}: planets." for i in range(300)])
    a = "A VLA with 3D Gaussian splatting (3DGS), a KV cache of key-value pairs, and AGN feedback in active galactic nuclei."
    b = "3D Gaussian splatting (3DGS) maps, key-value KV cache eviction, AGN feedback from active galactic nuclei."
    terms = shared_phrases(a, b, background, k=6)
    assert "3D Gaussian splatting" in terms and "active galactic nuclei" in terms and "AGN feedback" in terms, terms
    assert "3DGS" not in terms and not ("KV cache" in terms and "key-value" in terms), terms
    # the same words with an acronym for some of them: one of the two is shown
    a = "Key-value (KV) cache eviction saves memory; the KV cache shrinks under safety alignment."
    b = "Quantizing the key-value (KV) cache breaks safety alignment; we repair the KV cache."
    terms = shared_phrases(a, b, background, k=4)
    assert "safety alignment" in terms and sum(t.lower() in ("kv cache", "key-value cache") for t in terms) == 1, terms
