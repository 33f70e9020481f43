"""A local stand-in for arXiv's API (or any feed) in source tests: a server on 127.0.0.1 whose GETs are
answered by a function of the request's path, each path recorded so a test can check what the client
asked; Atom result pages built from entries; and a scripted API that pages through entries with faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Respond = Callable[[str], tuple[int, bytes]]  # request path → (HTTP status, body)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        status, body = self.server.respond(self.path)  # type: ignore[attr-defined]
        try:
            self.send_response(status)
            self.send_header("Content-Type", self.server.content_type)  # type: ignore[attr-defined]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (deadline tests)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve_with(handler: type[BaseHTTPRequestHandler], **attrs: object) -> Iterator[ThreadingHTTPServer]:
    """A server on 127.0.0.1 (a free port) running `handler`, with `attrs` set on it, shut down on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in attrs.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def serve(respond: Respond, content_type: str = "application/atom+xml"):
    """A server answering every GET with `respond(path)`; `server.paths` lists the requests' paths."""
    return serve_with(_Handler, respond=respond, content_type=content_type, paths=[])


def url_format(server: ThreadingHTTPServer) -> str:
    """An `ArxivClient.query_url_format` that sends the client's queries to `server`."""
    return f"http://127.0.0.1:{server.server_address[1]}/api/query?{{}}"


def queries(server: ThreadingHTTPServer) -> list[dict[str, list[str]]]:
    """The query string of each request `server` answered, parsed."""
    return [parse_qs(urlsplit(path).query) for path in server.paths]  # type: ignore[attr-defined]


def atom_feed(entries: list[bytes], total: int | None = None, start: int = 0) -> bytes:
    """An arXiv API result page holding `entries` (Atom <entry> elements), `start` into `total` results."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">'
        b"<title>arXiv Query</title><id>https://arxiv.org/api/x</id><updated>2026-06-20T00:00:00Z</updated>"
    )
    total = len(entries) if total is None else total
    counters = f"<opensearch:totalResults>{total}</opensearch:totalResults><opensearch:startIndex>{start}"
    counters += f"</opensearch:startIndex><opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>"
    return head + counters.encode() + b"".join(entries) + b"</feed>"


class Scripted:
    """Serves `entries` as a result set of len(entries), with faults scripted per request number: "503",
    "slow" (1 s before answering) or "empty" (a page without entries; also every page starting in `empty_at`)."""

    def __init__(self, entries: list[bytes], faults: dict[int, str] | None = None, empty_at: set[int] = frozenset()):
        self.entries, self.faults, self.empty_at, self.count = entries, faults or {}, empty_at, 0

    def __call__(self, path: str) -> tuple[int, bytes]:
        self.count += 1
        query = parse_qs(urlsplit(path).query)
        start, size = int(query["start"][0]), int(query["max_results"][0])
        fault = self.faults.get(self.count)
        if fault == "503":
            return 503, b"<html>Service Unavailable</html>"
        if fault == "slow":
            time.sleep(1.0)
        if fault == "empty" or start in self.empty_at:
            return 200, atom_feed([], len(self.entries), start)
        return 200, atom_feed(self.entries[start : start + size], len(self.entries), start)
