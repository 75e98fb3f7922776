"""A loopback HTTP server base for fakes of public APIs: records every request and injects faults.

    fake.fail("/api/v1/models/", Fault.status(429, retry_after="2"), times=1)

Faults apply to requests whose path starts with the given prefix, in the order added, each the
given number of times; then the fake answers normally. Every answer sets a cookie, so tests can
check that the client never sends one back.

Files: a route may answer `file_answer(data, request)` (a `Raw` body, with HTTP Range support: 206 with
Content-Range, 416 past the end); `Fault.cut(n)` sends a normal answer's headers but only its first n
body bytes, then closes the connection (an interrupted download). Subclasses that need the query or
the headers override `respond(request, body)`; the default calls `route(method, path, body)`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Raw:
    """A non-JSON answer body (a file), with its content type and extra headers."""

    body: bytes
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    kind: str  # status | timeout | html | huge | huge_unannounced | redirect | malformed | cut | drip
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    location: str = ""
    size: int = 0

    @classmethod
    def status_code(cls, status: int, retry_after: str | None = None) -> Fault:
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def timeout(cls, delay: float = 5.0) -> Fault:
        return cls("timeout", delay=delay)

    @classmethod
    def html(cls, status: int = 200) -> Fault:
        return cls("html", status=status)

    @classmethod
    def huge(cls, size: int, announced: bool = True) -> Fault:
        return cls("huge" if announced else "huge_unannounced", size=size)

    @classmethod
    def redirect(cls, location: str) -> Fault:
        return cls("redirect", status=302, location=location)

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def drip(cls, every: float) -> Fault:
        """The normal answer, announced in full, one byte every `every` seconds (each within any read timeout)."""
        return cls("drip", delay=every)

    @classmethod
    def cut(cls, after: int) -> Fault:
        """The normal answer, announced in full, but only its first `after` body bytes are sent."""
        return cls("cut", size=after)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]
    at: float  # time.monotonic() when the server read it

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def file_answer(data: bytes, request: Request, content_type: str = "application/octet-stream") -> tuple[int, Raw]:
    """A file, whole (200) or from a `Range: bytes=N-` / `bytes=N-M` request's offset (206; 416 past the end)."""
    wanted = request.headers.get("Range") or request.headers.get("range")
    size = len(data)
    if not wanted:
        return 200, Raw(data, content_type, {"Accept-Ranges": "bytes"})
    start_text, _, end_text = wanted.removeprefix("bytes=").partition("-")
    start = int(start_text)
    if start >= size:
        return 416, Raw(b"", content_type, {"Content-Range": f"bytes */{size}"})
    end = min(int(end_text), size - 1) if end_text else size - 1
    return 206, Raw(data[start : end + 1], content_type,
                    {"Content-Range": f"bytes {start}-{end}/{size}", "Accept-Ranges": "bytes"})


CHALLENGE_PAGE = ("<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
                  "<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>")


@dataclass
class _Pending:
    prefix: str
    fault: Fault
    times: int


class LoopbackApi:
    """Subclasses implement `route(method, path, body) -> (status, payload)`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.handling_ms: list[float] = []  # the server's own time per request, for benchmarks
        self._faults: list[_Pending] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def fail(self, prefix: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.append(_Pending(prefix, fault, times))

    def __enter__(self) -> LoopbackApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def respond(self, request: Request, body: Any) -> tuple[int, Any]:
        """The answer to one request: (status, JSON payload or Raw)."""
        return self.route(request.method, request.path, body)

    def take_handling_ms(self) -> list[float]:
        with self._lock:
            taken, self.handling_ms = self.handling_ms, []
        return taken

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for pending in self._faults:
                if path.startswith(pending.prefix) and pending.times > 0:
                    pending.times -= 1
                    return pending.fault
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at shutdown

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_one_request(self) -> None:
                started = time.perf_counter()
                super().handle_one_request()
                with fake._lock:
                    fake.handling_ms.append((time.perf_counter() - started) * 1000)

            def _send(self, status: int, raw: bytes, content_type: str = "application/json",
                      extra: dict[str, str] | None = None, length: bool = True, cut: int | None = None,
                      drip: float = 0.0) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    if length:
                        self.send_header("Content-Length", str(len(raw)))
                    self.send_header("Set-Cookie", "__cf_bm=tracking; Path=/; HttpOnly")
                    for key, value in (extra or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    if drip:
                        for i in range(len(raw)):
                            if fake._closing.wait(drip):
                                return
                            self.wfile.write(raw[i:i + 1])
                            self.wfile.flush()
                        return
                    self.wfile.write(raw if cut is None else raw[:cut])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout, size cap)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(method, parts.path, parse_qs(parts.query), body,
                                  {k: v for k, v in self.headers.items()}, time.monotonic())
                with fake._lock:
                    fake.requests.append(request)
                fault = fake._take_fault(parts.path)
                if fault is not None and fault.kind not in ("cut", "drip") and self._fault(fault):
                    return
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    self._send(400, json.dumps({"error": "Invalid JSON"}).encode())
                    return
                status, payload = fake.respond(request, parsed)
                cut = fault.size if fault is not None and fault.kind == "cut" else None
                drip = fault.delay if fault is not None and fault.kind == "drip" else 0.0
                if isinstance(payload, Raw):
                    self._send(status, payload.body, payload.content_type, payload.headers, cut=cut, drip=drip)
                else:
                    self._send(status, json.dumps(payload).encode(), cut=cut, drip=drip)

            def _fault(self, fault: Fault) -> bool:
                """Answer with the fault; False when it only delays and the normal answer follows."""
                if fault.kind == "status":
                    extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
                    self._send(fault.status, json.dumps({"error": f"status {fault.status}"}).encode(), extra=extra)
                elif fault.kind == "timeout":
                    fake._closing.wait(fault.delay)
                    return fake._closing.is_set()
                elif fault.kind == "html":
                    self._send(fault.status, CHALLENGE_PAGE.encode(), "text/html; charset=UTF-8")
                elif fault.kind in ("huge", "huge_unannounced"):
                    raw = json.dumps({"padding": "x" * fault.size}).encode()
                    self._send(200, raw, length=fault.kind == "huge")
                elif fault.kind == "redirect":
                    self._send(fault.status, b"", extra={"Location": fault.location})
                elif fault.kind == "malformed":
                    self._send(200, b'{"id": 1, "files": [', "application/json")
                else:
                    raise ValueError(fault.kind)
                return True

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        return Handler


class Recorder(LoopbackApi):
    """A host nobody should ever reach (the target of a foreign redirect): it only records."""

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        return 200, {"ok": True}


class FileServer(LoopbackApi):
    """A storage host that downloads are redirected to (a CDN): serves `files` by path, with Range."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        super().__init__()
        self.files = dict(files or {})

    def __enter__(self) -> FileServer:
        super().__enter__()
        return self

    def respond(self, request: Request, body: Any) -> tuple[int, Any]:
        data = self.files.get(request.path)
        return file_answer(data, request) if data is not None else (404, {"error": "Not found"})
