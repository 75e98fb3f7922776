"""The whole recommendation for one prompt: analysis, checkpoint, VAE, parameters and LoRAs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .analysis import PromptAnalysis
from .library import Library
from .lora_scoring import LoraPlan, plan_loras
from .selection import Selection, choose_checkpoint


@dataclass
class Recommendation:
    analysis: PromptAnalysis
    selection: Selection
    plan: LoraPlan

    def to_dict(self) -> dict[str, Any]:
        """The command line's answer; model files named relative to the models root."""
        return {
            "analysis": self.analysis.to_dict(),
            "checkpoint": {"file": f"checkpoints/{self.selection.checkpoint}", "base_model": self.selection.base_model},
            "vae": {"file": f"vae/{self.selection.vae}"} if self.selection.vae else None,
            "loras": [{"file": f"loras/{p.name}", "weight": p.weight} for p in self.plan.loras],
            "parameters": self.selection.parameters,
            "positive_prompt": self.plan.positive_prompt,
            "negative_prompt": self.plan.negative_prompt,
            "explanation": "\n".join([self.analysis.explain(), self.selection.explain(), self.plan.explain()]),
        }


def recommend(library: Library, analysis: PromptAnalysis, max_loras: int = 3) -> Recommendation:
    selection = choose_checkpoint(library, analysis)
    plan = plan_loras(library, analysis, selection.family, max_loras=max_loras)
    return Recommendation(analysis, selection, plan)
