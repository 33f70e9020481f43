"""Summaries extracted from an abstract: each sentence gets a role (problem / method / results / limitations) only
on evidence, and an LLM's summary is held to the abstract's own numbers. The reviewer shows them; a screening first
look reads the method sentence (`key_sentence`).
"""

from __future__ import annotations

import re

from brief.models import NOT_STATED, Paper, Summary, unstated
from brief.text import sentences

# A sentence gets a role only on evidence: a cue phrase for its role (and, for results, a measured number or a
# comparison). A field nothing supports says NOT_STATED rather than showing the nearest sentence.
_CUES = {
    "method": r"\b((we|i) ((here|now|also|further|therefore|thus|hence) )?(propose|present|introduce|develop"
              r"|design|build|formulate|study|investigate|contribute|consider|analy[sz]e|perform|conduct|derive|explore"
              r"|examine|describe|model|simulate|use|search|measure|report)"
              r"|(this|the present) (paper|work|study|article) (proposes|presents|introduces|develops|studies)"
              r"|our (method|approach|framework|model|system|algorithm|pipeline) (is|uses|consists|combines|learns))\b",
    # What the paper makes, preferred over what it studies: "We investigate the information flow …" then "Based on
    # this insight, we propose FADE" has FADE as its method
    "contribution": r"\b((we|i) ((here|now|also|further|therefore|thus|hence) )?(propose|present|introduce|develop|design"
                    r"|build|formulate|contribute)|(this|the present) (paper|work|study|article) (proposes|presents|introduces"
                    r"|develops))\b",
    # Read only when no sentence has a cue above: the verbs and the passive physics and astronomy write for what
    # they did ("we compare", "we review", "here, I proved", "an analysis is carried out"), which elsewhere as
    # often name a problem ("we identify a failure mode", "when decoding is performed early") before the
    # sentence that says what the paper does
    "method_fallback": r"\b((we|i) ((here|now|first|then|also|further|therefore|thus|hence|have) )?(compare|review|apply"
                       r"|combine|compute|calculate|determine|estimate|construct|obtain|provide|quantify|characteri[sz]e"
                       r"|assess|infer|employ|adopt|revisit|address|reconstruct|identify|trace|test|prove|propose"
                       r"|present|introduce|develop|derive|analy[sz]e|measure|report|use|perform|conduct|assemble|profile"
                       r"|generate|screen|sequence|assign|train|collect|curate|integrate|leverage|mapped|map)(e?d)?"
                       r"|(we|i) (aim to|set out to|show how)|(is|are) (here )?(carried out|performed|conducted"
                       r"|presented|developed|proposed|introduced|constructed|derived|computed|calculated)"
                       r"|(this|the present) (paper|work|study|article|letter|review) (investigates|describes|reports"
                       r"|explores|examines|provides|discusses|compares|reviews|analy[sz]es))\b",
    "problem": r"\b((remains?|still|is|are|poses?|key|major|main|open|fundamental|central|core|critical) (\w+ )?challeng\w*"
               r"|challenges? (of|in|for|remains?)|however|yet|remains? (limited|difficult|unclear|unsolved|open)"
               r"|limited|limits|lack\w*|difficult\w*|struggl\w*|bottleneck\w*|costly|expensive|fail\w*|unclear"
               r"|gap|hinder\w*|suffer\w*|unsolved|open (question|problem)|this problem|the problem of|prone to)\b",
    "limitations": r"\b(limitations?|future work|fails? to|failure (cases?|modes?)|cannot|restricted to|only (works|applies"
                   r"|handles|holds)|remains? (an )?open|drawbacks?|caveats?|does not (generali[sz]e|scale|handle|transfer"
                   r"|hold))\b",
}
# Results: a measured figure (a percentage, a multiple, a score with a unit, "raises X by 12") or a comparison;
# a bare "by 1" is no figure ("supervised by 1 hr of video").
_RESULT_FIGURE = (r"(\d+(\.\d+)?\+?\s?(\\?%|percent(age points?)?\b|×|x\b|times\b|-?fold\b|points?\b|pp\b|dB\b|ms\b|fps\b|hz\b|mAP\b|AP\b|IoU\b"
                  r"|PSNR\b|FID\b|BLEU\b)|\b(improv|reduc|increas|decreas|boost|rais|lift|cut|lower|drop|shrink|speed|accelerat|advanc|extend|exceed"
                  r"|outperform|surpass|gain)\w* (\S+ ){0,8}by (up to |over |about |nearly |roughly )?\+?\d|\b\d+(\.\d+)?\s?(→|->|to)\s?\d+(\.\d+)?\s?%?"
                  r"|\b\d+ (of|out of) \d+\b|\b0\.\d{2,}\b|\b(accuracy|success( rate)?|F1|mAP|AUC|AUROC|PSNR|SSIM|score|error|reward) (of|to) \d)")
_RESULT_COMPARISON = (r"\b(outperform\w*|surpass\w*|beats?|(achiev\w*|sets?|establish\w*|reach\w*|new) (a |new )?"
                      r"(state[- ]of[- ]the[- ]art|sota)|state[- ]of[- ]the[- ]art (performance|results?|accuracy)|better than|higher than|lower than"
                      r"|faster than|more (accurate|efficient|robust) than|improv(es|ed|ing|ements?) (\w+ ){0,3}(over|by|on"
                      r"|upon|in)|(significantly|substantially|considerably|markedly|greatly|dramatically) (improv\w*|reduc\w*"
                      r"|outperform\w*|boost\w*|increas\w*|lower\w*|speed\w*)|(experiments?|results?|evaluations?|studies|tests?)"
                      r" ([\w,()-]+ ){0,8}(show|demonstrate|confirm|reveal|indicate)s?( that)?|we (show|demonstrate|find|observe) that|gains? of"
                      r"|(yields?|brings?|delivers?|achieves?) (\w+ ){0,2}(substantial|significant|consistent|large|notable) "
                      r"(gains|improvements)|speed-?ups?|reduc(es|ed|ing)"
                      r" (\w+ ){0,3}by|compared (to|with) (\w+ ){0,4}(baselines?|prior|existing)|consistently (improv|outperform|better)\w*)\b")


# "we analyze the limitations of response-level rewards", "insights into the limitations of current LVLMs": the
# limitations of other work, which this paper addresses or measures, are not its own
_OTHERS_LIMITATIONS = re.compile(r"\b((analy[sz]\w*|address\w*|overcom\w*|reveal\w*|expos\w*|highlight\w*|diagnos\w*|into"
                                 r"|identif\w*|mitigat\w*|tackl\w*|study\w*|investigat\w*|examin\w*|understand\w*) (\w+ ){0,3}"
                                 r"(limitations?|drawbacks?|failure modes?)|(limitations?|drawbacks?) of (current|existing|prior"
                                 r"|previous|popular|standard|conventional|these|such|today|state|most|many|large|\w+-based))\b",
                                 re.IGNORECASE)
_FINDING = re.compile(r"\b(analysis|we|our|results?|experiments?) (\w+ ){0,3}(show|demonstrate|find|reveal)\w*", re.IGNORECASE)


# A sentence that sets up a study ("This sample spans z<0.83", "Using void catalogs at z<0.04, we perform…", "models
# spanning metallicities between 0.0002-0.02"): its figures describe the data, not an outcome, unless it also says
# what was found
_SETUP = re.compile(r"\b(spans?|spanning|cover(s|ing)?(?! fact)|using|assum(e|es|ed|ing)|(our|the|this) (sample|catalog\w*|grid)"
                    r"|drawn from|selected)\b", re.IGNORECASE)
_FOUND = re.compile(r"\b(find|found|finds|obtain\w*|measur\w*|detect\w*|observ\w*|estimat\w*|deriv\w*|determin\w*|yield\w*"
                    r"|reveal\w*|show\w*|demonstrat\w*|confirm\w*|consistent|achiev\w*|reach\w*|infer\w*|constrain\w*|calculat\w*"
                    r"|identif\w*|improv\w*|increas\w*|reduc\w*|indicat\w*|suggest\w*|interpret\w*|peak\w*|best fit|cuts?|raises?"
                    r"|keeps?|match(es|ed)|recover\w*|clears?|exceed\w*|indeterminate)\b",
                    re.IGNORECASE)


def _figure(sentence: str) -> bool:
    setup = _SETUP.search(sentence) and not (_FOUND.search(sentence) or re.search(_RESULT_COMPARISON, sentence, re.IGNORECASE))
    return bool(re.search(_RESULT_FIGURE, sentence, re.IGNORECASE)) and not setup


def is_result_like(sentence: str) -> bool:
    """A sentence that reports an outcome: a measured figure (not one that sets up the study) or an explicit
    comparison."""
    return _figure(sentence) or bool(re.search(_RESULT_COMPARISON, sentence, re.IGNORECASE))


def _cue(sentence: str, kind: str) -> bool:
    return bool(re.search(_CUES[kind], sentence, re.IGNORECASE))


def _method(sents: list[str]) -> str:
    """The sentence saying what the paper does: one that proposes something, else one with a method cue, else
    one whose verb says what the authors did; "" when none does."""
    return (next((s for s in sents if _cue(s, "method") and _cue(s, "contribution")), "")
            or next((s for s in sents if _cue(s, "method")), "") or next((s for s in sents if _cue(s, "method_fallback")), ""))


def key_sentence(paper: Paper) -> str:
    """The summary's method sentence as it is shown, without the other fields' work ("" when there is none):
    a screening first look asks for it for hundreds of papers before its first call goes out."""
    method = _method(sentences(paper.abstract) or ([paper.abstract] if paper.abstract else []))
    return _shown(method) if method else ""


def extract_summary(paper: Paper) -> Summary:
    """Pick the abstract's sentences that state its problem, method, results and limitations, each on evidence.

    method: a "we propose / this paper presents" sentence; problem: a sentence before it naming a difficulty
    or gap; results: a later sentence with a measured figure or a comparison; limitations: a later sentence
    with a limitation cue. Every field is a verbatim sentence (less an opening that points back at sentences
    the reader doesn't see: "To address this, we…" reads "We…") or NOT_STATED. The TL;DR is the method
    sentence, else the first result, else the title: never background.
    """
    sents = sentences(paper.abstract) or ([paper.abstract] if paper.abstract else [])
    method = _method(sents)
    at = sents.index(method) if method else len(sents)
    problem = next((s for s in sents[:at] if _cue(s, "problem") and not is_result_like(s) and not _FINDING.search(s)), "")
    after = sents[at + 1:] if method else sents
    # a measured figure first; a bare comparison only from a sentence that isn't saying what the paper does
    # ("we employ a two-stage strategy that yields significant improvements" is its method)
    results = (next((s for s in after if s not in (method, problem) and _figure(s)), "")
               or next((s for s in after if s not in (method, problem) and is_result_like(s)
                        and not _cue(s, "method") and not _cue(s, "method_fallback")), ""))
    limitations = next((s for s in after if s not in (method, problem, results) and _cue(s, "limitations")
                        and not _cue(s, "method") and not _OTHERS_LIMITATIONS.search(s)), "")
    return Summary(
        tldr=_shown(method or results or paper.title),
        problem=_shown(problem) or NOT_STATED,
        method=_shown(method) or NOT_STATED,
        results=_shown(results) or NOT_STATED,
        limitations=_shown(limitations) or NOT_STATED,
    )


# An opening clause that refers back to the abstract's earlier sentences, which a field shown alone lacks
# ("To address both gaps,", "To quantify and mitigate these hallucinations,", "Under this formulation,"); a comma
# without its space ("However,such") is still one
_BACK_REFERENCE = re.compile(
    r"^(?:(?:to [a-z]+(?: and [a-z]+)?|motivated by|inspired by|building (?:up)?on|based on|guided by|given|in light of"
    r"|in response to|under|with|from|through|following|on|by|after|beyond|in) (?:this|these|that|those|such|both"
    r"|the (?:above|two|aforementioned))\b[^,]{0,60}"
    r"|to this end|to that end|to do so|however|therefore|thus|hence"
    r"|consequently|instead|accordingly|as a result),\s*", re.IGNORECASE)


def _standalone(sentence: str) -> str:
    """The sentence without openings that point back at earlier sentences ("To address this, we…" → "We…";
    "To this end, in this paper, we…" → "We…"), unless too little would be left."""
    rest = sentence
    while (opening := _BACK_REFERENCE.match(rest)) and len(rest[opening.end():].split()) >= 4:
        rest = rest[opening.end():]
    return rest[0].upper() + rest[1:] if rest != sentence and rest.split()[0].islower() else rest  # "iPhone…" keeps its case


def _shown(sentence: str) -> str:
    return _clip(_standalone(sentence))


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def ground_summary(summary: Summary, paper: Paper, language: str | None = None) -> tuple[Summary, list[str]]:
    """Replace any LLM summary field that states a number the abstract doesn't with the extracted one, and a
    "results" field that reports no outcome (no figure, no comparison) likewise.

    Invented figures are the most damaging hallucination in a summary and the easiest to catch: every
    number a field states must appear in the title or abstract. Returns (summary, fields replaced).
    """
    source = f"{paper.title} {paper.abstract}"
    known = {n.replace(",", "") for n in _NUMBER.findall(source)}
    extracted = None
    fixed, replaced = summary.model_copy(), []
    for field in ("tldr", "problem", "method", "results", "limitations"):
        value = getattr(fixed, field)
        unsupported = any(n.replace(",", "") not in known for n in _NUMBER.findall(value))
        not_a_result = (field == "results" and not language and value.strip() and not unstated(value)
                        and not is_result_like(value))  # the cues are English: a summary in another language keeps its own
        if unsupported or not_a_result:
            extracted = extracted or extract_summary(paper)
            setattr(fixed, field, getattr(extracted, field))
            replaced.append(field)
    return fixed, replaced
