"""Generate tiny but real models that ComfyUI loads: SD1.5-shaped checkpoints and kohya LoRAs.

Deterministic (seeded per tensor), written once into a cache folder and reused.
Key names and shapes come from instantiating ComfyUI's own classes on the meta
device, so they match exactly what its loaders expect.

Run with the venv's Python: `.venv/bin/python scripts/tiny_models.py OUT_DIR`.
Writes OUT_DIR/checkpoints, OUT_DIR/loras with sidecars; prints what it wrote.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".comfyui"))

import comfy.cli_args  # noqa: E402

comfy.cli_args.args.cpu = True  # before model management probes CUDA

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

GENERATOR_VERSION = "1"

UNET_CONFIG = dict(
    image_size=32, in_channels=4, out_channels=4, model_channels=320, num_res_blocks=[1],
    channel_mult=[1], transformer_depth=[1], transformer_depth_output=[0, 0], transformer_depth_middle=-2,
    num_heads=8, context_dim=768, use_linear_in_transformer=False, adm_in_channels=None,
    use_spatial_transformer=True, legacy=False,
)

# Checkpoint variants: file name, seed offset, sidecar (LoRA Manager format) with base model and style tags.
CHECKPOINTS = [
    ("tiny_photoreal_v1.safetensors", 1, {"model_name": "Tiny PhotoReal", "base_model": "SD 1.5",
                                           "tags": ["photorealistic", "photo", "realistic", "portrait"]}),
    ("tiny_anime_mix_v2.safetensors", 2, {"model_name": "Tiny Anime Mix", "base_model": "SD 1.5",
                                          "tags": ["anime", "manga", "illustration"]}),
    ("tiny_dreamy_paint_v1.safetensors", 3, {"model_name": "Tiny Dreamy Paint", "base_model": "SD 1.5",
                                             "tags": ["painting", "art", "watercolor", "fantasy"]}),
]

# LoRAs: file name, seed, targets, CivitAI-version sidecar (as CivitAI Helper writes it).
LORAS = [
    ("cat_ears_sd15.safetensors", 11, {"baseModel": "SD 1.5", "trainedWords": ["cat ears"],
                                        "model": {"name": "Cat Ears", "type": "LORA", "tags": ["cat", "ears", "kemonomimi"]}}),
    ("neon_city_sd15.safetensors", 12, {"baseModel": "SD 1.5", "trainedWords": ["neon city"],
                                         "model": {"name": "Neon City", "type": "LORA", "tags": ["cyberpunk", "neon", "city"]}}),
    ("detail_tweaker_sd15.safetensors", 13, {"baseModel": "SD 1.5", "trainedWords": [],
                                              "model": {"name": "Detail Tweaker", "type": "LORA", "tags": ["detail", "detailed"]}}),
]
# An SDXL LoRA (kohya names for two text encoders): it must never be applied to the SD 1.5 checkpoints.
SDXL_LORA = ("cat_ears_xl.safetensors", {"baseModel": "SDXL 1.0", "trainedWords": ["cat ears"],
                                          "model": {"name": "Cat Ears XL", "type": "LORA", "tags": ["cat", "ears"]}})


def _seed(name: str, offset: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{name}:{offset}".encode()).digest()[:8], "little")


def _fill(name: str, shape: torch.Size, seed_offset: int) -> torch.Tensor:
    """Plausible values: weights ~ N(0, 1/fan_in), norms ~ 1, biases ~ 0, embeddings small."""
    g = torch.Generator().manual_seed(_seed(name, seed_offset))
    if name.endswith("logit_scale"):
        return torch.tensor(4.6055)
    if name.endswith("vae_scale"):  # TAESD decodes (latent - shift) * scale
        return torch.tensor(1.0)
    if len(shape) == 0:
        return torch.zeros(shape)
    if ("norm" in name or "ln_" in name or "layer_norm" in name) and name.endswith("weight"):
        return 1 + 0.01 * torch.randn(shape, generator=g)
    if name.endswith("bias") or len(shape) == 1:
        return 0.01 * torch.randn(shape, generator=g)
    if "embedding" in name:
        return 0.02 * torch.randn(shape, generator=g)
    fan_in = shape[1:].numel()
    return torch.randn(shape, generator=g) / fan_in**0.5


def checkpoint_shapes() -> dict[str, torch.Size]:
    import comfy.ops
    import comfy.sd1_clip
    import comfy.taesd.taesd
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    shapes: dict[str, torch.Size] = {}
    with torch.device("meta"):
        unet = UNetModel(**UNET_CONFIG, device="meta", operations=comfy.ops.disable_weight_init)
        clip = comfy.sd1_clip.SD1ClipModel(device="meta")
        taesd = comfy.taesd.taesd.TAESD()
    for k, v in unet.state_dict().items():
        shapes["model.diffusion_model." + k] = v.shape
    for k, v in clip.state_dict().items():
        if k.startswith("clip_l.transformer."):
            shapes["cond_stage_model." + k[len("clip_l."):]] = v.shape
    for k, v in taesd.state_dict().items():
        shapes["first_stage_model." + k] = v.shape
    return shapes


def lora_modules(shapes: dict[str, torch.Size]) -> dict[str, tuple[int, int]]:
    """kohya module name -> (in, out) for the UNet attention projections and CLIP MLP/attention layers."""
    modules: dict[str, tuple[int, int]] = {}
    for key, shape in shapes.items():
        if len(shape) != 2 or not key.endswith(".weight"):
            continue
        if key.startswith("model.diffusion_model.") and ".attn" in key and "to_" in key:
            base = key[len("model.diffusion_model."):-len(".weight")]
            modules["lora_unet_" + base.replace(".", "_")] = (shape[1], shape[0])
        elif key.startswith("cond_stage_model.transformer.text_model.encoder.layers.") and (
            "self_attn" in key or "mlp.fc" in key
        ):
            base = key[len("cond_stage_model.transformer.text_model."):-len(".weight")]
            modules["lora_te_text_model_" + base.replace(".", "_")] = (shape[1], shape[0])
    return modules


def lora_tensors(modules: dict[str, tuple[int, int]], seed: int, rank: int = 4) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for name, (fan_in, fan_out) in modules.items():
        g = torch.Generator().manual_seed(_seed(name, seed))
        out[f"{name}.lora_down.weight"] = (torch.randn(rank, fan_in, generator=g) / fan_in**0.5).half()
        out[f"{name}.lora_up.weight"] = (torch.randn(fan_out, rank, generator=g) * 0.5 / rank**0.5).half()
        out[f"{name}.alpha"] = torch.tensor(float(rank)).half()
    return out


def _write(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=metadata)  # one key only: several are written in random order
    tmp.replace(path)


def generate(out: Path) -> list[Path]:
    stamp = out / ".generator_version"
    if stamp.is_file() and stamp.read_text() == GENERATOR_VERSION:
        return sorted(p for p in out.rglob("*.safetensors"))
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    (out / "loras").mkdir(parents=True, exist_ok=True)
    shapes = checkpoint_shapes()
    written: list[Path] = []
    for filename, offset, sidecar in CHECKPOINTS:
        tensors = {k: _fill(k, s, offset).to(torch.float8_e4m3fn if k.startswith("model.") or ".layers." in k
                                               else torch.float16) for k, s in shapes.items()}
        path = out / "checkpoints" / filename
        _write(path, tensors, {"modelspec.architecture": "stable-diffusion-v1"})
        path.with_suffix(".metadata.json").write_text(json.dumps({"file_name": path.stem, **sidecar}, indent=2))
        written.append(path)
    modules = lora_modules(shapes)
    for filename, seed, sidecar in LORAS:
        path = out / "loras" / filename
        _write(path, lora_tensors(modules, seed), {"ss_base_model_version": "sd_v1"})
        path.with_suffix(".civitai.info").write_text(json.dumps(sidecar, indent=2))
        written.append(path)
    filename, sidecar = SDXL_LORA
    xl = {
        "lora_te1_text_model_encoder_layers_0_mlp_fc1": (768, 3072),
        "lora_te2_text_model_encoder_layers_0_mlp_fc1": (1280, 5120),
        "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k": (2048, 640),
    }
    path = out / "loras" / filename
    _write(path, lora_tensors(xl, 99), {"ss_base_model_version": "sdxl_base_v1-0"})
    path.with_suffix(".civitai.info").write_text(json.dumps(sidecar, indent=2))
    written.append(path)
    stamp.write_text(GENERATOR_VERSION)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".cache" / "tiny_models")
    for p in generate(target):
        print(f"{p.stat().st_size / 1e6:8.1f} MB  {p}")
