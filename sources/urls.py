"""Code, data, model and project-page links found in a paper's abstract and comments.

arXiv authors write them many ways: `https://github.com/a/b.`, `github.com/a/b)`, `\\url{https://…}`,
`https://huggingface.co/datasets/x/y,`. A link is kept only as an http(s) URL, trailing punctuation and
unbalanced closing brackets stripped, deduplicated (case of the host, a trailing slash or `.git` ignored).
arXiv and DOI links are citations, not resources, and are left out.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

Kind = Literal["code", "data", "model", "project"]

_URL = re.compile(r"(?:https?://|(?<![\w./@-])(?=(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co)/))[^\s<>\"'{}\\]+",
                  re.IGNORECASE)
_TRAILING = ".,;:!?'\"*`"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_CITATION_HOSTS = ("arxiv.org", "doi.org", "dx.doi.org")
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com")
_DATA_HOSTS = ("zenodo.org", "figshare.com", "kaggle.com", "dataverse.harvard.edu", "data.mendeley.com")


class ResourceLink(BaseModel):
    kind: Kind
    url: str


def _trim(url: str) -> str:
    """Strip trailing punctuation and closing brackets the URL never opened (`(see github.com/a/b).`)."""
    while url:
        last = url[-1]
        unopened = last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])
        if not (last in _TRAILING or unopened):
            break
        url = url[:-1]
    return url


def _kind(host: str, path: str) -> Kind | None:
    host = host.removeprefix("www.")
    parts = [p for p in path.split("/") if p]
    if host in _CITATION_HOSTS or host.endswith(".arxiv.org"):
        return None
    if host in _CODE_HOSTS or host.startswith("gitlab."):
        return "code" if len(parts) >= 2 else "project"
    if host == "huggingface.co":
        if parts[:1] == ["datasets"]:
            return "data"
        if parts[:1] == ["spaces"]:
            return "project"
        return "model" if len(parts) >= 2 else "project"
    if host in _DATA_HOSTS or (host == "kaggle.com" and parts[:1] == ["datasets"]):
        return "data"
    return "project"


def _key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/').removesuffix('.git')}?{parts.query}"


def resource_links(*texts: str | None) -> list[ResourceLink]:
    """Every distinct code / data / model / project link in the texts, in order of first mention."""
    found: dict[str, ResourceLink] = {}
    for text in texts:
        for match in _URL.finditer(text or ""):
            url = _trim(match.group(0))
            if not url.lower().startswith(("http://", "https://")):
                url = "https://" + url
            parts = urlsplit(url)
            if not parts.netloc or "." not in parts.netloc:
                continue
            kind = _kind(parts.netloc.lower(), parts.path)
            if kind is not None:
                found.setdefault(_key(url), ResourceLink(kind=kind, url=url))
    return list(found.values())
