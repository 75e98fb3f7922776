"""A loopback fake of the Ollama HTTP API (GET /api/tags, POST /api/chat) for tests.

    with FakeOllama(models=["llama3.2:latest"], replies=[Reply.answer({...})]) as fake:
        analyze(..., OllamaSettings(host=fake.url))
        fake.chat_requests  # the JSON bodies /api/chat received

Chat replies are used in order; the last one repeats. Like Ollama, a chat for a model that is
not installed gets 404 {"error": ...}, and a chat without "stream": false gets NDJSON. The HTTP side
(request log, handling times, faults) is tests/fakes/loopback.py's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from fakes.loopback import LoopbackApi, Raw, Request


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


class FakeOllama(LoopbackApi):
    def __init__(
        self, models: list[str] | None = None, replies: list[Reply] | None = None, tags_error: Reply | None = None
    ) -> None:
        super().__init__()
        self.models = list(models) if models is not None else ["llama3.2:latest"]
        self.replies = list(replies) if replies else [Reply.fail(500, "no reply configured")]
        self.tags_error = tags_error

    @property
    def chat_requests(self) -> list[Any]:
        return [r.json() for r in self.requests if r.path == "/api/chat"]

    def __enter__(self) -> FakeOllama:
        super().__enter__()
        return self

    def _installed(self, model: str) -> bool:
        return model in self.models or f"{model}:latest" in self.models

    def _next_reply(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def respond(self, request: Request, body: Any) -> tuple[int, Any]:
        not_found = (404, Raw(b"404 page not found", "text/plain"))
        if request.method == "GET":
            if request.path == "/api/version":
                return 200, {"version": "0.12.6"}
            if request.path != "/api/tags":
                return not_found
            if self.tags_error is not None:
                return self.tags_error.status, {"error": self.tags_error.error}
            return 200, {"models": [_tag(m) for m in self.models]}
        body = body if isinstance(body, dict) else {}
        if request.path == "/api/show":
            name = str(body.get("model", ""))
            if self._installed(name):
                return 200, {"details": _tag(name)["details"], "capabilities": ["completion"]}
            return 404, {"error": f"model '{name}' not found"}
        if request.path == "/api/embed":
            texts = body.get("input") if isinstance(body.get("input"), list) else [body.get("input", "")]
            vectors = [[(hash(str(t)) % 1000) / 1000.0, len(str(t)) / 100.0, 0.5] for t in texts]
            return 200, {"model": body.get("model"), "embeddings": vectors}
        if request.path != "/api/chat":
            return not_found
        return self._chat(body)

    def _chat(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = str(body.get("model", ""))
        if not self._installed(model):
            return 404, {"error": f'model "{model}" not found, try pulling it first'}
        reply = self._next_reply()
        if reply.delay and self._closing.wait(reply.delay):
            return 503, {"error": "shutting down"}
        if reply.status != 200:
            return reply.status, {"error": reply.error}
        if reply.stream_error:
            start = {"model": model, "message": {"role": "assistant", "content": "{"}, "done": False}
            lines = json.dumps(start) + "\n" + json.dumps({"error": reply.error or "model crashed"}) + "\n"
            return 200, Raw(lines.encode(), "application/x-ndjson")
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
            return 200, answer
        # Ollama streams by default: NDJSON, here as a single final chunk.
        return 200, Raw((json.dumps(answer) + "\n").encode(), "application/x-ndjson")
