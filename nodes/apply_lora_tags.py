from __future__ import annotations

from typing import Any

import folder_paths
from comfy_api.latest import io

from ..services.records.read_back import resolve_lora_tags
from .comfy import CATEGORY, apply_loras


class ApplyLoraTags(io.ComfyNode):
    """Applies the LoRAs a saved image names, at their weights: the reproduction's LoRA step, which a fixed
    chain of core LoRA loaders cannot express (the count and names come from the image)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentApplyLoraTags",
            display_name="Apply LoRA Tags",
            category=CATEGORY,
            description="Applies every <lora:name:weight> tag in the text with ComfyUI's LoRA loader (model and "
            "CLIP at the same weight), e.g. the loras output of Load Generation Metadata.",
            inputs=[
                io.Model.Input("model"),
                io.Clip.Input("clip"),
                io.String.Input("loras", default="", multiline=True,
                                tooltip="<lora:name:weight> tags; names match files in the loras folder by "
                                "path, file name or stem."),
            ],
            outputs=[
                io.Model.Output("model_with_loras", display_name="MODEL"),
                io.Clip.Output("clip_with_loras", display_name="CLIP"),
                io.String.Output("explanation", display_name="explanation"),
            ],
        )

    @classmethod
    def execute(cls, model: Any, clip: Any, loras: str = "") -> io.NodeOutput:
        found, notes = resolve_lora_tags(loras, folder_paths.get_filename_list("loras"))
        model, clip = apply_loras(model, clip, found, "Apply LoRA Tags", "re-download it or remove its tag")
        lines = [f"LoRA {name} at {weight:g}" for name, weight in found] or ["No LoRA tags: model and CLIP unchanged."]
        text = "\n".join(lines + notes)
        return io.NodeOutput(model, clip, text, ui={"text": [text]})
