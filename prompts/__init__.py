"""Prompt texts live beside this file as `NAME.md`: a front matter with a version, a system and a user part,
then optional named parts (`## part NAME`) an agent adds to the user part only where they apply.

The version goes into LLM cache keys and eval records, so editing a prompt without bumping its version
would serve stale cached answers: bump it.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from pydantic import BaseModel

_FRONT = re.compile(r"^---\n(.*?)\n---\n", re.DOTALL)
_PART = re.compile(r"^## part (.+)\n", re.MULTILINE)


class Prompt(BaseModel):
    name: str
    version: str
    system: str
    user: str
    parts: dict[str, str] = {}

    @property
    def tag(self) -> str:
        return f"{self.name}@v{self.version}"

    def render_user(self, **values: object) -> str:
        return self.user.format(**values)


def load(name: str, language: str | None = None) -> Prompt:
    """The prompt NAME; with `language` ([report] language), told to write its free text in that language.
    The language joins the version, so answers cached in one language are never served in another."""
    prompt = _load(name)
    if not language:
        return prompt
    instruction = (f"\n\nWrite every free-text field of your answer (summaries, reasons, prose) in {language}. "
                   "Keep paper titles, method names, citation keys and numbers exactly as given.")
    return prompt.model_copy(update={"system": prompt.system + instruction, "version": f"{prompt.version}-{language}"})


@cache
def _load(name: str) -> Prompt:
    text = resources.files("brief.prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    front = _FRONT.match(text)
    if not front:
        raise ValueError(f"prompt {name}.md lacks its --- front matter ---")
    meta = dict(line.split(":", 1) for line in front.group(1).splitlines() if ":" in line)
    body = text[front.end():]
    _, _, rest = body.partition("## system\n")
    system, _, user = rest.partition("## user\n")
    user, *named = _PART.split(user)
    parts = {named[i].strip(): named[i + 1].strip() for i in range(0, len(named), 2)}
    return Prompt(name=meta["name"].strip(), version=meta["version"].strip(), system=system.strip(), user=user.strip(),
                  parts=parts)
