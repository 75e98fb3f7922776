"""Score LoRAs against an analysis and plan which to apply, at what weight, with which trigger words."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .analysis import PromptAnalysis
from .library import Library, ModelEntry

DEFAULT_WEIGHT = 0.8
MIN_SCORE = 1.0
# Words too generic to count as a match between a prompt and a LoRA.
GENERIC = {"lora", "v1", "v2", "v3", "sd15", "sdxl", "xl", "safetensors", "model", "style", "the", "a", "of"}


@dataclass
class PlannedLora:
    name: str
    weight: float
    score: float
    trigger_words: list[str]
    reason: str


@dataclass
class LoraPlan:
    loras: list[PlannedLora]
    positive_prompt: str
    negative_prompt: str
    rejected: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def explain(self) -> str:
        if self.loras:
            lines = ["LoRAs: " + ", ".join(f"{p.name} at {p.weight:g}" for p in self.loras) + "."]
            lines += [f"- {p.name}: {p.reason}" for p in self.loras]
        else:
            lines = ["LoRAs: none fits this prompt."]
        incompatible = [n for n, why in self.rejected.items() if why.startswith("incompatible")]
        if incompatible:
            lines.append(f"Left out {len(incompatible)} LoRA(s) made for another base model.")
        return "\n".join(lines + self.reasons)


def score_lora(entry: ModelEntry, analysis: PromptAnalysis) -> tuple[float, list[str]]:
    """Matched concept words count 1 each; a trigger word or tag matched whole counts 2."""
    concepts = set(analysis.concepts) - GENERIC
    words = entry.words() - GENERIC
    matched = sorted(concepts & words)
    score = float(len(matched))
    text = analysis.clean_prompt.lower()
    for phrase in [*entry.trigger_words, *entry.tags]:
        if len(phrase) > 2 and re.search(rf"\b{re.escape(phrase.lower())}\b", text):
            score += 2.0
            matched.append(phrase)
    if analysis.style in words:
        score += 0.5
    return score, list(dict.fromkeys(matched))


def plan_loras(
    library: Library, analysis: PromptAnalysis, family: str, max_loras: int = 3, weight_scale: float = 1.0
) -> LoraPlan:
    rejected: dict[str, str] = {}
    chosen: list[PlannedLora] = []
    reasons: list[str] = []
    for user in analysis.user_loras:
        entry = library.find("loras", user.name)
        if entry is None:
            reasons.append(f"<lora:{user.name}> is not in the loras folder; skipped it.")
            continue
        if not _compatible(entry, family):
            reasons.append(f"<lora:{user.name}> is for {entry.base_model}, not this checkpoint; kept it as you asked.")
        chosen.append(PlannedLora(entry.name, user.weight, 0.0, entry.trigger_words, "named in your prompt"))
    taken = {p.name for p in chosen}
    scored: list[tuple[float, ModelEntry, list[str]]] = []
    for entry in library.of_kind("loras"):
        if entry.name in taken:
            continue
        if not entry.usable:
            rejected[entry.name] = "unreadable file"
        elif not _compatible(entry, family):
            rejected[entry.name] = f"incompatible: made for {entry.base_model or 'an unknown base'}"
        else:
            score, matched = score_lora(entry, analysis)
            if score >= MIN_SCORE:
                scored.append((score, entry, matched))
            else:
                rejected[entry.name] = "does not match the prompt"
    scored.sort(key=lambda item: (-item[0], item[1].name))
    for score, entry, matched in scored[: max(0, max_loras - len(chosen))]:
        weight = round((entry.preferred_weight or DEFAULT_WEIGHT) * weight_scale, 2)
        chosen.append(PlannedLora(entry.name, weight, score, entry.trigger_words, "matches " + ", ".join(matched)))
    positive = add_trigger_words(analysis.clean_prompt, chosen)
    return LoraPlan(chosen, positive, analysis.negative_prompt, rejected, reasons)


def _compatible(entry: ModelEntry, family: str) -> bool:
    return entry.family == family and family != "unknown"


def add_trigger_words(prompt: str, loras: list[PlannedLora]) -> str:
    """Append each LoRA's first trigger word unless the prompt already has one of them."""
    text = prompt.lower()
    extra: list[str] = []
    for lora in loras:
        words = [w for w in lora.trigger_words if w.strip()]
        if words and not any(w.lower() in text for w in words) and words[0] not in extra:
            extra.append(words[0])
    return ", ".join([prompt.strip(" ,"), *extra]) if extra else prompt
