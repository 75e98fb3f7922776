"""Small but valid model files for tests."""

from __future__ import annotations

import json
import struct
from pathlib import Path

# Tensor names and shapes that tell each family apart.
SD15_CHECKPOINT = {
    "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [320, 768],
    "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight": [4, 768],
}
SDXL_CHECKPOINT = {
    "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight": [640, 2048],
    "conditioner.embedders.1.model.ln_final.weight": [1280],
    "model.diffusion_model.label_emb.0.0.weight": [1280, 2816],
}
SD15_LORA = {"lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight": [4, 768]}
SDXL_LORA = {"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": [4, 1280]}


def write_safetensors(path: Path, tensors: dict[str, list[int]], metadata: dict[str, str] | None = None) -> Path:
    """A valid safetensors file with zero-filled F16 tensors of the given shapes."""
    header: dict[str, object] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, shape in tensors.items():
        size = 2
        for d in shape:
            size *= d
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))
    return path
