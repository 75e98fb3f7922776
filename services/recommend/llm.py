"""Prompt analysis by a local Ollama LLM, with schema-constrained JSON, falling back to keywords.

The schema makes the model choose from what exists: its enums list the
vocabulary's concepts and the library's real tags, and a shortlist of real
LoRA and checkpoint files that the services already scored, so the LLM ranks
real files instead of inventing names. Any failure (no server, missing model,
busy, timeout, invalid JSON) ends in the keyword analysis with the reason
recorded: analysis never blocks generation. Answers are cached by model,
prompt, negative prompt, library version and schema version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..text.vocabulary import CONCEPTS, STYLES
from .analysis import CONTENT_WORDS, STYLE_NEGATIVES, STYLE_PARAMETERS, PromptAnalysis, analyze_keywords

log = logging.getLogger(__name__)

DEFAULT_HOST = "http://127.0.0.1:11434"
SCHEMA_VERSION = 3
MAX_ENUM = 200  # small models follow long enums badly; the shortlist keeps them short

SYSTEM = (
    "You classify image generation prompts. Answer only with JSON matching the schema: the visual style, "
    "the main content type, the key concepts (only from the allowed list), and, when candidates are listed, "
    "the LoRA files and the checkpoint that fit the prompt best (only from the candidates; none when none fits)."
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


@dataclass
class Shortlist:
    """Real candidates scored by the services, for the LLM to rank, and the library's own vocabulary."""

    loras: list[str] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    library_version: str = ""
    lines: dict[str, str] = field(default_factory=dict)  # LoRA name -> what it says of itself, in one line


class OllamaUnavailable(RuntimeError):
    pass


def build_schema(shortlist: Shortlist | None = None) -> dict[str, Any]:
    """A flat schema (no $ref, no nullable unions): small models handle those badly."""
    shortlist = shortlist or Shortlist()
    concepts = sorted(set(CONCEPTS) | {t for t in shortlist.tags if t})[:MAX_ENUM]
    properties: dict[str, Any] = {
        "style": {"type": "string", "enum": list(STYLES)},
        "content_type": {"type": "string", "enum": sorted(CONTENT_WORDS)},
        "concepts": {"type": "array", "items": {"type": "string", "enum": concepts}, "maxItems": 12},
    }
    required = ["style", "content_type", "concepts"]
    if shortlist.loras:
        properties["loras"] = {"type": "array", "items": {"type": "string", "enum": shortlist.loras}, "maxItems": 6}
        required.append("loras")
    if shortlist.checkpoints:
        properties["checkpoint"] = {"type": "string", "enum": shortlist.checkpoints}
        required.append("checkpoint")
    return {"type": "object", "properties": properties, "required": required}


def analyze(
    prompt: str,
    negative_prompt: str,
    settings: OllamaSettings | None = None,
    engine: str = "auto",
    shortlist: Shortlist | None = None,
    cache_dir: str | Path | None = None,
    style_hint: str = "auto",
) -> PromptAnalysis:
    base = analyze_keywords(prompt, negative_prompt, style_hint)
    if engine == "keywords":
        return base
    settings = settings or OllamaSettings()
    schema = build_schema(shortlist)
    cache = AnswerCache(Path(cache_dir)) if cache_dir else None
    key = _cache_key(settings.model, prompt, negative_prompt, shortlist, schema)
    try:
        answer = cache.get(key) if cache else None
        if answer is None:
            answer = _ask(base.clean_prompt, settings, schema, shortlist.lines if shortlist else {})
            if cache:
                cache.put(key, answer)
    except OllamaUnavailable as exc:
        log.warning("Intelligent Generation: Ollama analysis unavailable, using keywords: %s", exc)
        base.reasons.append(f"Ollama was not used ({exc}); keyword analysis instead.")
        return base
    return _merge(base, answer, style_hint)


def _merge(base: PromptAnalysis, answer: dict[str, Any], style_hint: str) -> PromptAnalysis:
    base.source = f"ollama:{answer['model']}"
    if style_hint not in STYLES:
        base.style = answer["style"]
        base.style_from = "llm"
    base.content_type = answer["content_type"]
    base.concepts = list(dict.fromkeys([c.lower() for c in answer["concepts"]] + base.concepts))
    base.suggested_parameters = dict(STYLE_PARAMETERS[base.style])
    base.suggested_negative = STYLE_NEGATIVES[base.style]
    base.llm_loras = list(answer.get("loras") or [])
    base.llm_judged_loras = "loras" in answer
    base.llm_checkpoint = answer.get("checkpoint") or None
    base.reasons = [f"Style, concepts and candidate picks from the local LLM {answer['model']}."]
    if style_hint in STYLES:
        base.reasons.append(f"Style {style_hint}, as you set it.")
    return base


def _cache_key(model: str, prompt: str, negative: str, shortlist: Shortlist | None, schema: dict[str, Any]) -> str:
    version = shortlist.library_version if shortlist else ""
    lines = shortlist.lines if shortlist else {}
    raw = json.dumps([SCHEMA_VERSION, model, prompt, negative, version, schema, lines], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


class AnswerCache:
    """One small JSON file per answer: re-queuing the same prompt asks nothing."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / "ollama_answers"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and "model" in data else None

    def put(self, key: str, answer: dict[str, Any]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.tmp"
            tmp.write_text(json.dumps(answer), encoding="utf-8")
            tmp.replace(self.folder / f"{key}.json")
        except OSError as exc:  # a full or read-only disk costs a re-ask later, nothing more
            log.warning("Intelligent Generation: could not cache the Ollama answer: %s", exc)


# Per process: building an HTTP client (its TLS context) costs tens of milliseconds, and the list of
# installed models rarely changes; both are reused.
_clients: dict[tuple[str, float, float], Any] = {}
_installed: dict[str, tuple[float, list[str]]] = {}
MODELS_TTL_S = 30.0


def _client(settings: OllamaSettings) -> Any:
    key = (settings.host, settings.connect_timeout, settings.read_timeout)
    if key not in _clients:
        _clients[key] = _new_client(settings)
    return _clients[key]


def _new_client(settings: OllamaSettings) -> Any:
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


def _installed_models(client: Any, host: str) -> list[str]:
    cached = _installed.get(host)
    if cached and time.monotonic() - cached[0] < MODELS_TTL_S:
        return cached[1]
    names = [str(m.model) for m in client.list().models]
    _installed[host] = (time.monotonic(), names)
    return names


def _pick_model(client: Any, wanted: str, host: str = "") -> str:
    names = _installed_models(client, host)
    if wanted != "auto":
        if wanted not in names and f"{wanted}:latest" not in names:
            raise OllamaUnavailable(f"model '{wanted}' is not installed (installed: {', '.join(names) or 'none'})")
        return wanted
    if not names:
        raise OllamaUnavailable("no model is installed; run `ollama pull llama3.2`")
    instruct = [n for n in names if any(t in n for t in ("instruct", "llama", "qwen", "mistral", "gemma", "phi"))]
    return sorted(instruct or names)[0]


def _valid(data: Any, schema: dict[str, Any]) -> bool:
    """The answer against the schema: types, enums and required keys (what a flat schema can say)."""
    if not isinstance(data, dict):
        return False
    for name in schema["required"]:
        if name not in data:
            return False
    for name, spec in schema["properties"].items():
        if name not in data:
            continue
        value = data[name]
        if spec["type"] == "string":
            if not isinstance(value, str) or ("enum" in spec and value not in spec["enum"]):
                return False
        elif spec["type"] == "array":
            allowed = spec["items"].get("enum")
            if not isinstance(value, list) or len(value) > spec.get("maxItems", 10**6):
                return False
            if not all(isinstance(v, str) and (allowed is None or v in allowed) for v in value):
                return False
    return True


def _ask(prompt: str, settings: OllamaSettings, schema: dict[str, Any], lines: dict[str, str] | None = None
         ) -> dict[str, Any]:
    client = _client(settings)
    try:
        import ollama

        model = _pick_model(client, settings.model, settings.host)
        content = prompt
        names = schema["properties"]["loras"]["items"]["enum"] if "loras" in schema["properties"] else []
        candidates = ["LoRA candidates (pick only those the prompt asks for):",
                      *(f"- {n}: {(lines or {}).get(n, '')}" for n in names)] if names else []
        if "checkpoint" in schema["properties"]:
            candidates.append(f"Checkpoint candidates: {', '.join(schema['properties']['checkpoint']['enum'])}")
        if candidates:
            content = f"Prompt: {prompt}\n" + "\n".join(candidates)
        for _attempt in range(2):  # one retry for an answer that breaks the schema
            response = client.chat(
                model=model,
                messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}],
                format=schema,
                stream=False,
                keep_alive=settings.keep_alive,
                options={"temperature": 0, "seed": 0, "num_predict": 256},
            )
            try:
                data = json.loads(response.message.content or "")
            except json.JSONDecodeError:
                continue
            if _valid(data, schema):
                return {**data, "model": model}
        raise OllamaUnavailable(f"{model} answered twice with JSON that breaks the schema")
    except OllamaUnavailable:
        raise
    except ollama.ResponseError as exc:
        _installed.pop(settings.host, None)  # a 404 may mean the model was just removed
        raise OllamaUnavailable(f"Ollama said {exc.status_code}: {exc.error}") from exc
    except (ConnectionError, OSError) as exc:
        raise OllamaUnavailable(f"no Ollama at {settings.host}") from exc
    except Exception as exc:  # httpx timeouts and protocol errors: never break generation
        raise OllamaUnavailable(f"{type(exc).__name__}: {exc}") from exc
