"""Criteria for an eval: a brief.toml, a bare criteria TOML, or a topics text file (paper_topics.txt format),
and the topic a labeller's comment names (for per-topic recall).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from brief.agents.criteria_import import parse_topics, topic_name
from brief.config import ConfigError, Criteria, ScreeningConfig, Topic
from brief.config_file import parse_toml, read_user_file


def load_criteria(path: Path) -> tuple[Criteria, ScreeningConfig | None]:
    """Criteria from `path`, with the file's own [screening] section when it has one.

    Raises ConfigError (a user error) naming the file and the problem.
    """
    path = Path(path)
    text = read_user_file(path, "criteria")
    if path.suffix.lower() != ".toml":
        try:
            return parse_topics_text(text), None
        except (ConfigError, ValidationError) as exc:
            raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    raw = parse_toml(text, str(path))
    section = raw.get("criteria", raw if "topics" in raw else None)
    if section is None:
        raise ConfigError(f"{path}: no [criteria] section and no topics")
    try:
        criteria = Criteria.model_validate(section)
        screening = ScreeningConfig.model_validate(raw["screening"]) if "screening" in raw else None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"{path}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    return criteria, screening


def parse_topics_text(text: str) -> Criteria:
    """The product's importer (`brief init --from-topics`); a file of plain, unnumbered text is one topic
    (e.g. a review's single inclusion criterion). Only the topics file is read: a watch-list beside it is
    not, since the labels being scored did not come from author matches."""
    try:
        return parse_topics(text).criteria()
    except ValueError:
        pass
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        raise ConfigError("the topics file is empty")
    criterion = " ".join(lines)
    return Criteria(topics=[Topic(name=topic_name(criterion), description=criterion)])


def gold_topic(comment: str | None, criteria: Criteria) -> str | None:
    """The topic a labeller's comment names: `criterion 3` / `criteria 1 and 4` (first), else a topic name."""
    if not comment:
        return None
    numbered = re.search(r"criteri(?:on|a)\s*#?\s*(\d{1,2})\b", comment, re.IGNORECASE)
    if numbered and 1 <= int(numbered.group(1)) <= len(criteria.topics):
        return criteria.topics[int(numbered.group(1)) - 1].name
    lowered = comment.lower()
    found = [(lowered.find(t.name.lower()), t.name) for t in criteria.topics if t.name.lower() in lowered]
    return min(found)[1] if found else None
