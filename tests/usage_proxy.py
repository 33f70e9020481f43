"""A tiny HTTP proxy in front of a real OpenAI-compatible server that adds up the `usage` of every chat answer.

Tests compare those sums with brief's usage table: what the server said it used is what the report counts.
Stdlib only. `python tests/usage_proxy.py UPSTREAM_URL PORT` runs it standalone, printing the sums after every chat request.
"""
from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class UsageProxy:
    def __init__(self, upstream: str, port: int = 0, verbose: bool = False):
        self.upstream = upstream.rstrip("/")
        self.verbose = verbose
        self.lock = threading.Lock()
        self.chat_requests = 0
        self.answers = 0  # 200 answers carrying usage
        self.prompt_tokens = self.completion_tokens = 0
        self.statuses: list[int] = []
        self.replies: list[str] = []  # what each 200 answer said: its content and tool-call arguments
        self.gone = False  # see go_away
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> UsageProxy:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def go_away(self) -> None:
        """Act as a server that died: no new connections, and a request on a connection kept alive is dropped
        unanswered."""
        self.gone = True
        self.__exit__()

    def record(self, path: str, status: int, body: bytes) -> None:
        if not path.endswith("/chat/completions"):
            return
        with self.lock:
            self.chat_requests += 1
            self.statuses.append(status)
            if status == 200:
                answer = json.loads(body)
                usage = answer.get("usage") or {}
                self.replies.append(_reply_text(answer))
                self.answers += 1
                self.prompt_tokens += int(usage.get("prompt_tokens", 0))
                self.completion_tokens += int(usage.get("completion_tokens", 0))
            if self.verbose:  # standalone: the running sums after every chat request, one JSON line
                print(json.dumps(self.sums()), flush=True)

    def sums(self) -> dict:
        return {"chat_requests": self.chat_requests, "answers": self.answers, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "statuses": self.statuses}


def _reply_text(answer: dict) -> str:
    message = (answer.get("choices") or [{}])[0].get("message") or {}
    calls = [c.get("function", {}).get("arguments") or "" for c in message.get("tool_calls") or []]
    return "\n".join([message.get("content") or "", *calls])


def _handler(proxy: UsageProxy) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _forward(self, data: bytes | None) -> None:
            if proxy.gone:
                self.close_connection = True
                return
            url = proxy.upstream + self.path.removeprefix("/v1")
            req = urllib.request.Request(url, data=data, method=self.command,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=3600) as resp:
                    status, body = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read()
            proxy.record(self.path, status, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                self.close_connection = True

        def do_GET(self) -> None:
            self._forward(None)

        def do_POST(self) -> None:
            self._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    return Handler


if __name__ == "__main__":
    with UsageProxy(sys.argv[1], int(sys.argv[2]), verbose=True) as p:
        print(f"proxy {p.base_url} → {p.upstream}", file=sys.stderr, flush=True)
        threading.Event().wait()
