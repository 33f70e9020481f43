"""A scripted OpenAI-compatible HTTP server for tests, benchmarks and offline demos.

Why a server and not a fake chat model: langchain_core's fakes do not support
``with_structured_output``/``bind_tools``, and we want the *real* client path
(langchain-openai -> openai -> httpx) exercised: request shapes, usage accounting,
retries, timeouts and parse failures. Stdlib only, and no dependency on ``brief``.

    with ScriptedLLMServer(handlers={"ScreenBatch": fn}) as srv:
        llm = ChatOpenAI(base_url=srv.base_url, api_key="x", model="scripted", timeout=5, max_retries=0)

Run ``python tests/scripted_llm.py --port 8765 --labels labels.json`` for a manual demo.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import random
import signal
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any

try:  # as a module of the test suite, or run as a script from this directory (names re-exported)
    from tests.scripted_answers import PAPER_ID_RE, TOPIC_RES, Sloppy, labels_screen_handler  # noqa: F401
    from tests.scripted_faults import ERROR_KINDS, FAULT_KINDS, MALFORMED, Fault, random_faults  # noqa: F401
except ImportError:  # pragma: no cover - `python tests/scripted_llm.py`
    from scripted_answers import PAPER_ID_RE, TOPIC_RES, Sloppy, labels_screen_handler  # noqa: F401
    from scripted_faults import ERROR_KINDS, FAULT_KINDS, MALFORMED, Fault, random_faults  # noqa: F401


@dataclass
class ScriptedRequest:
    """A parsed request, given to handlers and recorded in ``srv.requests``.

    Indexing (``req["messages"]``) and ``get`` read the raw JSON body, so records can be used as bodies."""
    body: dict
    path: str
    attempt: int = -1
    schema_name: str | None = None
    schema: dict | None = None
    mode: str = "text"  # "json_schema" | "tools" | "json_object" | "text" | "embeddings"
    system: str = ""
    user: str = ""
    paper_ids: list[str] = field(default_factory=list)
    fault: str | None = None
    arrived: float = 0.0  # time.perf_counter() when the server admitted it: the waves of a run's calls

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)

    @property
    def prompt_chars(self) -> int:
        return sum(len(_text(m.get("content"))) for m in self.body.get("messages", []))

    @classmethod
    def parse(cls, body: dict, path: str, attempt: int = -1) -> ScriptedRequest:
        req = cls(body=body, path=path, attempt=attempt)
        by_role: dict[str, list[str]] = {}
        for m in body.get("messages", []):
            by_role.setdefault(m.get("role", ""), []).append(_text(m.get("content")))
        req.system = "\n".join(by_role.get("system", []) + by_role.get("developer", []))
        req.user = "\n".join(by_role.get("user", []))
        req.paper_ids = PAPER_ID_RE.findall(req.user)
        rf = body.get("response_format") or {}
        if rf.get("type") == "json_schema":
            js = rf.get("json_schema") or {}
            req.mode, req.schema_name, req.schema = "json_schema", js.get("name"), js.get("schema") or {}
        elif body.get("tools"):
            fns = [t.get("function", {}) for t in body["tools"]]
            choice = body.get("tool_choice")
            wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
            fn = next((f for f in fns if f.get("name") == wanted), fns[0])
            req.mode, req.schema_name, req.schema = "tools", fn.get("name"), fn.get("parameters") or {}
        elif rf.get("type") == "json_object":  # llama-cpp-python's server takes the schema here
            req.mode, req.schema = "json_object", rf.get("schema")
            req.schema_name = (req.schema or {}).get("title")
        return req


def _text(content: Any) -> str:
    """Message content is a string or a list of parts; keep the text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return ""


def schema_instance(schema: dict, root: dict | None = None, depth: int = 0) -> Any:
    """A minimal valid instance of a JSON schema (as pydantic emits them), for handler-less requests."""
    root = root if root is not None else schema
    if depth > 12:
        return None
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return schema_instance(node, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            opts = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return schema_instance(opts[0], root, depth + 1)
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if typ is None:
        typ = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if typ == "object":
        return {k: schema_instance(v, root, depth + 1) for k, v in schema.get("properties", {}).items()}
    if typ == "array":
        n = min(max(1, schema.get("minItems", 1)), schema.get("maxItems", 1_000_000))
        return [schema_instance(schema.get("items", {}), root, depth + 1) for _ in range(n)]
    if typ in ("integer", "number"):
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        step = 1 if typ == "integer" else 0.5
        if "minimum" in schema:
            v = schema["minimum"]
        else:
            v = 5 if lo is None else max(5, lo + step)
            v = v if hi is None else min(v, hi if "maximum" in schema else hi - step)
        return int(v) if typ == "integer" else float(v)
    if typ == "boolean":
        return True
    if typ == "null":
        return None
    return "x" * max(1, schema.get("minLength", 1))


def embed_text(text: str, dim: int = 64) -> list[float]:
    """Deterministic unit vector for a text (same text, same vector, across runs and processes)."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    v = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


class ScriptedLLMServer:
    """OpenAI-compatible server on 127.0.0.1 answering from handlers keyed by schema name.

    handlers: {schema_name: fn(ScriptedRequest) -> dict | str}; a str is sent raw (e.g. malformed JSON).
    default: fallback handler; without it, a minimal instance of the requested schema (or a text reply).
    faults: a list consumed one entry per chat attempt (Fault, kind str or None), or fn(attempt, req).
    latency: seconds from a chat request's arrival to its answer, the server's own work included (benchmarks).
    sloppy: a Sloppy (or True for its defaults): answers shaped like real models' (tests/scripted_answers.py).
    An answer longer than the request's max_tokens (~4 chars a token) is cut there, finish_reason "length",
    as every real server does (a cut tool call's: `cut_tool_call_finish`). `context_window`: a request whose
    prompt and max_tokens exceed it is refused with vLLM's 400. `prompt_window`: a longer prompt is read only up to
    it, as Ollama does, and answered all the same; its usage says how much was read."""

    def __init__(self, handlers: dict[str, Callable] | None = None, default: Callable | None = None,
                 faults: list | Callable | None = None, latency: float = 0.0, model: str = "scripted",
                 embedding_dim: int = 64, host: str = "127.0.0.1", port: int = 0, sloppy: Sloppy | bool = False,
                 cut_tool_call_finish: str = "length", reasoning_tokens: int = 0, context_window: int | None = None,
                 prompt_window: int | None = None):
        self.handlers, self.default, self.latency, self.model = dict(handlers or {}), default, latency, model
        self.cut_tool_call_finish = cut_tool_call_finish  # llama-cpp-python's server says "tool_calls"
        self.reasoning_tokens = reasoning_tokens  # a reasoning model's hidden tokens, within max_tokens
        self.context_window = context_window  # as vLLM's --max-model-len: a prompt plus max_tokens over it is refused
        self.prompt_window = prompt_window  # as Ollama's num_ctx: a longer prompt is cut to it, silently, and answered
        self.embedding_dim = embedding_dim
        self.sloppy = Sloppy() if sloppy is True else sloppy or None
        self._faults = list(faults) if isinstance(faults, (list, tuple)) else faults
        self._lock, self._stopping = threading.Lock(), threading.Event()
        self.requests: list[ScriptedRequest] = []
        self.errors: list[str] = []  # tracebacks of handler exceptions (answered with 500)
        self.calls = self.attempts = self.prompt_tokens = self.completion_tokens = 0
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedLLMServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True,
                                            name="scripted-llm")  # short poll: fast stop()
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending "slow"/latency sleeps are cut short."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _admit(self, body: dict, path: str) -> tuple[ScriptedRequest, Fault | None]:
        """Record a chat attempt and decide its fault; one lock so attempt indexes are unique."""
        with self._lock:
            req = ScriptedRequest.parse(body, path, attempt=self.attempts)
            req.arrived = time.perf_counter()
            self.attempts += 1
            self.requests.append(req)
            f = self._faults.pop(0) if isinstance(self._faults, list) and self._faults else None
        if callable(self._faults):
            f = self._faults(req.attempt, req)
        f = Fault(str(f)) if isinstance(f, (str, int)) else f
        req.fault = f.kind if f else None
        return req, f

    def _content(self, req: ScriptedRequest) -> str:
        fn = self.handlers.get(req.schema_name or "") or self.default
        if fn is not None:
            out = fn(req)
        elif req.schema is not None:
            out = schema_instance(req.schema)
        else:
            out = {} if req.mode == "json_object" else f"Scripted reply to {len(req.user)} chars."
        return out if isinstance(out, str) else json.dumps(out)

    def _count(self, req: ScriptedRequest, content: str) -> dict | None:
        """Usage of a 200 answer (~4 chars a token), added to the server's totals; None when the answer
        reports none (sloppy), and then the totals hold only what answers reported."""
        usage: dict = {"prompt_tokens": max(1, min(req.prompt_chars // 4, self.prompt_window or req.prompt_chars)),
                       "completion_tokens": max(1, len(content) // 4) + self.reasoning_tokens}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if self.reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        reported = not (self.sloppy and self.sloppy.drops_usage(req))
        with self._lock:
            self.calls += 1
            self.prompt_tokens += usage["prompt_tokens"] if reported else 0
            self.completion_tokens += usage["completion_tokens"] if reported else 0
        return usage if reported else None


def _make_handler(srv: ScriptedLLMServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers; every reply sets Content-Length
        # Headers and body go out as two writes: with Nagle on, the body waits for the client's delayed ACK
        # (~40 ms a call on Linux), a stall no real server adds.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload: Any, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)),
                         **(headers or {})}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [
                    {"id": srv.model, "object": "model", "created": 0, "owned_by": "scripted"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        def do_POST(self) -> None:
            self._arrived = time.perf_counter()
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.endswith("/chat/completions"):
                    self._chat(body)
                elif self.path.endswith("/embeddings"):
                    self._embeddings(body)
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout): nothing to answer
                self.close_connection = True
            except Exception:
                srv.errors.append(traceback.format_exc())
                self._send(500, {"error": {"message": srv.errors[-1], "type": "server_error"}})

        def _chat(self, body: dict) -> None:
            req, fault = srv._admit(body, self.path)
            if fault and fault.kind in ERROR_KINDS:
                return self._send(*fault.error(req.mode))
            if fault and fault.kind == "hang":  # accepts the request, never answers (until the server stops)
                return srv._sleep(3600)
            if fault and fault.kind in ("429", "500"):
                self._wait_latency()
                rate = fault.kind == "429"
                headers = {"retry-after": str(fault.retry_after),
                           "retry-after-ms": str(int(fault.retry_after * 1000))} if rate else {}
                return self._send(int(fault.kind), {"error": {
                    "message": "scripted fault", "type": "rate_limit_error" if rate else "server_error",
                    "code": "rate_limit_exceeded" if rate else None}}, headers)
            limit = body.get("max_tokens") or body.get("max_completion_tokens") or 0
            if srv.context_window and req.prompt_chars // 4 + int(limit) > srv.context_window:
                return self._send(400, {"error": {  # vLLM's words (0.6-0.20), with the numbers a client can act on
                    "message": f"This model's maximum context length is {srv.context_window} tokens. However, you "
                               f"requested {req.prompt_chars // 4 + int(limit)} tokens ({req.prompt_chars // 4} in the "
                               f"messages, {limit} in the completion). Please reduce the length of the messages or "
                               "completion.", "type": "BadRequestError", "param": None, "code": 400}})
            if srv.sloppy and srv.sloppy.rejects(req):
                return self._send(400, {"error": {"message": "response_format: Input should be 'text' or 'json_object'",
                                                  "type": "invalid_request_error", "code": None}})
            if fault and fault.kind == "drop":
                self._wait_latency()
                self.close_connection = True
                return
            if fault and fault.kind == "slow":
                srv._sleep(fault.seconds)
            content = fault.body if fault and fault.kind == "malformed" else srv._content(req)
            content = srv.sloppy.answer(req, content) if srv.sloppy else content
            finish = "stop"
            room = max(0, int(limit) - srv.reasoning_tokens) if limit else None
            if room is not None and len(content) > 4 * room:
                content, finish = content[:4 * room], "length"
            usage = srv._count(req, content)
            msg: dict = {"role": "assistant", "content": content, "refusal": None}
            if fault and fault.kind == "decline":
                msg.update(content=None, refusal="I'm sorry, I can't assist with that request.")
            if fault and fault.kind == "filtered":
                msg["content"], finish = "", "content_filter"
            if req.mode == "tools" and msg["content"]:
                msg["content"], finish = None, "tool_calls" if finish == "stop" else srv.cut_tool_call_finish
                msg["tool_calls"] = [{"id": f"call_{req.attempt}", "type": "function",
                                      "function": {"name": req.schema_name, "arguments": content}}]
            self._wait_latency()
            base = {"id": f"chatcmpl-scripted-{req.attempt}", "created": int(time.time()),
                    "model": body.get("model", srv.model), "system_fingerprint": None}
            if body.get("stream"):
                return self._stream(base, msg, finish, usage)
            self._send(200, {**base, "object": "chat.completion", **({"usage": usage} if usage else {}), "choices": [
                {"index": 0, "message": msg, "logprobs": None, "finish_reason": finish}]})

        def _wait_latency(self) -> None:
            """Answer `latency` seconds after the request arrived: the server's own work is part of it,
            as a remote model's is, so a benchmark's client-side overhead is all that is left over."""
            srv._sleep(srv.latency - (time.perf_counter() - self._arrived))

        def _stream(self, base: dict, msg: dict, finish: str, usage: dict) -> None:
            """SSE answer: role, the content (or tool call) in one delta, finish, then a usage chunk."""
            self.close_connection = True  # no Content-Length: the end of the stream is the connection close
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            delta = {"tool_calls": [{"index": 0, **msg["tool_calls"][0]}]} if "tool_calls" in msg \
                else {"content": msg["content"]}
            chunk = {**base, "object": "chat.completion.chunk"}
            for choices, extra in (([{"index": 0, "delta": {"role": "assistant", "content": ""},
                                      "finish_reason": None}], {}),
                                   ([{"index": 0, "delta": delta, "finish_reason": None}], {}),
                                   ([{"index": 0, "delta": {}, "finish_reason": finish}], {}),
                                   ([], {"usage": usage} if usage else {})):
                self.wfile.write(f"data: {json.dumps({**chunk, 'choices': choices, **extra})}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def _embeddings(self, body: dict) -> None:
            texts = body.get("input", [])
            texts = [texts] if isinstance(texts, str) or (texts and isinstance(texts[0], int)) else texts
            texts = [t if isinstance(t, str) else " ".join(map(str, t)) for t in texts]
            with srv._lock:
                srv.requests.append(ScriptedRequest(body=body, path=self.path, mode="embeddings"))
            dim = int(body.get("dimensions") or srv.embedding_dim)
            data = []
            for i, t in enumerate(texts):
                vec: Any = embed_text(t, dim)
                if body.get("encoding_format") == "base64":  # the openai client asks for this by default
                    vec = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode()
                data.append({"object": "embedding", "index": i, "embedding": vec})
            tokens = max(1, sum(len(t) for t in texts) // 4)
            self._send(200, {"object": "list", "data": data, "model": body.get("model", srv.model),
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    return Handler


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Scripted OpenAI-compatible server for demos.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--labels", help="JSON file {paper_id: relevance} answering the ScreenBatch schema")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--model", default="scripted")
    args = ap.parse_args(argv)
    # Started from a background job, a process inherits SIGINT ignored; "Ctrl-C to stop" must still stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    handlers = {}
    if args.labels:
        with open(args.labels) as f:
            handlers["ScreenBatch"] = labels_screen_handler(json.load(f))
    with ScriptedLLMServer(handlers=handlers, latency=args.latency, model=args.model, port=args.port) as srv:
        print(f"scripted LLM at {srv.base_url} (model {srv.model!r}); Ctrl-C to stop", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print(f"\n{srv.calls} calls, {srv.prompt_tokens} prompt + {srv.completion_tokens} completion tokens",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
