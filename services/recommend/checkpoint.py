"""Choose a checkpoint, a compatible VAE and sampling parameters for an analysis.

Checkpoints are scored on the prompt's style first, then on what their family
offers for the concepts the prompt asks for (a pixel-art prompt prefers a
checkpoint whose family has a pixel-art LoRA), then on concepts named by the
checkpoint itself; popularity only breaks ties. A pin wins over all of it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict, cast

from ..library.entries import ModelEntry
from ..library.scan import Library
from .analysis import PromptAnalysis
from .feedback import Lean

# Sizes and parameter adjustments per family (SD 1.5-class values come from the analysis).
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "sd15": {"width": 512, "height": 512},
    "sd2": {"width": 768, "height": 768},
    "sdxl": {"width": 1024, "height": 1024},
    "flux": {"width": 1024, "height": 1024, "cfg": 1.0, "sampler": "euler", "scheduler": "simple", "steps": 20},
    "sd3": {"width": 1024, "height": 1024, "cfg": 4.5, "sampler": "euler", "scheduler": "sgm_uniform", "steps": 28},
    "unknown": {"width": 512, "height": 512},
}

# Portraits and characters are taller than wide; landscapes and scenes wider.
ASPECT = {"portrait": (3, 4), "character": (3, 4), "landscape": (4, 3), "scene": (4, 3), "architecture": (4, 3)}

QUALITY_STEPS = {"fast": 0.6, "balanced": 1.0, "high": 1.3, "ultra": 1.6}

# A1111 sampler names (as in example images' metadata) -> ComfyUI sampler and scheduler.
A1111_SAMPLERS = {
    "euler a": "euler_ancestral", "euler": "euler", "heun": "heun", "lms": "lms", "ddim": "ddim",
    "dpm++ 2m": "dpmpp_2m", "dpm++ sde": "dpmpp_sde", "dpm++ 2m sde": "dpmpp_2m_sde", "dpm++ 3m sde": "dpmpp_3m_sde",
    "dpm++ 2s a": "dpmpp_2s_ancestral", "dpm2": "dpm_2", "dpm2 a": "dpm_2_ancestral", "unipc": "uni_pc", "lcm": "lcm",
    "dpm fast": "dpm_fast", "dpm adaptive": "dpm_adaptive",
}
A1111_SCHEDULERS = {"karras": "karras", "exponential": "exponential", "sgm uniform": "sgm_uniform", "simple": "simple"}


class SelectionError(ValueError):
    """Nothing usable to choose from; the message says what to do."""


class SelectionDict(TypedDict):
    """A selection as the nodes pass it on (`Selection.to_dict`)."""

    checkpoint: str
    base_model: str | None
    family: str
    vae: str | None
    parameters: dict[str, Any]
    scores: dict[str, float]
    reasons: list[str]


@dataclass
class Selection:
    checkpoint: str
    base_model: str | None
    family: str
    vae: str | None
    parameters: dict[str, Any]
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.scores.get(self.checkpoint, 0.0)

    def to_dict(self) -> SelectionDict:
        return cast(SelectionDict, asdict(self))

    def explain(self) -> str:
        p = self.parameters
        return "\n".join(
            [
                f"Checkpoint: {self.checkpoint} ({self.base_model or 'unknown base'}).",
                f"VAE: {self.vae or 'the one inside the checkpoint'}.",
                f"Parameters: {p['steps']} steps, cfg {p['cfg']}, {p['sampler']} / {p['scheduler']}, "
                f"{p['width']}x{p['height']}, clip skip {p.get('clip_skip', 1)}.",
                *self.reasons,
            ]
        )


def style_fit(entry: ModelEntry, style: str) -> float:
    """How much of what the checkpoint says about itself points to the style (0 to 1)."""
    total = sum(entry.styles.values())
    return entry.styles.get(style, 0.0) / total if total else 0.0


def estimated_vram_gb(entry: ModelEntry) -> float:
    """Weights plus working memory; a rough guide to keep big models off small GPUs."""
    overhead = {"sd15": 1.5, "sd2": 2.0, "sdxl": 2.5, "flux": 4.0, "sd3": 3.5}.get(entry.family, 2.0)
    return entry.size / 1e9 + overhead


def choose_checkpoint(
    library: Library,
    analysis: PromptAnalysis,
    pinned: str | None = None,
    coverage: dict[str, dict[str, float]] | None = None,
    vram_gb: float | None = None,
    quality: str = "balanced",
    excluded: frozenset[str] = frozenset(),
    leans: dict[tuple[str, str], Lean] | None = None,
    vae: str | None = None,
) -> Selection:
    """`coverage`: family -> concept groups the prompt asks for that the family's LoRAs offer (with scores);
    `leans`: what ratings of similar prompts say; `vae`: a VAE the user chose (manual mode)."""
    coverage = coverage or {}
    leans = leans or {}
    if pinned:
        entry = library.find("checkpoints", pinned)
        if entry is None:
            raise SelectionError(f"Checkpoint '{pinned}' is not in the checkpoints folder.")
        if not entry.usable:
            raise SelectionError(f"Checkpoint '{pinned}' cannot be used: {'; '.join(entry.problems)}")
        reasons = [f"You chose {entry.name}."]
        scores = {entry.name: checkpoint_score(entry, analysis, coverage)}
    else:
        candidates = [e for e in library.choices("checkpoints") if e.usable and e.name not in excluded]
        if not candidates:
            broken = [e.name for e in library.of_kind("checkpoints") if not e.usable]
            hint = f" ({len(broken)} unreadable: {', '.join(broken[:3])})" if broken else ""
            raise SelectionError(
                "No usable checkpoint found" + hint + ". Put a .safetensors checkpoint into ComfyUI's "
                "models/checkpoints folder (or one listed in extra_model_paths.yaml) and queue again."
            )
        reasons = []
        if vram_gb:
            fitting = [e for e in candidates if estimated_vram_gb(e) <= vram_gb]
            if len(fitting) < len(candidates):
                reasons.append(f"Left out {len(candidates) - len(fitting)} checkpoint(s) too big for {vram_gb:g} GB.")
            candidates = fitting or sorted(candidates, key=estimated_vram_gb)[:1]
        plain = {e.name: checkpoint_score(e, analysis, coverage) for e in candidates}
        scores = {name: score + LEAN_POINTS * _lean(leans, name) for name, score in plain.items()}
        entry = min(candidates, key=lambda e: (-scores[e.name], e.name))
        reasons.insert(0, _why(entry, analysis, coverage, len(candidates)))
        unrated = min(candidates, key=lambda e: (-plain[e.name], e.name))
        if unrated.name != entry.name:
            lean = leans.get(("checkpoints", unrated.name)) or leans.get(("checkpoints", entry.name))
            reasons.append(f"Ratings changed the choice from {unrated.name}" + (f": {lean.describe()}." if lean else "."))
        if excluded:
            reasons.append(f"Excluded by you: {', '.join(sorted(excluded))}.")
    if vae:
        if library.find("vae", vae) is None:
            raise SelectionError(f"VAE '{vae}' is not in the vae folder.")
        reasons.append(f"VAE {vae}: you chose it.")
    else:
        vae = choose_vae(library, entry)
        if vae:
            reasons.append(f"VAE {vae}: the checkpoint has none of its own.")
    parameters = recommend_parameters(analysis, entry, quality)
    return Selection(entry.name, entry.base_model, entry.family, vae, parameters, scores, reasons)


CLEAR_MATCH = 2.0  # a LoRA this relevant is clearly asked for (about two rare words it names itself by)
LEAN_POINTS = 5.0  # a full lean (+-0.6) is worth 3 points: less than the style (10), more than popularity


def _lean(leans: dict[tuple[str, str], Lean], name: str) -> float:
    found = leans.get(("checkpoints", name))
    return found.value if found else 0.0


def checkpoint_score(entry: ModelEntry, analysis: PromptAnalysis, coverage: dict[str, dict[str, float]]) -> float:
    offered = coverage.get(entry.family, {})
    own = len(set(entry.concepts) & set(analysis.concepts))
    popularity = math.log10(entry.popularity + 1) / 10  # at most ~0.7: a tie-breaker, never a reason
    written_for = 1.5 if analysis.suggested_base and entry.base_model == analysis.suggested_base else 0.0
    llm = 2.0 if analysis.llm_checkpoint == entry.name else 0.0
    # Each concept its LoRAs offer, by how clearly the prompt asks for it: a named character (a whole name) more
    # than a spotlight met by two words.
    asked = sum(min(1.0, score / CLEAR_MATCH) for score in offered.values())
    return 10 * style_fit(entry, analysis.style) + 3 * asked + 2 * own + written_for + llm + popularity


def _why(entry: ModelEntry, analysis: PromptAnalysis, coverage: dict[str, dict[str, float]], count: int) -> str:
    parts = []
    fit = style_fit(entry, analysis.style)
    if fit > 0:
        parts.append(f"its metadata reads {analysis.style} ({fit:.0%} of its style cues)")
    else:
        parts.append(f"no checkpoint is clearly marked {analysis.style}")
    offered = sorted(coverage.get(entry.family, {}))
    if offered:
        parts.append(f"its family ({entry.base_model}) has LoRAs for {', '.join(offered)}")
    return f"Chose {entry.name} of {count} checkpoints: " + "; ".join(parts) + "."


def choose_vae(library: Library, checkpoint: ModelEntry) -> str | None:
    """A standalone VAE only when the checkpoint has none; always of the same family, the exact base first."""
    if checkpoint.has_vae is not False:
        return None
    same = [v for v in library.choices("vae") if v.usable and v.family == checkpoint.family != "unknown"]
    if not same:
        return None
    return min(same, key=lambda v: (v.base_model != checkpoint.base_model, v.name)).name


def parse_a1111_sampler(text: str) -> tuple[str | None, str | None]:
    """`DPM++ 2M Karras` -> (`dpmpp_2m`, `karras`)."""
    lowered = text.strip().lower()
    scheduler = None
    for suffix, name in A1111_SCHEDULERS.items():
        if lowered.endswith(" " + suffix):
            lowered, scheduler = lowered[: -len(suffix) - 1].strip(), name
    return A1111_SAMPLERS.get(lowered), scheduler


def recommend_parameters(analysis: PromptAnalysis, entry: ModelEntry | str, quality: str = "balanced") -> dict[str, Any]:
    """The checkpoint's own example settings first, then family and style defaults; size by family and content."""
    family = entry if isinstance(entry, str) else entry.family
    params: dict[str, Any] = {"steps": 25, "cfg": 7.0, "sampler": "euler", "scheduler": "normal", "clip_skip": 1}
    params.update(analysis.suggested_parameters)
    defaults = FAMILY_DEFAULTS.get(family, FAMILY_DEFAULTS["unknown"])
    params.update(defaults)
    if isinstance(entry, ModelEntry):
        _apply_recommended(params, entry)
        if entry.base_model == "Pony" and "clip_skip" not in entry.recommended:
            params["clip_skip"] = 2  # Pony models are trained for it
    params["steps"] = max(1, round(params["steps"] * QUALITY_STEPS.get(quality, 1.0)))
    side = int(defaults["width"])
    w, h = ASPECT.get(analysis.content_type, (1, 1))
    if w != h:
        # Keep the pixel count of a square, rounded to multiples of 64 as latents need.
        scale = (side * side / (w * h)) ** 0.5
        params["width"] = max(64, int(round(w * scale / 64)) * 64)
        params["height"] = max(64, int(round(h * scale / 64)) * 64)
    return params


def _apply_recommended(params: dict[str, Any], entry: ModelEntry) -> None:
    rec = entry.recommended
    if isinstance(rec.get("steps"), (int, float)) and 1 <= rec["steps"] <= 150:
        params["steps"] = int(rec["steps"])
    if isinstance(rec.get("cfg"), (int, float)) and 0 < rec["cfg"] <= 30:
        params["cfg"] = float(rec["cfg"])
    if isinstance(rec.get("sampler"), str):
        sampler, scheduler = parse_a1111_sampler(rec["sampler"])
        if sampler:
            params["sampler"] = sampler
            params["scheduler"] = scheduler or "normal"
    if isinstance(rec.get("clip_skip"), (int, float)) and 1 <= rec["clip_skip"] <= 4:
        params["clip_skip"] = int(rec["clip_skip"])
