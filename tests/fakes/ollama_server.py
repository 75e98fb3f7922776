"""A loopback fake of the Ollama HTTP API (GET /api/tags, POST /api/chat) for tests.

    with FakeOllama(models=["llama3.2:latest"], replies=[Reply.answer({...})]) as fake:
        analyze(..., OllamaSettings(host=fake.url))
        fake.chat_requests  # the JSON bodies /api/chat received

Chat replies are used in order; the last one repeats. Like Ollama, a chat for a model that is
not installed gets 404 {"error": ...}, and a chat without "stream": false gets NDJSON.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One answer to /api/chat: message content, or an error status with Ollama's {"error": ...} body."""

    content: str = ""
    status: int = 200
    error: str = ""
    delay: float = 0.0  # seconds before answering, to provoke a read timeout
    stream_error: bool = False  # status 200, then an {"error": ...} line, as Ollama does mid-stream

    @classmethod
    def answer(cls, data: Any, delay: float = 0.0) -> Reply:
        return cls(content=json.dumps(data), delay=delay)

    @classmethod
    def fail(cls, status: int, error: str) -> Reply:
        return cls(status=status, error=error)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any


def _tag(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-01-01T00:00:00.000000000Z",
        "size": 2_019_393_189,
        "digest": hashlib.sha256(name.encode()).hexdigest(),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
    }


class FakeOllama:
    def __init__(
        self, models: list[str] | None = None, replies: list[Reply] | None = None, tags_error: Reply | None = None
    ) -> None:
        self.models = list(models) if models is not None else ["llama3.2:latest"]
        self.replies = list(replies) if replies else [Reply.fail(500, "no reply configured")]
        self.tags_error = tags_error
        self.requests: list[Request] = []
        self.handling_ms: list[float] = []  # the server's own time per request, for benchmarks
        self._lock = threading.Lock()
        self._closing = threading.Event()  # wakes delayed handlers at shutdown
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def chat_requests(self) -> list[Any]:
        return [r.body for r in self.requests if r.path == "/api/chat"]

    def __enter__(self) -> FakeOllama:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def take_handling_ms(self) -> list[float]:
        with self._lock:
            taken, self.handling_ms = self.handling_ms, []
        return taken

    def _installed(self, model: str) -> bool:
        return model in self.models or f"{model}:latest" in self.models

    def _next_reply(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at shutdown

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
                if isinstance(payload, (bytes, str)):
                    raw = payload.encode() if isinstance(payload, str) else payload
                else:
                    raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (read timeout)

            def handle_one_request(self) -> None:
                started = time.perf_counter()
                super().handle_one_request()
                with fake._lock:
                    fake.handling_ms.append((time.perf_counter() - started) * 1000)

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(Request("GET", self.path, None))
                if self.path == "/api/version":
                    self._send(200, {"version": "0.12.6"})
                elif self.path != "/api/tags":
                    self._send(404, "404 page not found", "text/plain")
                elif fake.tags_error is not None:
                    self._send(fake.tags_error.status, {"error": fake.tags_error.error})
                else:
                    self._send(200, {"models": [_tag(m) for m in fake.models]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with fake._lock:
                    fake.requests.append(Request("POST", self.path, body))
                if self.path == "/api/show":
                    name = str(body.get("model", ""))
                    if fake._installed(name):
                        self._send(200, {"details": _tag(name)["details"], "capabilities": ["completion"]})
                    else:
                        self._send(404, {"error": f"model '{name}' not found"})
                    return
                if self.path == "/api/embed":
                    texts = body.get("input") if isinstance(body.get("input"), list) else [body.get("input", "")]
                    vectors = [[(hash(str(t)) % 1000) / 1000.0, len(str(t)) / 100.0, 0.5] for t in texts]
                    self._send(200, {"model": body.get("model"), "embeddings": vectors})
                    return
                if self.path != "/api/chat":
                    self._send(404, "404 page not found", "text/plain")
                    return
                model = str(body.get("model", ""))
                if not fake._installed(model):
                    self._send(404, {"error": f'model "{model}" not found, try pulling it first'})
                    return
                reply = fake._next_reply()
                if reply.delay and fake._closing.wait(reply.delay):
                    return  # shutting down
                if reply.status != 200:
                    self._send(reply.status, {"error": reply.error})
                    return
                if reply.stream_error:
                    start = {"model": model, "message": {"role": "assistant", "content": "{"}, "done": False}
                    lines = json.dumps(start) + "\n" + json.dumps({"error": reply.error or "model crashed"}) + "\n"
                    self._send(200, lines, "application/x-ndjson")
                    return
                answer = {
                    "model": model,
                    "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                    "message": {"role": "assistant", "content": reply.content},
                    "done": True,
                    "done_reason": "stop",
                    "total_duration": 1_000_000,
                    "eval_count": 1,
                }
                if body.get("stream", True) is False:
                    self._send(200, answer)
                else:  # Ollama streams by default: NDJSON, here as a single final chunk
                    self._send(200, json.dumps(answer) + "\n", "application/x-ndjson")

        return Handler
