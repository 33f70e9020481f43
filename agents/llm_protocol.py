"""How a structured answer is asked for and read back, per structured-output method, and where the client keeps
what it learned about a server (the negotiated method) and what a run has paid (the spend ledger).

Methods, most to least constrained: `json_schema` (response_format json_schema, OpenAI, vLLM, llama-server,
Ollama), `function_calling` (a forced tool call), `json_object` (response_format json_object with the schema,
which llama-cpp-python's server enforces), `text` (instructions only; the JSON is read out of the reply).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import sqlite3
import threading
import time
import typing
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.utils.function_calling import convert_to_openai_function
from pydantic import BaseModel

if TYPE_CHECKING:
    from brief.models import Paper

METHODS = ("json_schema", "function_calling", "json_object", "text")
STATE_FILE = "llm-state.sqlite"
T = TypeVar("T")
# A preflight that passed is trusted this long for the same endpoint, model and key: re-running a week at once
# makes no call at all. A weekly cron run always checks (a key revoked or a quota spent in between still ends
# at preflight); within the hour such a fault trips the breaker on the first call instead (exit 3, labelled).
PREFLIGHT_TRUSTED_SECONDS = 3600


log = logging.getLogger(__name__)

def openai_schema(schema: type[BaseModel]) -> dict:
    """{"name", "description", "parameters"} as langchain sends it for tools and json_schema, less the class
    docstrings (pydantic makes them descriptions): they are notes for readers of the code, not instructions, and
    would go with every request. Field descriptions, written for the model, stay. Built once per class (a fresh
    copy each call: callers narrow it)."""
    return json.loads(_function_text(schema))


def _docstrings(schema: type[BaseModel], seen: frozenset[type] = frozenset()) -> set[str]:
    """The cleaned docstrings of `schema` and of every model its fields hold (as pydantic puts them in a schema)."""
    notes = {inspect.cleandoc(schema.__doc__)} if "__doc__" in vars(schema) and schema.__doc__ else set()
    for field in schema.model_fields.values():
        for kind in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in seen | {schema}:
                notes |= _docstrings(kind, seen | {schema})
    return notes


def _without(node: Any, notes: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, notes) for k, v in node.items() if not (k == "description" and isinstance(v, str) and v in notes)}
    return [_without(v, notes) for v in node] if isinstance(node, list) else node


@functools.lru_cache(maxsize=32)
def _function_text(schema: type[BaseModel]) -> str:
    return json.dumps(_without(convert_to_openai_function(schema), _docstrings(schema)))


REASON_CHARS = 300  # a verdict's reason, "one short sentence", in the request's schema


def one_verdict_each(schema: type[BaseModel], ids: list[str], **enums: list[str]) -> dict:
    """`schema`'s function schema (a model whose `results` lists verdicts) narrowed to one verdict for each of
    `ids`: each verdict's `id` one of them, `enums` fixing other fields' values, exactly len(ids) verdicts. A server
    that decodes under it (llama.cpp's grammars, strict OpenAI) can't invent an id or skip one; answers are still
    validated by `schema` itself, as leniently. Built from `schema`'s own once, not a model class per call: a
    batch's client work is on the critical path of every round of calls."""
    fn = openai_schema(schema)
    results = fn["parameters"]["properties"]["results"]
    fields = results["items"]["properties"]
    for name, values in {"id": ids, **enums}.items():
        fields[name]["enum"] = list(values)
    results["minItems"] = results["maxItems"] = len(ids)
    # A weak model can run on inside its reason until max_tokens and lose the verdict (SmolLM2 wrote 900 tokens
    # of echoed prompt there); a server that decodes under the schema closes it here. The answer is still read
    # without this bound, and a non-strict OpenAI schema takes it as a hint.
    fields["reason"]["maxLength"] = REASON_CHARS
    return fn


_ID_NOISE = re.compile(r"^(?:https?://)?(?:www\.)?(?:export\.)?(?:arxiv\.org/(?:abs|pdf)/)?(?:arxiv\s*:\s*)?", re.IGNORECASE)


def norm_id(answer: str) -> str:
    """An id as models write it, reduced to the bare form: `arXiv:2606.01234v2`, a URL, spaces → `2606.01234`."""
    text = "".join(str(answer).split()).strip("\"'[]()<>.,;")
    text = _ID_NOISE.sub("", text)
    text = re.sub(r"\.pdf$", "", text, flags=re.IGNORECASE)
    return re.sub(r"v\d+$", "", text).lower()


_INDEX = re.compile(r"^(?:paper\s*|#\s*|no\.?\s*)?(\d{1,3})\.?$", re.IGNORECASE)


def match_ids(answers: list[str], batch: list[Paper]) -> list[str | None]:
    """The batch paper each answered id names, or None: exact, normalised, or its number in the batch. When
    no id names a paper but there is one verdict per paper, they are read in the batch's order: weak models
    keep the order of the papers but garble every id."""
    exact = {p.id: p.id for p in batch}
    normal = {norm_id(p.id): p.id for p in batch}
    found: list[str | None] = []
    for answer in answers:
        hit = exact.get(answer) or normal.get(norm_id(answer))
        index = _INDEX.match(str(answer).strip())
        if hit is None and index and 1 <= int(index.group(1)) <= len(batch):
            hit = batch[int(index.group(1)) - 1].id
        found.append(hit)
    if len(answers) == len(batch) and not any(found):
        return [p.id for p in batch]
    return found


def answer_room(cfg, stage: str, tokens_each: int) -> int:
    """How many answers of `tokens_each` tokens one call of `stage` has room for within `[llm] max_tokens`."""
    limits = getattr(cfg, "max_tokens", None) or {}
    return max(1, int(limits.get(stage, limits.get("default", 1000))) // tokens_each)


def pack(items: list[T], step: int, window: float | None, fixed: float, cost: Callable[[T], float]) -> list[list[T]]:
    """`items` in order, up to `step` a batch, and (with a `window`) a new batch wherever the next item's `cost`
    would take the batch's tokens, `fixed` for what every call carries, past the window."""
    if not window:
        return [items[i:i + step] for i in range(0, len(items), step)]
    out: list[list[T]] = []
    used = fixed
    for item in items:
        each = cost(item)
        if not out or len(out[-1]) >= step or used + each > window:
            out.append([])
            used = fixed
        out[-1].append(item)
        used += each
    return out


def verdicts_problem(answer: Any, ids: list[str], complete: bool = True) -> str | None:
    """What makes an answer of one verdict per id (`answer.results`, each with an `id` and a `reason`) unusable:
    a verdict for an id not asked about, two for one id, an empty reason, no verdict at all, or (when `complete`)
    an id left out."""
    asked = {norm_id(i) for i in ids}
    answered = [norm_id(v.id) for v in answer.results]
    if stray := [i for i in answered if i not in asked]:
        return f"verdicts for ids not asked about: {', '.join(stray[:3])}"
    if twice := sorted({i for i in answered if answered.count(i) > 1}):
        return f"two verdicts for {', '.join(twice[:3])}"
    if (missing := asked - set(answered)) and (complete or not answered):
        return f"no verdict for {', '.join(sorted(missing)[:3])}"
    if any(not v.reason.strip() for v in answer.results):
        return "a verdict without its reason"
    return None


def bind_kwargs(method: str, schema: type[BaseModel], wire: dict | None = None) -> dict[str, Any]:
    """The request fields (beyond messages) that ask for `schema` by `method`; `wire`: the function schema
    ({"name", "description", "parameters"}) to send instead of `schema`'s own (a narrower one, e.g. one batch's ids)."""
    fn = wire or openai_schema(schema)
    if method == "json_schema":
        described = {"description": fn["description"]} if fn.get("description") else {}
        return {"response_format": {"type": "json_schema", "json_schema": {
            "name": fn["name"], **described, "schema": fn["parameters"], "strict": False}}}
    if method == "function_calling":
        tool = {"type": "function", "function": fn}
        return {"tools": [tool], "tool_choice": {"type": "function", "function": {"name": fn["name"]}}}
    if method == "json_object":
        return {"response_format": {"type": "json_object", "schema": {"title": fn["name"], **fn["parameters"]}}}
    return {}


def schema_instruction(method: str, schema: type[BaseModel], wire: dict | None = None) -> str:
    """Appended to the system prompt where the request itself doesn't carry the schema as a constraint."""
    if method in ("json_schema", "function_calling"):
        return ""
    fields = json.dumps((wire or openai_schema(schema))["parameters"], separators=(",", ":"))
    return f"\n\nAnswer with one JSON object only, matching this JSON schema: {fields}"


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, a fenced block, or the outermost {...}. Raises ValueError."""
    text = text.strip()
    candidates = [text, *_FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (json.JSONDecodeError, ValueError):
            continue
    raise ValueError("no JSON object in the reply")


class AnswerCutShort(ValueError):
    """The server stopped the answer at `max_tokens` (finish_reason "length") and what came is unreadable."""

    def __init__(self, stage: str, max_tokens: int, reasoning: int = 0, window: bool = False):
        spent = f", {reasoning} of them the model's reasoning" if reasoning else ""
        fix = (f"[llm] max_tokens.{stage} gives it more room" if not window else
               "all the server's context window left after the prompt: a larger window, or a smaller [llm] batch_size")
        super().__init__(f"answer cut short at {max_tokens} tokens{spent} ({fix})")


class AnswerDeclined(ValueError):
    """No answer but a refusal: the model's own, or the server's content filter."""


def read_reply(method: str, message, schema: type[BaseModel], stage: str, max_tokens: int, window: bool = False) -> Any:
    """`read_answer`, and when the reply can't be read, why: cut at `max_tokens` (`window`: all the server's
    window left), or declined. A cut answer that still reads (a JSON object, then padding up to the limit) is
    taken as it is."""
    try:
        return read_answer(method, message, schema)
    except ValueError:
        # llama-cpp-python's server reports a tool call it cut as finish_reason "tool_calls": its usage tells
        usage = getattr(message, "usage_metadata", None) or {}
        used = int(usage.get("output_tokens", 0))
        finish = (getattr(message, "response_metadata", None) or {}).get("finish_reason")
        if finish == "length" or used >= max_tokens:
            reasoning = int((usage.get("output_token_details") or {}).get("reasoning") or 0)
            raise AnswerCutShort(stage, max_tokens, reasoning, window) from None
        refusal = (getattr(message, "additional_kwargs", None) or {}).get("refusal")
        if refusal:
            raise AnswerDeclined(f"the model declined: {str(refusal)[:200]}") from None
        if finish == "content_filter":
            raise AnswerDeclined("the server's content filter stopped the answer") from None
        raise


def stopped_answer(completion) -> Any:
    """The reply of a completion the server stopped (at max_tokens, or by its content filter), as the message
    ChatOpenAI would have returned: its json_schema parser raises on these instead."""
    from langchain_core.messages import AIMessage  # loaded with ChatOpenAI, which made the call

    choice = completion.choices[0] if completion is not None and completion.choices else None
    usage = getattr(completion, "usage", None)
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) or 0
    return AIMessage(content=(choice.message.content or "") if choice else "",
                     response_metadata={"finish_reason": choice.finish_reason if choice else "content_filter"},
                     usage_metadata={"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                                     "total_tokens": usage.total_tokens,
                                     "output_token_details": {"reasoning": reasoning}} if usage else None)


def read_answer(method: str, message, schema: type[BaseModel]) -> Any:
    """The structured answer `message` (an AIMessage) carries, as a plain value (validated by the caller)."""
    if method == "function_calling":
        if message.tool_calls:
            return message.tool_calls[0]["args"]
        if message.invalid_tool_calls:
            return extract_json(message.invalid_tool_calls[0].get("args") or "")
        raise ValueError("no tool call in the reply")
    content = message.content if isinstance(message.content, str) else "".join(
        p.get("text", "") if isinstance(p, dict) else str(p) for p in message.content)
    return extract_json(content)


class ClientState:
    """`llm-state.sqlite` in the data dir: the negotiated method per endpoint + model, and the spend ledger
    (each response's cost, by run), which lets `--max-cost` and the report count what killed processes of the
    same run paid. Opened on first use: a preflight that fails leaves no file behind."""

    def __init__(self, path: Path | None):
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._ledger_failed = False

    def _conn(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS methods (endpoint TEXT, model TEXT, method TEXT, "
                             "checked REAL, PRIMARY KEY (endpoint, model))")
            self._db.execute("CREATE TABLE IF NOT EXISTS preflights (endpoint TEXT, model TEXT, key TEXT, method TEXT, "
                             "at REAL, PRIMARY KEY (endpoint, model, key))")
            self._db.execute("CREATE TABLE IF NOT EXISTS spend (run TEXT, calls INTEGER, input_tokens INTEGER, "
                             "output_tokens INTEGER, cost REAL, at REAL)")
            self._db.commit()
        return self._db

    def method(self, endpoint: str, model: str) -> str | None:
        with self._lock:
            db = self._conn() if self.path is not None and self.path.exists() else None
            row = db.execute("SELECT method FROM methods WHERE endpoint = ? AND model = ?",
                             (endpoint, model)).fetchone() if db else None
        return row[0] if row and row[0] in METHODS else None

    def remember_method(self, endpoint: str, model: str, method: str) -> None:
        with self._lock:
            db = self._conn()
            if db is not None:
                db.execute("INSERT OR REPLACE INTO methods VALUES (?, ?, ?, ?)", (endpoint, model, method, time.time()))
                db.commit()

    def trusted_preflight(self, endpoint: str, model: str, key: str) -> str | None:
        """The method of a preflight that passed for this endpoint, model and key (a fingerprint, never the key)
        within PREFLIGHT_TRUSTED_SECONDS, or None."""
        with self._lock:
            db = self._conn() if self.path is not None and self.path.exists() else None
            row = db.execute("SELECT method, at FROM preflights WHERE endpoint = ? AND model = ? AND key = ?",
                             (endpoint, model, key)).fetchone() if db else None
        if row is None or row[0] not in METHODS or not 0 <= time.time() - row[1] < PREFLIGHT_TRUSTED_SECONDS:
            return None
        return row[0]

    def remember_preflight(self, endpoint: str, model: str, key: str, method: str) -> None:
        with self._lock:
            db = self._conn()
            if db is not None:
                db.execute("INSERT OR REPLACE INTO preflights VALUES (?, ?, ?, ?, ?)", (endpoint, model, key, method, time.time()))
                db.commit()

    def record_spend(self, run: str, input_tokens: int, output_tokens: int, cost: float) -> None:
        """Never fatal: the process still counts what it paid; only a later resume would miss this call."""
        with self._lock:
            try:
                db = self._conn()
                if db is not None:
                    db.execute("INSERT INTO spend VALUES (?, 1, ?, ?, ?, ?)",
                               (run, input_tokens, output_tokens, cost, time.time()))
                    db.commit()
            except (sqlite3.Error, OSError) as exc:
                if not self._ledger_failed:
                    log.warning("the spend ledger %s can't be written (%s): a resumed run won't count this process's "
                                "calls against --max-cost", self.path, exc)
                self._ledger_failed = True

    def spent(self, run: str) -> tuple[int, int, int, float]:
        """(calls, input tokens, output tokens, USD) the run's processes have paid so far."""
        with self._lock:
            db = self._conn()
            row = db.execute("SELECT COALESCE(SUM(calls),0), COALESCE(SUM(input_tokens),0), COALESCE(SUM(output_tokens),0),"
                             " COALESCE(SUM(cost),0) FROM spend WHERE run = ?", (run,)).fetchone() if db else (0, 0, 0, 0.0)
        return int(row[0]), int(row[1]), int(row[2]), float(row[3])

    def forget_run(self, run: str) -> None:
        with self._lock:
            db = self._conn()
            if db is not None:
                # and what finished runs paid more than 30 days ago: a ledger, not an archive
                db.execute("DELETE FROM spend WHERE run = ? OR at < ?", (run, time.time() - 30 * 86400))
                db.commit()
