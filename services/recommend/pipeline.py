"""The whole recommendation for one prompt: analysis, checkpoint, VAE, parameters and LoRAs."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..library.scan import Library
from ..text.vocabulary import CONCEPT_STYLE
from .analysis import PromptAnalysis, analyze_keywords
from .checkpoint import Selection, checkpoint_score, choose_checkpoint
from .feedback import Lean
from .llm import OllamaSettings, Shortlist, analyze
from .loras import (
    LoraPlan,
    Match,
    candidates_for,
    covered_groups,
    matches_and_style,
    matches_for,
    plan_loras,
    style_from_loras,
)
from .prompt_keys import PromptKeys


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


def library_version(library: Library) -> str:
    """Changes when any model file or its metadata changes: part of the LLM answer cache key."""
    known = library.derived.get("version")
    if not isinstance(known, str):
        # What a stored entry holds at once (no description decoded); a change of tags or words shows in the
        # shortlist's lines and the schema's enums, which the cache key holds too.
        digest = hashlib.sha256()
        for e in library.entries:
            digest.update(f"{e.kind}/{e.name}/{e.size}/{e.base_model}/{e.title}|".encode("utf-8", "replace"))
        known = library.derived["version"] = digest.hexdigest()[:16]
    return known


def shortlist_for(library: Library, analysis: PromptAnalysis, loras: int = 30, checkpoints: int = 6) -> Shortlist:
    """What the library's search finds most relevant, for a local LLM to judge: real files of every family,
    each with its title, trigger words and a line of its description; concepts from their own tags."""
    keys = PromptKeys.of(analysis)
    matches = matches_for(library, keys)
    families = {e.family for e in library.of_kind("checkpoints")}
    coverage = {family: covered_groups(matches, family) for family in families}
    ranked = sorted((e for e in library.choices("checkpoints") if e.usable),
                    key=lambda e: (-checkpoint_score(e, analysis, coverage), e.name))
    found = candidates_for(library, keys, loras)
    tags = sorted({t.lower() for e in found for t in e.tags})
    lines = {e.name: "; ".join(part for part in (
        e.title, f"base {e.base_model}" if e.base_model else "",
        f"trigger {', '.join(e.trigger_words[:2])}" if e.trigger_words and not e.trigger_guessed else "",
        e.description[:120]) if part) for e in found}
    return Shortlist([e.name for e in found], [e.name for e in ranked[:checkpoints]], tags,
                     library_version(library), lines)


def analyze_prompt(library: Library | None, prompt: str, negative_prompt: str = "", settings: OllamaSettings | None = None,
                   cache_dir: str | Path | None = None, style_hint: str = "auto") -> PromptAnalysis:
    """The analysis every entry point uses (the CLI, the Prompt Analyzer node): keyword rules, or with
    `settings` the local LLM judging what the library's search found (answers cached in `cache_dir`)."""
    base = analyze_keywords(prompt, negative_prompt, style_hint)
    if settings is None:
        return base
    return analyze(prompt, negative_prompt, settings, cache_dir=cache_dir,
                   shortlist=shortlist_for(library, base) if library is not None else None,
                   style_hint=style_hint)


@dataclass
class Choices:
    """What the user decided in assisted or manual mode; wins over every score."""

    checkpoint: str | None = None
    vae: str | None = None
    excluded_checkpoints: frozenset[str] = frozenset()
    pinned_loras: list[tuple[str, float | None]] = field(default_factory=list)
    excluded_loras: frozenset[str] = frozenset()


def parse_names(text: str) -> list[tuple[str, float | None]]:
    """`a.safetensors:0.7, b` (one per comma or line) -> [("a.safetensors", 0.7), ("b", None)]."""
    found: list[tuple[str, float | None]] = []
    for part in re.split(r"[,\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        name, _, weight = part.rpartition(":") if re.search(r":\s*-?\d*\.?\d+$", part) else (part, "", "")
        found.append((name.strip(), float(weight) if weight else None))
    return found


def select_checkpoint(
    library: Library,
    analysis: PromptAnalysis,
    pinned: str | None = None,
    vram_gb: float | None = None,
    quality: str = "balanced",
    choices: Choices | None = None,
    leans: dict[tuple[str, str], Lean] | None = None,
) -> tuple[Selection, list[Match]]:
    """The checkpoint for a prompt, knowing which families have the LoRAs it asks for."""
    choices = choices or Choices(checkpoint=pinned)
    analysis, matches = matches_and_style(library, analysis)
    families = {e.family for e in library.of_kind("checkpoints")}
    coverage = {family: covered_groups(matches, family) for family in families}
    selection = choose_checkpoint(library, analysis, choices.checkpoint or pinned, coverage, vram_gb, quality,
                                  choices.excluded_checkpoints, leans, choices.vae)
    return selection, matches


def recommend(
    library: Library,
    analysis: PromptAnalysis,
    max_loras: int = 3,
    pinned: str | None = None,
    vram_gb: float | None = None,
    quality: str = "balanced",
    choices: Choices | None = None,
    leans: dict[tuple[str, str], Lean] | None = None,
) -> Recommendation:
    choices = choices or Choices(checkpoint=pinned)
    selection, matches = select_checkpoint(library, analysis, pinned, vram_gb, quality, choices, leans)
    analysis = style_from_loras(library, analysis)  # as the checkpoint was chosen
    plan = plan_loras(library, analysis, selection.family, max_loras, base_model=selection.base_model,
                      matches=matches, pinned=choices.pinned_loras, excluded=choices.excluded_loras, leans=leans)
    plan.reasons += missing_lines(library, analysis, selection.family, selection.base_model, selection.checkpoint,
                                  matches)
    return Recommendation(analysis, selection, plan)


def missing_lines(library: Library, analysis: PromptAnalysis, family: str, base_model: str | None,
                  checkpoint: str | None, matches: list[Match] | None = None) -> list[str]:
    """What the library lacks for this prompt, said plainly (offline). Only media, styles and concepts the
    user stressed count: a checkpoint draws a plain "dragon" well enough without a LoRA."""
    from .missing import explain_missing, missing_concepts

    missing = [m for m in missing_concepts(library, analysis, family, base_model, checkpoint, matches)
               if m.kind == "checkpoints" or m.concept in CONCEPT_STYLE or m.concept in analysis.concept_weights
               or m.elsewhere]
    return explain_missing(missing)
