"""LaTeX in titles, abstracts and summaries turned into readable text with pylatexenc.

`$\\texttt{WEAVER}$` → WEAVER, `36.67\\%` → 36.67%, `$u$` → u, `$\\alpha$` → α, `$R^2$` → R², ``` ``cat'' ``` → “cat”;
`\\cite{...}` and `\\ref{...}` are dropped (an abstract has no bibliography to point into). Only text that looks
like LaTeX (a `$`, a backslash command or TeX's opening quotes) is converted, so a plain "5% of" keeps its percent sign; a bare `%`, `&` or `#`
inside LaTeX-looking text is read as the character, not as a comment or an alignment mark. Whatever
pylatexenc makes of odd input, this never raises: on any error the raw text comes back.
"""

from __future__ import annotations

import functools
import logging
import re

log = logging.getLogger(__name__)

_LATEX_HINT = re.compile(r"\$|\\[A-Za-z%&#_{}$\"'`^~=.]|``|[A-Za-z]~[A-Za-z]")  # the last: a tie ("Stage~IV")
# a tilde before a number or standing alone means "about" ("~0.95 Myr", "b ~ 0.4"), not TeX's tie (a space)
_APPROX = re.compile(r"~(?=\s*[-+]?[0-9.])|(?<=\s)~(?=\s)")
# an asymmetric uncertainty as TeX sets it, either way round: 26^{+6}_{-5} and 9.75_{-0.38}^{+0.29} read 26 (+6/−5)
_UP_DOWN = re.compile(r"\^\s*\+\s*([0-9.]+)\s*_\s*[-−]\s*([0-9.]+)")
_DOWN_UP = re.compile(r"_\s*[-−]\s*([0-9.]+)\s*\^\s*\+\s*([0-9.]+)")
_BARE_SPECIAL = re.compile(r"(?<!\\)([%&#])")
# Font commands arXiv authors use that pylatexenc's default table lacks: keep their argument as text.
_KEEP_ARGUMENT = ("texttt", "textsf", "textup", "textmd", "textnormal", "boldsymbol", "textsuperscript",
                  "textsubscript", "mathds", "mathscr", "bm")
_SYMBOLS = {"checkmark": "✓", "ding": "", "xmark": "✗", "textasciitilde": "~"}
_DROPPED = ("cite", "citep", "citet", "citealp", "citeauthor", "citeyear", "ref", "eqref", "autoref", "cref", "Cref",
            "label", "footnotemark")
_SUPERSCRIPT = re.compile(r"\^(-?[0-9]{1,3})(?![0-9]|[.,][0-9])")  # not x^1.5: ¹.5 would misread
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SPACE_BEFORE_STOP = re.compile(r"\s+(?=[.,;:](?:\s|$))")  # where a dropped citation stood


@functools.lru_cache(maxsize=1)
def _converter():
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
    from pylatexenc.latexwalker import get_default_latex_context_db as walker_db
    from pylatexenc.macrospec import MacroSpec

    db = get_default_latex_context_db().filter_context(keep_which=("macros", "environments", "specials"))
    db.add_context_category("brief", prepend=True,
                            macros=[MacroTextSpec(name, discard=False) for name in _KEEP_ARGUMENT]
                            + [MacroTextSpec(name, simplify_repl=text) for name, text in _SYMBOLS.items()]
                            + [MacroTextSpec(name, simplify_repl="") for name in _DROPPED])
    walker = walker_db().filter_context(keep_which=("macros", "environments", "specials"))
    walker.add_context_category("brief", prepend=True, macros=[MacroSpec(name, "{") for name in _KEEP_ARGUMENT]
                                + [MacroSpec("href", "{{"), MacroSpec("url", "{")])  # the default table gives them no arguments
    return LatexNodes2Text(latex_context=db, math_mode="text", strict_latex_spaces=True), walker


def _uncertainty(up: str, down: str) -> str:
    return f" ± {up}" if up == down else f" (+{up}/−{down})"


def latex_to_text(text: str) -> str:
    """Readable text for `text` (unchanged when it holds no LaTeX or pylatexenc can't read it)."""
    if not text or not _LATEX_HINT.search(text):
        return text
    try:
        from pylatexenc.latexwalker import LatexWalker

        converter, walker_db = _converter()
        source = _BARE_SPECIAL.sub(r"\\\1", _APPROX.sub("∼", text))
        nodes = LatexWalker(source, latex_context=walker_db, tolerant_parsing=True).get_latex_nodes()[0]
        out = " ".join(converter.nodelist_to_text(nodes).replace("\xa0", " ").split())
        out = _DOWN_UP.sub(lambda m: _uncertainty(m.group(2), m.group(1)), _UP_DOWN.sub(lambda m: _uncertainty(*m.groups()), out))
        out = _SPACE_BEFORE_STOP.sub("", _SUPERSCRIPT.sub(lambda m: m.group(1).translate(_SUPERSCRIPT_DIGITS), out))
    except Exception as exc:  # noqa: BLE001 (pylatexenc on odd input: a raw title beats a lost one)
        log.debug("LaTeX left as is (%s): %.80s", exc, text)
        return text
    return out if out or not text.strip() else text
