"""Choose a checkpoint, a compatible VAE and sampling parameters for an analysis."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .analysis import STYLE_WORDS, PromptAnalysis
from .library import Library, ModelEntry

# Words in a checkpoint's name, title or tags that mark a style.
STYLE_MARKERS: dict[str, set[str]] = {
    "realistic": {"photo", "real", "realistic", "realism", "photon", "lens", "cinematic", "raw"},
    "anime": {"anime", "manga", "toon", "waifu", "illustrious", "pony", "animagine", "cel"},
    "artistic": {"art", "paint", "painting", "painted", "oil", "watercolor", "illustration", "dream", "sketch"},
    "3d": {"3d", "render", "cgi", "pixar", "clay", "octane", "blender"},
}

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


class SelectionError(ValueError):
    """Nothing usable to choose from; the message says what to do."""


@dataclass
class Selection:
    checkpoint: str
    base_model: str | None
    family: str
    vae: str | None
    parameters: dict[str, Any]
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def explain(self) -> str:
        p = self.parameters
        return "\n".join(
            [
                f"Checkpoint: {self.checkpoint} ({self.base_model or 'unknown base'}).",
                f"VAE: {self.vae or 'the one inside the checkpoint'}.",
                f"Parameters: {p['steps']} steps, cfg {p['cfg']}, {p['sampler']} / {p['scheduler']}, "
                f"{p['width']}x{p['height']}.",
                *self.reasons,
            ]
        )


def style_score(entry: ModelEntry, style: str) -> float:
    words = entry.words()
    own = len(words & STYLE_MARKERS.get(style, set())) + len(words & set(STYLE_WORDS.get(style, ())))
    others = sum(len(words & markers) for s, markers in STYLE_MARKERS.items() if s != style)
    return own - 0.5 * others


def choose_checkpoint(library: Library, analysis: PromptAnalysis, pinned: str | None = None) -> Selection:
    candidates = [e for e in library.of_kind("checkpoints") if e.usable]
    if pinned:
        entry = library.find("checkpoints", pinned)
        if entry is None:
            raise SelectionError(f"Checkpoint '{pinned}' is not in the checkpoints folder.")
        if not entry.usable:
            raise SelectionError(f"Checkpoint '{pinned}' cannot be used: {'; '.join(entry.problems)}")
        reasons = [f"You chose {entry.name}."]
        scores = {entry.name: style_score(entry, analysis.style)}
    else:
        if not candidates:
            broken = [e.name for e in library.of_kind("checkpoints") if not e.usable]
            hint = f" ({len(broken)} unreadable: {', '.join(broken[:3])})" if broken else ""
            raise SelectionError(
                "No usable checkpoint found" + hint + ". Put a .safetensors checkpoint into ComfyUI's "
                "models/checkpoints folder (or one listed in extra_model_paths.yaml) and queue again."
            )
        scores = {e.name: style_score(e, analysis.style) for e in candidates}
        # Ties break on name so the choice is reproducible.
        entry = sorted(candidates, key=lambda e: (-scores[e.name], e.name))[0]
        reasons = [_why(entry, analysis.style, scores[entry.name], len(candidates))]
    vae = choose_vae(library, entry)
    parameters = recommend_parameters(analysis, entry.family)
    if vae:
        reasons.append(f"VAE {vae} matches the {entry.base_model} family.")
    return Selection(entry.name, entry.base_model, entry.family, vae, parameters, scores, reasons)


def _why(entry: ModelEntry, style: str, score: float, count: int) -> str:
    if score > 0:
        matched = sorted(entry.words() & (STYLE_MARKERS.get(style, set()) | set(STYLE_WORDS.get(style, ()))))
        return f"Chose {entry.name} of {count} checkpoints: its name and tags say {', '.join(matched)}, fitting {style}."
    return f"Chose {entry.name} of {count} checkpoints: none is marked for {style}, so the first by name."


def choose_vae(library: Library, checkpoint: ModelEntry) -> str | None:
    """A standalone VAE of the same family, if the user has one; else the checkpoint's own."""
    same = [v for v in library.of_kind("vae") if v.usable and v.family == checkpoint.family != "unknown"]
    return sorted(same, key=lambda v: v.name)[0].name if same else None


def recommend_parameters(analysis: PromptAnalysis, family: str) -> dict[str, Any]:
    params: dict[str, Any] = {"steps": 25, "cfg": 7.0, "sampler": "euler", "scheduler": "normal"}
    params.update(analysis.suggested_parameters)
    defaults = FAMILY_DEFAULTS.get(family, FAMILY_DEFAULTS["unknown"])
    params.update(defaults)
    side = int(defaults["width"])
    w, h = ASPECT.get(analysis.content_type, (1, 1))
    if w != h:
        # Keep the pixel count of a square, rounded to multiples of 64 as latents need.
        scale = (side * side / (w * h)) ** 0.5
        params["width"] = max(64, int(round(w * scale / 64)) * 64)
        params["height"] = max(64, int(round(h * scale / 64)) * 64)
    return params
