"""Masking secrets in text we show or write: the secret itself, its URL-encodings, and base64 that decodes to
text holding it (a server echoing `AUTH PLAIN` = base64 of `\\0user\\0password`, or `AUTH LOGIN`'s base64 of
the password, in its rejection).

Base64 is found by decoding, not by encoding the secret: a secret inside a longer encoded string (after
`\\0user\\0`) has no fixed encoding of its own, but the whole token decodes to bytes that contain it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{6,}={0,2}")


def _literal_forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)}


def _decoded(token: str) -> bytes:
    """What a base64 (standard or URL-safe) token decodes to, b"" when it is not base64."""
    padded = token.rstrip("=") + "=" * (-len(token.rstrip("=")) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return decode(padded)
        except (binascii.Error, ValueError):
            continue
    return b""


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (of 6 characters or more) and its URL- and base64-encodings replaced by ***."""
    wanted = [s for s in secrets if s and len(s) >= 6]
    if not wanted:
        return text
    for form in sorted({f for s in wanted for f in _literal_forms(s)}, key=len, reverse=True):
        text = text.replace(form, MASK)
    needles = [s.encode() for s in wanted]

    def hide(m: re.Match) -> str:
        data = _decoded(m.group())
        return MASK if any(n in data for n in needles) else m.group()

    return _BASE64_TOKEN.sub(hide, text)
