"""One escaping function per output format for untrusted text (titles, authors, ids, DOIs, feed URLs, model
prose): Markdown text and link targets, HTML text and attributes, XML text, terminal lines.

Only http(s) URLs become links: a `javascript:` or `data:` URL from a feed or an imported library stays text.
A Markdown link target is percent-encoded, so a DOI such as `10.1/x)![t](http://evil/p.png` can't close the
link and plant an image; Markdown text has HTML and link syntax escaped, so it renders inert.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

_WEB_URL = re.compile(r"https?://[^\s\"'<>\\`\x00-\x1f\x7f]+", re.IGNORECASE)
# Parentheses need no escape: a link or an image needs `](`, and brackets are escaped (so raw Markdown reads
# "(exit 3)", not "\(exit 3\)")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|!~>])")
# what a Markdown link target keeps as is: RFC 3986's characters minus the ones Markdown reads ()[]<>'" and space
_MD_TARGET_SAFE = "/:?#@!$&*+,;=%~._-"
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# C0 and C1 controls (ESC, BEL, NUL, CSI …), DEL, and the bidi overrides/isolates that reorder what a terminal shows
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def web_url(url: str | None) -> str:
    """`url` if it is an http(s) URL without spaces, quotes or controls, else "" (never a link)."""
    return url if url and _WEB_URL.fullmatch(url) else ""


def md_text(text: object, strip: bool = True) -> str:
    """Untrusted text for Markdown: whitespace flattened, HTML can't open, links and emphasis can't form."""
    flat = re.sub(r"\s+", " ", str(text))
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat.strip() if strip else flat, quote=False))


def md_target(target: str) -> str:
    """A link target (a web URL or a relative file name brief wrote) percent-encoded for `[text](target)`."""
    return quote(target, safe=_MD_TARGET_SAFE)


def md_link(text: str, url: str | None) -> str:
    """`[text](url)` when `url` is an http(s) URL, else the escaped text alone."""
    url = web_url(url)
    return f"[{md_text(text)}]({md_target(url)})" if url else md_text(text)


def esc(text: object) -> str:
    """Untrusted text for HTML, in element content and in (double- or single-quoted) attribute values alike."""
    return html.escape(str(text), quote=True)


def xml_text(text: str) -> str:
    """Text XML 1.0 accepts (ElementTree escapes the markup; it does not drop the controls XML forbids)."""
    return _XML_FORBIDDEN.sub("", text)


def term(text: object) -> str:
    """Untrusted text for one terminal line: controls and bidi overrides shown as U+FFFD, line breaks as spaces,
    so a title can't retitle the window, move the cursor, ring the bell or fake a line of output."""
    return _TERMINAL_UNSAFE.sub(lambda m: " " if m.group() in "\t\n\r" else "\ufffd", str(text))
