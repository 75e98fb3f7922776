"""Prompt analysis by a local Ollama LLM, with schema-constrained JSON, falling back to keywords.

Any failure (no server, missing model, busy, timeout, invalid JSON) ends in the
keyword analysis with the reason recorded: analysis never blocks generation.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from .analysis import CONTENT_WORDS, STYLE_PARAMETERS, PromptAnalysis, analyze_keywords
from .vocabulary import STYLES

log = logging.getLogger(__name__)

DEFAULT_HOST = "http://127.0.0.1:11434"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "style": {"type": "string", "enum": sorted(STYLES)},
        "content_type": {"type": "string", "enum": sorted(CONTENT_WORDS)},
        "concepts": {"type": "array", "items": {"type": "string"}, "maxItems": 12},
    },
    "required": ["style", "content_type", "concepts"],
}

SYSTEM = (
    "You classify image generation prompts. Answer only with JSON matching the schema: the visual style, "
    "the main content type, and up to 12 short lower-case key concepts (subjects, settings, attributes) "
    "taken from the prompt, in English."
)


@dataclass(frozen=True)
class OllamaSettings:
    host: str = DEFAULT_HOST
    model: str = "auto"
    keep_alive: str | int = 0  # unload right after answering so the GPU is free for diffusion
    connect_timeout: float = 3.0
    read_timeout: float = 60.0

    @classmethod
    def from_env(cls) -> OllamaSettings:
        host = os.environ.get("OLLAMA_HOST") or DEFAULT_HOST
        if "://" not in host:
            host = "http://" + host
        return cls(host=host, model=os.environ.get("IG_OLLAMA_MODEL", "auto"))


class OllamaUnavailable(RuntimeError):
    pass


def analyze(prompt: str, negative_prompt: str, settings: OllamaSettings | None = None, engine: str = "auto") -> PromptAnalysis:
    base = analyze_keywords(prompt, negative_prompt)
    if engine == "keywords":
        return base
    try:
        answer = _ask(base.clean_prompt, settings or OllamaSettings())
    except OllamaUnavailable as exc:
        log.warning("Intelligent Generation: Ollama analysis unavailable, using keywords: %s", exc)
        base.reasons.append(f"Ollama was not used ({exc}); keyword analysis instead.")
        return base
    base.source = f"ollama:{answer['model']}"
    base.style = answer["style"]
    base.content_type = answer["content_type"]
    base.concepts = list(dict.fromkeys([c.lower() for c in answer["concepts"]] + base.concepts))
    base.suggested_parameters = dict(STYLE_PARAMETERS[base.style])
    base.reasons = [f"Style and concepts from the local LLM {answer['model']}."]
    return base


def _client(settings: OllamaSettings) -> Any:
    try:
        import httpx
        import ollama
    except ImportError as exc:
        raise OllamaUnavailable("the ollama package is not installed") from exc
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    # trust_env=False: proxy variables meant for other traffic must not capture local calls.
    try:
        return ollama.Client(host=settings.host, timeout=timeout, trust_env=False)
    except ValueError as exc:  # a malformed host (bad port, broken IPv6 literal) must not break generation
        raise OllamaUnavailable(f"invalid Ollama host {settings.host!r}: {exc}") from exc


def _pick_model(client: Any, wanted: str) -> str:
    names: list[str] = [str(m.model) for m in client.list().models]
    if wanted != "auto":
        if wanted not in names and f"{wanted}:latest" not in names:
            raise OllamaUnavailable(f"model '{wanted}' is not installed (installed: {', '.join(names) or 'none'})")
        return wanted
    if not names:
        raise OllamaUnavailable("no model is installed; run `ollama pull llama3.2`")
    instruct = [n for n in names if any(t in n for t in ("instruct", "llama", "qwen", "mistral", "gemma", "phi"))]
    return sorted(instruct or names)[0]


def _valid(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and data.get("style") in STYLES
        and data.get("content_type") in CONTENT_WORDS
        and isinstance(data.get("concepts"), list)
        and all(isinstance(c, str) for c in data["concepts"])
    )


def _ask(prompt: str, settings: OllamaSettings) -> dict[str, Any]:
    client = _client(settings)
    try:
        import ollama

        model = _pick_model(client, settings.model)
        for _attempt in range(2):  # one retry for an answer that breaks the schema
            response = client.chat(
                model=model,
                messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
                format=SCHEMA,
                stream=False,
                keep_alive=settings.keep_alive,
                options={"temperature": 0, "seed": 0, "num_predict": 256},
            )
            try:
                data = json.loads(response.message.content or "")
            except json.JSONDecodeError:
                continue
            if _valid(data):
                return {**data, "model": model}
        raise OllamaUnavailable(f"{model} answered twice with JSON that breaks the schema")
    except OllamaUnavailable:
        raise
    except ollama.ResponseError as exc:
        raise OllamaUnavailable(f"Ollama said {exc.status_code}: {exc.error}") from exc
    except (ConnectionError, OSError) as exc:
        raise OllamaUnavailable(f"no Ollama at {settings.host}") from exc
    except Exception as exc:  # httpx timeouts and protocol errors: never break generation
        raise OllamaUnavailable(f"{type(exc).__name__}: {exc}") from exc
