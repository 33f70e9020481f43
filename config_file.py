"""`brief.toml` (or, without one, the bundled demo config fitted to the bundled sample) read into `Settings`,
with the environment's overrides; and the other files a user names, read with one-line errors.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {loc}: {err['msg']}{more}") from None


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
