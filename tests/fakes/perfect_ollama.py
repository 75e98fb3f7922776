"""A loopback Ollama that answers as a perfect LLM would: from a labelled set's answers, inside the schema
it was sent (only candidates it was offered, only enum values). It measures the ceiling of the LLM path:
what the pack makes of a flawless reading of the prompt, given the shortlist its own search built.

    with PerfectOllama(prompts) as fake:   # prompts: a set's prompts.jsonl rows
        ... --ollama-url fake.url --ollama-model perfect
"""

from __future__ import annotations

from typing import Any

from fakes.ollama_server import FakeOllama, Reply


class PerfectOllama(FakeOllama):
    def __init__(self, prompts: list[dict[str, Any]]) -> None:
        super().__init__(models=["perfect:latest"])
        self.labels = {p["prompt"].strip(): p for p in prompts}

    def _chat(self, body: dict[str, Any]) -> tuple[int, Any]:
        schema = body.get("format") or {}
        content = str(body.get("messages", [{}, {}])[-1].get("content", ""))
        prompt = content.split("\n", 1)[0].removeprefix("Prompt: ").strip()
        label = self.labels.get(prompt) or next((p for text, p in self.labels.items() if text in content), None)
        with self._lock:  # the base class answers with the reply set here
            self.replies = [Reply.answer(_answer(label, schema.get("properties", {})))]
        return super()._chat(body)


def _answer(label: dict[str, Any] | None, properties: dict[str, Any]) -> dict[str, Any]:
    label = label or {}
    content_types = properties.get("content_type", {}).get("enum", ["scene"])
    answer: dict[str, Any] = {
        "style": label.get("style", "realistic"),
        "content_type": label.get("content_type") if label.get("content_type") in content_types else content_types[0],
        "concepts": [],
    }
    if "loras" in properties:
        offered = properties["loras"]["items"]["enum"]
        wanted = [f.removeprefix("loras/") for f in label.get("required_loras", [])]
        answer["loras"] = [name for name in offered if name in wanted][: properties["loras"].get("maxItems", 3)]
    if "checkpoint" in properties:
        offered = properties["checkpoint"]["enum"]
        fits = [f.removeprefix("checkpoints/") for f in label.get("acceptable_checkpoints", [])]
        answer["checkpoint"] = next((name for name in offered if name in fits), offered[0])
    return answer
