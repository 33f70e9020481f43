"""Paper identifiers and the citation keys generated text uses: arXiv ids in every form, DOI and title keys."""

from __future__ import annotations

import hashlib
import re

# New-style ids (0704.0001 onward, 4+4 or 4+5 digits) and old-style ids (archive[.SUB]/YYMMNNN).
_NEW_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v(\d+))?")
_OLD_ID = re.compile(r"([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?")


def canonical_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split any arXiv identifier form into (id without version, version or None).

    Accepts bare ids, `arXiv:` prefixes and abs/pdf URLs, old style (`astro-ph/0601001v2`) and new style.
    Raises ValueError when no arXiv id is present, so callers can fall back to DOI or title keys.
    """
    text = raw.strip()
    text = re.sub(r"^(?:https?://)?(?:export\.)?arxiv\.org/(?:abs|pdf)/", "", text)
    text = re.sub(r"^arxiv:", "", text, flags=re.IGNORECASE)
    text = text.removesuffix(".pdf")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.fullmatch(text)
        if match:
            return match.group(1), int(match.group(2)) if match.group(2) else None
    raise ValueError(f"not an arXiv id: {raw!r}")


CITATION = re.compile(r"\[(arXiv:[^\]\s]+|doi:[^\]\s]+|title:[0-9a-f]+)\]")


def is_arxiv_id(paper_id: str) -> bool:
    """Whether a canonical id is an arXiv paper's (others are kept as `doi:…` or `title:…`)."""
    return not paper_id.startswith(("doi:", "title:"))


def cite_key(paper_id: str) -> str:
    """How text cites the paper with this canonical id."""
    return f"arXiv:{paper_id}" if is_arxiv_id(paper_id) else paper_id


def citations(text: str) -> list[str]:
    """The canonical citation keys in `text`, in order, repeats kept."""
    return [m.group(1) for m in CITATION.finditer(text)]


MIN_TITLE_WORDS = 5  # "Editorial", "Introduction", "Book review": a short title is not one paper's


def work_title(title: str) -> str | None:
    """A (TeX-free) title as two versions of one paper share it: without case and punctuation; None when it is
    too short (under MIN_TITLE_WORDS words) to tell one paper."""
    key = normalised_title(title)
    return key if len(key.split()) >= MIN_TITLE_WORDS else None


def normalised_title(title: str) -> str:
    """A title without case and punctuation: "Gaussian Splatting: a Survey" and "Gaussian splatting - a survey" match."""
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


def title_key(title: str) -> str:
    """A stable key for papers with neither arXiv id nor DOI: a hash of the normalised title."""
    return "title:" + hashlib.sha1(normalised_title(title).encode()).hexdigest()[:16]
