"""Base model family from tensor names and shapes, refined by metadata.

Families are what decides compatibility (a LoRA applies to its family);
base model names are CivitAI's, shown to users ("SD 1.5", "Pony", ...).
"""

from __future__ import annotations

from typing import Any

UNKNOWN = "unknown"

# CivitAI base model name -> family.
FAMILY_OF_BASE: dict[str, str] = {
    "SD 1.4": "sd15",
    "SD 1.5": "sd15",
    "SD 2.0": "sd2",
    "SD 2.1": "sd2",
    "SDXL 1.0": "sdxl",
    "Pony": "sdxl",
    "Illustrious": "sdxl",
    "NoobAI": "sdxl",
    "Flux.1 D": "flux",
    "Flux.1 S": "flux",
    "SD 3": "sd3",
    "SD 3.5": "sd3",
    "SD 3.5 Large": "sd3",
    "SD 3.5 Medium": "sd3",
}

DEFAULT_BASE_OF_FAMILY = {
    "sd15": "SD 1.5",
    "sd2": "SD 2.1",
    "sdxl": "SDXL 1.0",
    "flux": "Flux.1 D",
    "sd3": "SD 3.5",
}

# Free-text spellings found in sidecars and kohya metadata (ss_sd_model_name, ss_base_model_version,
# modelspec.architecture), most specific first: the first substring found decides.
_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("pony", "Pony"), ("illustrious", "Illustrious"), ("noobai", "NoobAI"),
    ("schnell", "Flux.1 S"), ("flux.1 s", "Flux.1 S"), ("flux-1-dev", "Flux.1 D"), ("flux1-dev", "Flux.1 D"),
    ("flux.1 d", "Flux.1 D"), ("flux1", "Flux.1 D"), ("flux", "Flux.1 D"),
    ("sd3.5", "SD 3.5"), ("sd 3.5", "SD 3.5"), ("stable-diffusion-v3", "SD 3.5"), ("sd3", "SD 3.5"),
    ("sdxl", "SDXL 1.0"), ("sd_xl", "SDXL 1.0"), ("stable-diffusion-xl", "SDXL 1.0"), ("xl_base", "SDXL 1.0"),
    ("sd 2", "SD 2.1"), ("sd2", "SD 2.1"), ("v2-1", "SD 2.1"), ("stable-diffusion-v2", "SD 2.1"),
    ("sd 1", "SD 1.5"), ("sd1", "SD 1.5"), ("sd_v1", "SD 1.5"), ("v1-5", "SD 1.5"), ("stable-diffusion-v1", "SD 1.5"),
)


def canonical_base(name: str | None) -> str | None:
    """Map a free-text base model name to CivitAI's spelling, or None when unrecognised."""
    if not name:
        return None
    text = str(name).strip()
    for base in FAMILY_OF_BASE:
        if text.lower() == base.lower():
            return base
    key = text.lower()
    return next((base for spelling, base in _SPELLINGS if spelling in key), None)


def family_of(base: str | None) -> str:
    return FAMILY_OF_BASE.get(base or "", UNKNOWN)


def family_from_tensors(tensors: dict[str, dict[str, Any]]) -> str:
    """Guess the family from key names and a few telling shapes (checkpoints, UNets and LoRAs)."""
    keys = tensors.keys()

    def shape(name: str) -> list[int]:
        value = tensors.get(name, {}).get("shape")
        return list(value) if isinstance(value, list) else []

    if any(k.startswith(("double_blocks.", "model.diffusion_model.double_blocks.")) for k in keys) or any(
        "lora_unet_double_blocks" in k or "transformer.transformer_blocks" in k and "single" in k for k in keys
    ):
        return "flux"
    if any("joint_blocks" in k for k in keys):
        return "sd3"
    if any(k.startswith(("conditioner.embedders.1", "lora_te2_")) for k in keys) or any(
        "label_emb" in k for k in keys
    ):
        return "sdxl"
    context = _cross_attention_width(tensors, shape)
    if context == 2048:
        return "sdxl"
    if context == 1024:
        return "sd2"
    if context == 768:
        return "sd15"
    if any(k.startswith(("lora_te_", "lora_unet_", "cond_stage_model.transformer")) for k in keys):
        return "sd15"
    return UNKNOWN


def _cross_attention_width(tensors: dict[str, dict[str, Any]], shape: Any) -> int | None:
    for name in tensors:
        if name.endswith("attn2.to_k.weight") and "diffusion_model" in name:
            dims = shape(name)
            if len(dims) == 2:
                return int(dims[1])
        if "attn2_to_k.lora_down.weight" in name:
            dims = shape(name)
            if len(dims) == 2:
                return int(dims[1])
    return None
