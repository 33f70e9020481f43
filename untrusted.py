"""Untrusted text (titles, authors, abstracts, feeds) made inert before it goes into any prompt.

`for_prompt` is the one escaping function every prompt carrying such text uses, in both graphs. In order:
1. Unicode NFKC, so fullwidth and compatibility forms (`＜/paper＞`, `｜`) become the ASCII they imitate;
2. invisible format characters (zero-width spaces and joiners, bidi controls, soft hyphens) removed, so
   `</pa\u200bper>` or `ig\u200bnore` can't hide from step 4 or from a reader;
3. Latin look-alike letters (Cyrillic `а`, Greek `ο`, ...) folded to Latin inside words that mix them with
   Latin letters (a spoof; whole Greek or Cyrillic words are left alone), and angle-bracket look-alikes to `<`/`>`;
4. chat-template tokens (`<|im_start|>`, `<|eot_id|>`, `[INST]`, `<s>`, ...) neutralised;
5. HTML-escaped, so the text can't close the element it sits in.
`fold` (steps 1-3) is also what stage 1's injection flag reads.
"""

from __future__ import annotations

import html
import re
import unicodedata

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]")
_LOOKALIKE = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    # Greek
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
_ANGLES = str.maketrans({"‹": "<", "›": ">", "〈": "<", "〉": ">", "⟨": "<", "⟩": ">", "❮": "<", "❯": ">",
                         "ᐸ": "<", "ᐳ": ">", "˂": "<", "˃": ">", "«": "<<", "»": ">>"})
_WORD = re.compile(r"\w+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
# Special tokens of the common chat templates (ChatML, Llama 2/3, Mistral, Gemma, Phi, DeepSeek), any case.
_TEMPLATE = re.compile(
    r"<\|[^|<>\n]{1,40}\|>"                    # <|im_start|>, <|eot_id|>, <|start_header_id|>, <|system|> ...
    r"|</?s>|\[/?INST\]|<<\s*/?\s*SYS\s*>>"     # Llama 2 / Mistral
    r"|<\s*/?\s*(?:start_of_turn|end_of_turn|bos|eos|pad|unk)\s*>"  # Gemma and generic specials
    r"|<｜[^｜]{1,40}｜>",                      # DeepSeek's fullwidth bars (kept in case NFKC missed them)
    re.IGNORECASE,
)


def _unspoof(match: re.Match) -> str:
    word = match.group(0)
    if _ASCII_LETTER.search(word):
        return word.translate(_LOOKALIKE)
    return word


def fold(text: str) -> str:
    """Steps 1-3: the text as a reader (or a tokenizer) sees it, without its disguises."""
    text = str(text)
    if text.isascii():  # most abstracts: NFKC keeps ASCII as it is, and every disguise above lies outside it
        return text
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return _WORD.sub(_unspoof, text).translate(_ANGLES)


def neutralise_templates(text: str) -> str:
    """Chat-template tokens replaced by an inert mention of them: `<|im_end|>` → `(im_end)`."""
    return _TEMPLATE.sub(lambda m: "(" + re.sub(r"[<>|\[\]/｜]", "", m.group(0)).strip() + ")", text)


def for_prompt(text: str, quote: bool = False) -> str:
    """Untrusted text ready to sit inside a prompt's element (`quote=True` inside an attribute's quotes)."""
    return html.escape(neutralise_templates(fold(text)), quote=quote)


def flat_for_prompt(text: str) -> str:
    """`for_prompt` on one line: no newlines to fake a prompt's structure."""
    return for_prompt(" ".join(str(text).split()))
