"""`brief.toml` (or, without one, the bundled demo config fitted to the bundled sample) read into `Settings`,
with the environment's overrides; and the other files a user names, read with one-line errors.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import typing
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from brief.config import ConfigError, Settings


def demo_config_text() -> str:
    return resources.files("brief").joinpath("data/demo.toml").read_text(encoding="utf-8")


def read_user_file(path: Path, what: str = "", missing_hint: str = "") -> str:
    """The text of a file the user named (a config, a criteria or topics file), or a one-line ConfigError
    that names it: `{what} file PATH not found{missing_hint}` or `cannot read {what} PATH: why` (without
    `what`: `PATH not found…`, `cannot read PATH: why`). A leading UTF-8 byte-order mark (Windows editors
    write one) is dropped: tomllib would reject it and no text we read means anything by it."""
    found_as, read_as = (f"{what} file {path}", f"{what} {path}") if what else (str(path), str(path))
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{found_as} not found{missing_hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {read_as}: {exc}") from None


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """`text` as TOML, or a one-line ConfigError saying `where` is not valid TOML and why."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Load `path` (or the demo config when None), then apply environment overrides.

    Raises ConfigError with a one-line message for any problem a user can fix.
    """
    env = dict(os.environ) if env is None else env
    if path is None:
        text, where = demo_config_text(), "built-in demo config"
    else:
        text, where = read_user_file(path, "config", ": run `brief init` to write one"), str(path)
    raw = parse_toml(text, where)
    _apply_env(raw, env)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        # a misspelt key is the cause of the "Field required" beside it: name it first, with its likely spelling
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = ".".join(str(part) for part in err["loc"]) or "(top level)"
        hint = ""
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), _field_names(err["loc"][:-1]), n=1, cutoff=0.6)
            hint = f" (did you mean {'.'.join([*map(str, err['loc'][:-1]), close[0]])}?)" if close else ""
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {loc}: {err['msg']}{hint}{more}") from None


def _field_names(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the settings accept at `loc` (a path of section names and list indices)."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _model_in(annotation: Any) -> Any:
    """The pydantic model an annotation holds (`X`, `list[X]`, `X | None`), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_model_in, typing.get_args(annotation)) if m is not None), None)


def _apply_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    llm = raw.setdefault("llm", {})
    if not isinstance(llm, dict):  # a wrong type: validation reports it
        llm = {}
    if env.get("OPENAI_API_KEY"):
        llm["api_key"] = env["OPENAI_API_KEY"]
    if env.get("OPENAI_BASE_URL"):
        llm["base_url"] = env["OPENAI_BASE_URL"]
        llm.setdefault("api_key", env.get("OPENAI_API_KEY") or "not-needed")
    if env.get("BRIEF_MODEL"):
        llm["model"] = env["BRIEF_MODEL"]
    if env.get("CHROMA_HOST") and isinstance(raw.setdefault("memory", {}), dict):
        raw["memory"]["chroma_host"] = env["CHROMA_HOST"]
    if env.get("BRIEF_WEBHOOK_URL") and isinstance(raw.setdefault("report", {}), dict):
        raw["report"]["webhook_url"] = env["BRIEF_WEBHOOK_URL"]
    if env.get("BRIEF_CHECKPOINT_URL") and isinstance(raw.setdefault("checkpoint", {}), dict):
        raw["checkpoint"]["url"] = env["BRIEF_CHECKPOINT_URL"]
    email = raw.get("email")
    if isinstance(email, dict):
        if "password" in email:
            raise ConfigError("[email] password must not be in the config file: set it in the environment variable "
                              f"{email.get('password_env', 'BRIEF_SMTP_PASSWORD')} instead")
        secret = env.get(str(email.get("password_env", "BRIEF_SMTP_PASSWORD")))
        if secret:
            email["password"] = secret
