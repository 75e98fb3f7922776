"""The whole recommendation for one prompt: analysis, checkpoint, VAE, parameters and LoRAs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .analysis import PromptAnalysis
from .library import Library
from .lora_scoring import LoraPlan, Match, PromptKeys, covered_groups, matches_for, plan_loras
from .selection import Selection, choose_checkpoint


@dataclass
class Recommendation:
    analysis: PromptAnalysis
    selection: Selection
    plan: LoraPlan

    def explain(self) -> str:
        return "\n".join([self.analysis.explain(), self.selection.explain(), self.plan.explain()])

    def to_dict(self) -> dict[str, Any]:
        """The command line's answer; model files named relative to the models root, with their kind folder."""
        a = self.analysis
        return {
            "analysis": {"style": a.style, "content_type": a.content_type, "concepts": a.concepts,
                         "source": "ollama" if a.source.startswith("ollama") else "fallback"},
            "checkpoint": {"file": f"checkpoints/{self.selection.checkpoint}", "base_model": self.selection.base_model,
                           "score": round(self.selection.score, 3)},
            "vae": {"file": f"vae/{self.selection.vae}"} if self.selection.vae else None,
            "loras": [{"file": f"loras/{p.name}", "weight": p.weight, "trigger_words": p.trigger_words,
                       "score": p.score} for p in self.plan.loras],
            "positive_prompt": self.plan.positive_prompt,
            "negative_prompt": self.plan.negative_prompt,
            "params": self.selection.parameters,
            "explanation": self.explain(),
        }


def select_checkpoint(
    library: Library,
    analysis: PromptAnalysis,
    pinned: str | None = None,
    vram_gb: float | None = None,
    quality: str = "balanced",
) -> tuple[Selection, list[Match]]:
    """The checkpoint for a prompt, knowing which families have the LoRAs it asks for."""
    matches = matches_for(library, PromptKeys.of(analysis))
    families = {e.family for e in library.of_kind("checkpoints")}
    coverage = {family: covered_groups(matches, family) for family in families}
    return choose_checkpoint(library, analysis, pinned, coverage, vram_gb, quality), matches


def recommend(
    library: Library,
    analysis: PromptAnalysis,
    max_loras: int = 3,
    pinned: str | None = None,
    vram_gb: float | None = None,
    quality: str = "balanced",
) -> Recommendation:
    selection, matches = select_checkpoint(library, analysis, pinned, vram_gb, quality)
    plan = plan_loras(library, analysis, selection.family, max_loras, base_model=selection.base_model,
                      matches=matches)
    return Recommendation(analysis, selection, plan)
